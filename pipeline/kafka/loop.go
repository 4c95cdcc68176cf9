package kafka

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/millrace-dev/millrace/pipeline/engine"
	"github.com/twmb/franz-go/pkg/kgo"
)

// stream is one Subscribe or Consume call: a franz-go client, a poller
// goroutine and the loop goroutine that owns every window.
type stream struct {
	cfg    *ConcurrentSubscriberConfig
	topic  string
	cl     *kgo.Client
	log    *slog.Logger
	ranges *ranges // bounded-range mode; nil in group mode
	// readCtx ends when the stream stops reading: polls and Limiter
	// waits return.
	readCtx  context.Context
	stopRead context.CancelFunc

	out       chan *message.Message // Subscribe: messages one by one
	work      chan *handOuts        // Consume: batches for the workers
	process   Process
	polled    chan []*kgo.Record
	failed    chan error // a fetch error that ends the read: a bounded read's, or TLS or SASL failing for good
	acks      *ackQueue  // settlements, for the loop (ackqueue.go)
	spareAcks []ackEvent // the loop's other slice for acks.take
	rebalance chan rebalanceEvent
	committed chan commitResult
	calls     chan func()   // run on the loop goroutine (Pause, Resume)
	done      chan struct{} // closed when the loop has finished: no more acks are taken
	ended     chan struct{} // closed when out is closed and the client too
	// msgCtx is the context of every handed-out message; it is cancelled
	// when the subscription has ended.
	msgCtx     context.Context
	cancelMsgs context.CancelFunc

	// owned by the loop goroutine
	windows    map[int32]*window
	toSend     queue[pending]
	offered    *handOuts // the batch offered to the workers, toSend's first records
	offeredLen int       // its records: read once a worker may have it
	ready      []*entry  // dispatch's, for window.next
	buffered   int
	revokes    []*revokeWait
	err        error // why the subscription ended badly, set before done is closed
	committing bool  // an asynchronous commit is in flight
	lastCommit time.Time
	commitWake *time.Timer // wakes the loop for a commit held back by CommitInterval
	stopping   bool        // the subscription is finishing what is in flight
	stalled    int         // windows stalled on a record (stall.go)
	incomplete int         // bounded ranges not complete yet
	paused     bool        // Pause: nothing fetched or handed out beyond what was
	recycles   bool        // fetched records go back to a fetchPool (recycle.go)
	// freeEntries are the windows' recycled entries (recycle.go).
	freeEntries []*entry
	// touched is what the touch functions loaded (touch.go); unread.
	touched int
}

type pending struct {
	msg    *message.Message // built by the loop for Subscribe
	rec    *engine.Record   // a record handed out again: the same one, attempts counted
	again  bool             // handed out before
	e      *entry
	w      *window
	gen    int                // the run of e handed out (see entry.gen)
	cancel context.CancelFunc // ends the message's context once it is settled
}

type ackEvent struct {
	e      *entry
	w      *window
	gen    int            // the run of e settled
	rec    *engine.Record // the settled record, for a resend or a rewind
	nack   bool           // the handler failed: hand the record out again later
	resend bool           // the pause after a nack is over
	// released are records whose process calls returned (Pipelined):
	// their lanes may go on.
	released *handOuts
	// resume is a lane of w whose rewind's pause is over.
	resume *lane
	// stall is why the record cannot be written for now (nack): its
	// partition stalls at it (stall.go).
	stall error
}

// pollMax is the most records one poll hands the loop.
const pollMax = 10_000

// poll feeds fetched records to the loop; the loop stops taking them while
// its buffer is full, which stops the fetching. A fetch error that ends a
// bounded read (see fatal) goes to the loop and ends the polling; the
// others are logged, and the client retries.
func (s *stream) poll() {
	ctx := s.readCtx
	for {
		fs := s.cl.PollRecords(ctx, pollMax)
		if ctx.Err() != nil || fs.IsClientClosed() {
			return
		}
		var end error
		fs.EachError(func(t string, p int32, err error) {
			switch {
			case errors.Is(err, context.Canceled):
			case s.cfg.Security.Err() != nil:
				// TLS or SASL failed for good: the read ends with the
				// Security's error, which names the broker and the cause.
				end = cmp.Or(end, s.cfg.Security.Err())
			case s.ranges != nil && fatal(err):
				end = cmp.Or(end, fmt.Errorf("read %s partition %d: %w", t, p, err))
			default:
				s.log.Warn("fetch failed", "partition", p, "error", err.Error())
			}
		})
		if end != nil {
			s.fail(end)
			return
		}
		recs := fs.Records()
		if len(recs) == 0 {
			continue
		}
		select {
		case s.polled <- recs:
		case <-ctx.Done():
			return
		}
	}
}

// fail ends the read with err, unless an error already does.
func (s *stream) fail(err error) {
	select {
	case s.failed <- err: // buffered: the first error
	default:
	}
}

// maxBuffered bounds the polled records not yet acked: twice what may be in
// flight, so that a partition's window refills while the next poll is on
// its way.
func (s *stream) maxBuffered() int {
	return max(1024, 2*s.cfg.MaxInFlight*max(1, len(s.windows)))
}

