package source

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/millrace-dev/millrace/pipeline/kafka"
	"github.com/twmb/franz-go/pkg/kgo"
)

// partition hands out the records of one partition and tracks which are
// done.
type partition struct {
	sub        *subscription
	id         int32
	start, end int64
	in         chan *kgo.Record
	exited     chan struct{} // closed when run returns
	changed    chan struct{} // a message was settled (capacity 1)

	mu sync.Mutex
	// pending holds the records handed out or skipped whose offsets are
	// not yet in the done prefix, in offset order.
	pending  []*entry
	next     int64 // every record below next is done
	sawEnd   bool  // every record below end has been taken in
	complete bool
	inflight int
	keys     map[string]int

	delivered, acked, skipped atomic.Int64
}

type entry struct {
	offset int64
	done   bool
}

func newPartition(sub *subscription, r Range) *partition {
	p := &partition{
		sub: sub, id: r.Partition, start: r.Start, end: r.End,
		in:      make(chan *kgo.Record, 256),
		exited:  make(chan struct{}),
		changed: make(chan struct{}, 1),
		next:    r.Start,
		keys:    map[string]int{},
	}
	if r.End != Unbounded && r.Start >= r.End {
		p.sawEnd, p.complete, p.next = true, true, r.Start
		close(p.exited)
	}
	return p
}

func (p *partition) done() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.complete
}

func (p *partition) progress() Progress {
	p.mu.Lock()
	defer p.mu.Unlock()
	return Progress{
		Topic: p.sub.topic, Partition: p.id, Start: p.start, End: p.end, Next: p.next,
		Delivered: p.delivered.Load(), Acked: p.acked.Load(), Skipped: p.skipped.Load(),
		Complete: p.complete,
	}
}

// run takes in the partition's records until its end, handing out each
// one that is not skipped.
func (p *partition) run() {
	sub := p.sub
	cfg := &sub.s.cfg
	defer sub.wg.Done()
	defer close(p.exited)
	for {
		var r *kgo.Record
		select {
		case r = <-p.in:
		case <-sub.stop:
			return
		}
		if r.Offset < p.start {
			continue // before the range (not expected from an assigned offset)
		}
		if p.end != Unbounded && r.Offset >= p.end {
			p.finish()
			return
		}
		if r.Attrs.IsControl() || (cfg.Skip != nil && cfg.Skip(r)) {
			if !r.Attrs.IsControl() {
				p.skipped.Add(1)
			}
			p.push(r.Offset, true)
		} else if !p.handOut(r) {
			return
		}
		if p.end != Unbounded && r.Offset >= p.end-1 {
			p.finish()
			return
		}
	}
}

// handOut waits for room in the window, then hands the record's message
// out and starts watching it. It returns false when stopping.
func (p *partition) handOut(r *kgo.Record) bool {
	sub := p.sub
	cfg := &sub.s.cfg
	key, keyed := string(r.Key), r.Key != nil && cfg.Ordering == kafka.OrderKey
	if !p.reserve(key, keyed) {
		return false
	}
	if cfg.Limiter != nil {
		if err := cfg.Limiter.Wait(sub.runCtx); err != nil {
			p.release(key, keyed)
			return false
		}
	}
	msg := cfg.Message(r)
	ctx, cancel := context.WithCancel(sub.msgCtx)
	msg.SetContext(valuesFrom{ctx, msg.Context()})
	e := p.push(r.Offset, false)
	sub.inflight.Add(1)
	select {
	case sub.out <- msg:
	case <-sub.stop:
		// Not handed out: it stays undone and is read again on resume.
		cancel()
		sub.inflight.Add(-1)
		p.release(key, keyed)
		return false
	}
	p.delivered.Add(1)
	sub.wg.Add(1)
	go p.watch(msg, cancel, e, key, keyed)
	return true
}

