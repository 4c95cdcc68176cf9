package kafka

import (
	"cmp"
	"context"
	"errors"
	"runtime"
	"sync"

	"github.com/millrace-dev/millrace/pipeline/engine"
)

// Process handles one record handed out by Consume: engine.Engine.Process.
// It must call settle exactly once, from any goroutine and as late as it
// likes (when its outputs are acknowledged, say): a Result that is Done
// acks the record; one that is not hands it out again after
// NackResendSleep, before any later record of its lane. Until settled, the
// record counts against MaxInFlight and its offset is not committed. A
// record handed out again is the same *engine.Record (its Attempts
// counted), as Watermill subscribers keep a message on redelivery.
type Process func(rec *engine.Record, settle func(engine.Result))

// workBatch is how many handed-out records a worker takes at once: enough
// to make the hand-off cheap, few enough to spread a poll over the workers.
const workBatch = 32

// noCancel is the context cancel of messages that Consume hands out.
func noCancel() {}

// Consume is Subscribe without a channel: the subscriber's workers call
// process for every record, with the same ordering, window, commits and
// shutdown as Subscribe. Settling through a callback rather than
// Message.Ack lets a processor ack when its asynchronous writes are
// acknowledged, so that a worker never waits on the network and no
// goroutine is started per record. workers <= 0 means four per CPU.
//
// The returned channel yields one value and is closed when the
// subscription has ended (ctx cancelled, Close, or in bounded-range mode
// every range complete or a fetch error that ends the read), what was in
// flight has finished or timed out, the offsets are committed and every
// worker has returned: nil, or what went wrong (the fetch error, a
// shutdown that timed out with records in flight, a last commit that
// failed).
func (s *ConcurrentSubscriber) Consume(ctx context.Context, topic string, workers int, process Process) (<-chan error, error) {
	if process == nil {
		return nil, errors.New("consume: no process function")
	}
	if workers <= 0 {
		workers = 4 * runtime.GOMAXPROCS(0)
	}
	sub, err := s.start(ctx, topic, func(sub *stream) {
		sub.work = make(chan *handOuts, workers)
		sub.process = process
	})
	if err != nil {
		return nil, err
	}
	var wg sync.WaitGroup
	wg.Add(workers)
	for range workers {
		go func() {
			defer wg.Done()
			for batch := range sub.work {
				for _, p := range batch.ps {
					sub.handOut(p)
				}
				if sub.cfg.Pipelined {
					// Their outputs are with the producer: their lanes
					// may go on, in one event for the batch.
					sub.acks.push(ackEvent{released: batch})
				} else {
					batch.recycle()
				}
			}
		}()
	}
	done := make(chan error, 1)
	go func() {
		<-sub.ended
		wg.Wait()
		done <- sub.err
		close(done)
	}()
	return done, nil
}

// handOut calls process for a record. The first time, it converts the
// record (unless Skip did) and rewrites it, and waits on the Limiter; a
// wait cut short by a stop settles the record as not done, unprocessed.
func (s *stream) handOut(p pending) {
	rec := p.rec
	if rec == nil {
		rec, _ = s.record(p.e)
		if lim := s.cfg.Limiter; lim != nil && lim.Wait(s.readCtx) != nil {
			s.settler(p, rec)(engine.Result{})
			return
		}
	}
	if p.e.poisoned {
		// Not processed: the runner died with it in flight too often.
		s.cfg.Poisoned(rec, p.e.crashes, s.settler(p, rec))
		return
	}
	s.process(rec, s.settler(p, rec))
}

// settler returns the settle function of a record handed out by Consume:
// its entry's, made once for the entry's life (entries are recycled), not a
// closure per hand-out. The entry keeps the hand-out's window, run and
// record for it: one run of a record is in flight at a time (a lane
// rewinds, and a nacked record is handed out again, only once it is
// settled), and the entry is recycled only once it is acked.
func (s *stream) settler(p pending, rec *engine.Record) func(engine.Result) {
	e := p.e
	e.runW, e.runGen, e.runRec = p.w, p.gen, rec
	if e.settle == nil {
		e.settle = func(res engine.Result) { s.settled(e, res) }
	}
	return e.settle
}

// settled queues the settlement of e's run in flight for the loop. After
// the push the loop may hand e out again or recycle it: nothing of e is
// read after it.
func (s *stream) settled(e *entry, res engine.Result) {
	ev := ackEvent{e: e, w: e.runW, gen: e.runGen, rec: e.runRec, nack: !res.Done}
	if res.Stall && !res.Done {
		ev.stall = cmp.Or(res.Err, errStalled)
	}
	s.acks.push(ev)
}