// run is the loop: it owns the windows, hands out messages, takes acks,
// commits, and handles rebalances and the shutdown.
func (s *stream) run(ctx context.Context, closing <-chan struct{}) {
	tick := time.NewTicker(s.cfg.RetryInterval)
	defer tick.Stop()
	s.commitWake = time.NewTimer(time.Hour)
	s.commitWake.Stop()
	defer s.commitWake.Stop()
	var deadline <-chan time.Time // set when stopping
	stop := func() {
		if deadline == nil {
			deadline = time.After(s.cfg.ShutdownTimeout)
			s.beginStop()
			ctx, closing = context.Background(), nil
		}
	}
	for {
		if s.ranges != nil && s.incomplete == 0 && deadline == nil {
			// Every range is read and settled: the read ends by itself.
			s.ranges.complete()
			stop()
		}
		if deadline != nil && s.stopped() {
			s.end()
			return
		}
		var polled chan []*kgo.Record
		if deadline == nil && s.buffered-s.parked() < s.maxBuffered() {
			polled = s.polled
		}
		var out chan *message.Message
		var next *message.Message
		var work chan *handOuts
		var batch *handOuts
		if s.toSend.len() > 0 {
			if s.work != nil {
				work, batch = s.work, s.batch()
			} else {
				out, next = s.out, s.toSend.front().msg
			}
		}
		select {
		case recs := <-polled:
			s.add(recs)
		case out <- next:
			p := s.toSend.front()
			s.toSend.pop()
			s.delivered(p)
			go s.watch(p)
		case work <- batch:
			s.batchTaken() // batch is the worker's now
		case <-s.acks.wake:
			s.settleQueued()
		case err := <-s.failed:
			s.log.Warn("read ended", "error", err.Error())
			if s.ranges != nil {
				s.ranges.fail(err)
			}
			s.err = err
			stop()
		case ev := <-s.rebalance:
			s.onRebalance(ev)
		case res := <-s.committed:
			s.onCommitted(res)
		case <-tick.C:
			// Wakes the loop for revocations that timed out and for
			// commits that failed.
		case <-s.commitWake.C:
		case f := <-s.calls:
			f()
		case <-ctx.Done():
			stop()
		case <-closing:
			stop()
		case <-deadline:
			n, undone := s.inflight(), "not committed"
			if s.ranges != nil {
				undone = "not done"
			}
			s.log.Warn("shutdown timeout: records still in flight are "+undone, "in_flight", n)
			s.err = errors.Join(s.err, fmt.Errorf("shutdown timeout: %d record(s) of %s were still in flight and are %s", n, s.topic, undone))
			s.end()
			return
		}
		s.finishRevokes(false)
		if !s.committing {
			if wait := s.cfg.CommitInterval - time.Since(s.lastCommit); wait > 0 {
				s.commitWake.Reset(wait)
			} else {
				s.commit(false)
			}
		}
		s.dispatch()
	}
}

// beginStop stops fetching and limits every partition to the records up to
// the highest one handed out; the loop goes on until those are done.
func (s *stream) beginStop() {
	s.stopping = true
	s.stopRead()
	for _, w := range s.windows {
		w.finish()
	}
	s.dropQueued(func(p pending) bool { return p.e.rec.Offset > p.w.limit })
}

// stopped reports whether every partition finished its records.
func (s *stream) stopped() bool {
	for _, w := range s.windows {
		if !w.finished() {
			return false
		}
	}
	return true
}

// end commits, closes the output channel, leaves the group and closes the
// client.
func (s *stream) end() {
	if err := s.commit(true); err != nil && s.err == nil {
		s.err = fmt.Errorf("the last offset commit of %s failed; a restart processes again what was done since the one before: %w", s.topic, err)
	}
	if s.detectCrashes() {
		s.restoreCrashes(s.idle())
	}
	s.unstallAll()
	close(s.done)
	if s.out != nil {
		close(s.out)
	}
	if s.work != nil {
		close(s.work)
	}
	s.cancelMsgs()
	s.finishRevokes(true)
	s.cl.Close()
	close(s.ended)
}

// add puts polled records into their partitions' windows. A control
// record, and a record Skip skips, is settled on arrival; the record Skip
// looked at is kept for the hand-out, so that it is converted once.
func (s *stream) add(recs []*kgo.Record) {
	for _, r := range recs {
		w := s.windows[r.Partition]
		if w == nil || w.revoked {
			s.recycle(r)
			continue // not (or no longer) assigned here
		}
		var in *engine.Record
		var id string
		done, skipped := r.Attrs.IsControl(), false
		if !done && s.cfg.Skip != nil {
			in, id = fromKafka(new(engine.Record), nil, r, s.keepUUID())
			skipped = s.cfg.Skip(in)
			done = skipped
		}
		before := w.buffered()
		e := w.add(r, done)
		s.buffered += w.buffered() - before
		if e != nil {
			e.in, e.id = in, id
			if skipped {
				w.prog.count(countSkipped)
			}
		} else {
			s.recycle(r) // not taken
		}
		s.track(w)
		s.recycleDrained(w)
	}
}