// reserve waits until the window has room and no message with the same
// key is in flight, then takes the place.
func (p *partition) reserve(key string, keyed bool) bool {
	window := p.sub.s.cfg.Window
	for {
		p.mu.Lock()
		if p.inflight < window && (!keyed || p.keys[key] == 0) {
			p.inflight++
			if keyed {
				p.keys[key]++
			}
			p.mu.Unlock()
			return true
		}
		p.mu.Unlock()
		select {
		case <-p.changed:
		case <-p.sub.stop:
			return false
		}
	}
}

func (p *partition) release(key string, keyed bool) {
	p.mu.Lock()
	p.inflight--
	if keyed {
		if p.keys[key]--; p.keys[key] <= 0 {
			delete(p.keys, key)
		}
	}
	p.mu.Unlock()
	select {
	case p.changed <- struct{}{}:
	default:
	}
}

// watch waits for msg to be acked. A nacked message is handed out again
// after NackDelay, unless the subscription is stopping; then, like a
// message whose drain timed out, it stays undone. A message's context is
// cancelled once it is acked or nacked.
func (p *partition) watch(msg *message.Message, cancel context.CancelFunc, e *entry, key string, keyed bool) {
	sub := p.sub
	defer sub.wg.Done()
	defer sub.inflight.Add(-1)
	for msg != nil {
		if p.settled(msg, cancel) {
			p.acked.Add(1)
			p.settle(e)
			break
		}
		msg, cancel = p.redeliver(msg)
	}
	p.release(key, keyed)
}

// settled waits for msg to be acked (true) or nacked or abandoned (false),
// then cancels its context.
func (p *partition) settled(msg *message.Message, cancel context.CancelFunc) bool {
	defer cancel()
	select {
	case <-msg.Acked():
		return true
	case <-msg.Nacked():
	case <-p.sub.msgCtx.Done():
	}
	return false
}

// redeliver hands a copy of a nacked message out after NackDelay and
// returns it with its context's cancel, or nil when stopping.
func (p *partition) redeliver(msg *message.Message) (*message.Message, context.CancelFunc) {
	sub := p.sub
	if sub.msgCtx.Err() != nil {
		return nil, nil
	}
	select {
	case <-time.After(sub.s.cfg.NackDelay):
	case <-sub.stop:
		return nil, nil
	}
	cp := msg.Copy()
	ctx, cancel := context.WithCancel(sub.msgCtx)
	cp.SetContext(valuesFrom{ctx, msg.Context()})
	select {
	case sub.out <- cp:
		return cp, cancel
	case <-sub.stop:
		cancel()
		return nil, nil
	}
}

// push records that the record at offset was taken in, done or not.
func (p *partition) push(offset int64, done bool) *entry {
	e := &entry{offset: offset, done: done}
	p.mu.Lock()
	p.pending = append(p.pending, e)
	p.advance()
	p.mu.Unlock()
	return e
}

func (p *partition) settle(e *entry) {
	p.mu.Lock()
	e.done = true
	p.advance()
	p.mu.Unlock()
}

// finish records that every record below the end was taken in.
func (p *partition) finish() {
	p.sub.pause(p.id)
	p.mu.Lock()
	p.sawEnd = true
	p.advance()
	p.mu.Unlock()
}

// advance moves next past the done prefix; p.mu is held.
func (p *partition) advance() {
	i := 0
	for i < len(p.pending) && p.pending[i].done {
		p.next = p.pending[i].offset + 1
		i++
	}
	if i > 0 {
		clear(p.pending[:i])
		p.pending = p.pending[i:]
	}
	if p.sawEnd && len(p.pending) == 0 && !p.complete {
		p.next = max(p.next, p.end)
		p.complete = true
		go p.sub.checkComplete() // takes other partitions' locks
	}
}

// valuesFrom is a message's context: cancelled with the subscription, and
// holding the values its builder put in the message's context (a typed
// record), also on redelivery.
type valuesFrom struct {
	context.Context
	values context.Context
}

func (c valuesFrom) Value(key any) any {
	if v := c.values.Value(key); v != nil {
		return v
	}
	return c.Context.Value(key)
}
