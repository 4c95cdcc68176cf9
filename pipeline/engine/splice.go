package engine

import (
	"context"
	"sync"

	"github.com/millrace-dev/millrace/transforms"
	"github.com/millrace-dev/millrace/transforms/codec"
)

// The spliced path. When every step of the chain declares the top-level
// fields it touches (transforms.TopLevel), the engine scans the input
// object without decoding it, decodes only those fields into the object
// the chain runs on, and writes the output from the input's bytes: the
// members the chain does not touch copied as read, in input order, the
// ones it changed encoded in their place, the ones it added after them
// in sorted order (codec.Edit). A record the scan declines (not an
// object, invalid JSON, invalid UTF-8, repeated or escaped keys) takes the
// full path, so that its dead letter carries the same error as before.

var objects = sync.Pool{New: func() any { return new(codec.Object) }}

// spliced runs w's input through the spliced path. done false: the record
// must take the full path (nothing was recorded in w).
func (e *Engine) spliced(ctx context.Context, w *work) (done bool, err error) {
	in := w.in
	obj := objects.Get().(*codec.Object)
	defer func() {
		obj.Reset()
		objects.Put(obj)
	}()
	if obj.Scan(in.Value) != nil {
		return false, nil
	}
	m, err := e.edit.DecodeInto(obj, w.m)
	if err != nil {
		return false, nil
	}
	if e.cfg.ReuseWork {
		w.m = m
	}
	rec := &w.rec
	*rec = transforms.Record{Key: in.Key, Value: m, Headers: w.cloneHeaders(), Timestamp: in.Timestamp, Source: in.source()}
	outs, err := e.head.Run(ctx, rec)
	if err != nil {
		return true, e.dataError(w, err)
	}
	if len(outs) == 0 {
		e.obs.Filtered()
		return true, nil
	}
	v, ok := outs[0].Value.(map[string]any)
	if len(outs) > 1 || !ok {
		return false, nil // a step broke its TopLevel promise: run it whole
	}
	o := outs[0]
	topic, err := e.cfg.Destination(o)
	if err != nil {
		return true, e.dataError(w, &routeError{err})
	}
	value, err := e.edit.Splice(w.outputBuffer(len(in.Value)+len(in.Value)/4+16), obj, v)
	if codec.ErrUnspliced(err) {
		return false, nil
	}
	if err != nil {
		return true, e.dataError(w, err)
	}
	if e.cfg.ReuseWork {
		w.buf = value[:0]
	}
	if obs := e.cfg.Chain.Observe; obs != nil {
		for _, s := range e.folded {
			obs(s, -1, 1, nil) // applied by the splice: counted, not timed
		}
	}
	w.out = Record{Topic: topic, Key: o.Key, Value: value, Headers: o.Headers, Timestamp: o.Timestamp}
	w.one[0] = &w.out
	w.outs = w.one[:]
	return true, nil
}

// outputBuffer is room for an output of about n bytes: the buffer of the
// work's last record when it is reused and large enough.
func (w *work) outputBuffer(n int) []byte {
	if cap(w.buf) >= n {
		return w.buf[:0]
	}
	return make([]byte, 0, n)
}