// delivered counts a record handed out for the first time.
func (s *stream) delivered(p pending) {
	if !p.again {
		p.w.prog.count(countDelivered)
	}
}

// dispatch queues every record its window lets run.
func (s *stream) dispatch() {
	for p, w := range s.windows {
		if w.revoked {
			continue
		}
		if w.gate >= 0 && w.commit.Offset > w.gate {
			// The record that ran alone is done: its offset is committed
			// (which resets its crash count) before the others run, so
			// that a crash of theirs is not counted against it.
			s.commitSync([]int32{p})
			w.gate = -1
		}
		s.ready = w.next(s.ready[:0])
		for _, e := range s.ready {
			var again *engine.Record
			if e.gen > e.first {
				again = e.last // a rewind runs it again
			}
			s.toSend.push(s.pending(e, w, again))
		}
		clear(s.ready)
		s.rewinds(w)
	}
}

func (s *stream) settle(ev ackEvent) {
	switch {
	case ev.released != nil:
		s.touched += touchReleased(ev.released.ps)
		for _, p := range ev.released.ps {
			p.w.release(p.e, p.gen)
		}
		ev.released.recycle()
		return
	case ev.resume != nil:
		if !s.stopping && !ev.w.revoked && s.windows[ev.w.partition] == ev.w {
			ev.w.resume(ev.resume)
		}
		// Else the lane is not run again: the partition is gone, or the
		// subscription is stopping, which only finishes what is in
		// flight. Its records stay uncommitted.
		return
	}
	if ev.rec != nil {
		ev.e.last = ev.rec
	}
	if ev.stall != nil && ev.e.lane == nil {
		s.stallAt(ev.w, ev.e, ev.stall)
	}
	if ev.e.lane != nil {
		before := ev.w.buffered()
		ev.w.settle(ev.e, ev.gen, !ev.nack)
		if ev.stall != nil {
			s.stallAt(ev.w, ev.e, ev.stall)
		}
		if ev.nack && ev.w.stall >= 0 {
			ev.w.unqueueRewinding()
		}
		if s.windows[ev.w.partition] == ev.w {
			s.buffered += ev.w.buffered() - before
		}
		if !ev.nack && ev.e.acked && !ev.e.counted {
			ev.e.counted = true
			ev.w.prog.count(countAcked)
		}
		s.unstallDone(ev.w, ev.w.partition)
		s.rewinds(ev.w)
		s.track(ev.w)
		return
	}
	if ev.nack {
		// A record with no lane: hand the same record out again after a
		// pause.
		time.AfterFunc(s.pause(ev.w), func() {
			s.acks.push(ackEvent{e: ev.e, w: ev.w, rec: ev.rec, resend: true})
		})
		return
	}
	if ev.resend {
		if s.stopping || ev.w.revoked || s.windows[ev.w.partition] != ev.w {
			// Not handed out again: the partition is gone, or the
			// subscription is stopping, which only finishes what is in
			// flight. The record stays uncommitted.
			ev.w.inflight--
			return
		}
		// The same record is handed out again, its attempts counted.
		s.toSend.push(s.pending(ev.e, ev.w, ev.rec))
		return
	}
	before := ev.w.buffered()
	ev.w.ack(ev.e)
	if s.windows[ev.w.partition] == ev.w {
		s.buffered += ev.w.buffered() - before
	}
	ev.w.prog.count(countAcked)
	s.unstallDone(ev.w, ev.w.partition)
	s.track(ev.w)
}

// rewinds schedules the end of the pause of every rewinding lane of w
// whose records have all settled.
func (s *stream) rewinds(w *window) {
	for _, l := range w.rewinds {
		time.AfterFunc(s.pause(w), func() {
			s.acks.push(ackEvent{w: w, resume: l})
		})
	}
	clear(w.rewinds)
	w.rewinds = w.rewinds[:0]
}

// dropQueued takes the queued messages for which drop holds off the queue:
// they were counted in flight but never handed out.
func (s *stream) dropQueued(drop func(pending) bool) {
	s.unbatch()
	s.toSend.keep(func(p pending) bool {
		if drop(p) {
			p.w.abandon(p.e)
			p.cancel()
			return false
		}
		return true
	})
}

// idle is the partitions with nothing in flight.
func (s *stream) idle() []int32 {
	var parts []int32
	for p, w := range s.windows {
		if w.inflight == 0 {
			parts = append(parts, p)
		}
	}
	return parts
}

func (s *stream) inflight() int {
	n := 0
	for _, w := range s.windows {
		n += w.inflight
	}
	return n
}

// settleQueued takes every ack waiting, so that the loop dispatches and
// commits once for many of them.
func (s *stream) settleQueued() {
	evs := s.acks.take(s.spareAcks)
	s.touched += touchSettled(evs)
	for i := range evs {
		s.settle(evs[i])
		if w := evs[i].w; w != nil {
			s.recycleDrained(w)
		}
		evs[i] = ackEvent{}
	}
	s.spareAcks = evs
}
