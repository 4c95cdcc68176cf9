package kafka

import (
	"context"
	"errors"
	"runtime"
	"sync"

	"github.com/ThreeDotsLabs/watermill/message"
)

// Process handles one record handed out by Consume. It must call settle
// exactly once, from any goroutine and as late as it likes (after its
// outputs are acknowledged, say): settle(true) acks the record, settle(false)
// hands it out again after NackResendSleep, before any later record of its
// lane. Until settle, the record counts against MaxInFlight and its offset
// is not committed.
type Process func(msg *message.Message, settle func(ok bool))

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
// subscription has ended (ctx cancelled or Close), what was in flight has
// finished or timed out, the offsets are committed and every worker has
// returned: nil, or what went wrong at the end (a shutdown that timed out
// with records in flight, a last commit that failed).
func (s *ConcurrentSubscriber) Consume(ctx context.Context, topic string, workers int, process Process) (<-chan error, error) {
	if process == nil {
		return nil, errors.New("consume: no process function")
	}
	if workers <= 0 {
		workers = 4 * runtime.GOMAXPROCS(0)
	}
	sub, err := s.start(ctx, topic, func(sub *stream) {
		sub.work = make(chan []pending, workers)
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
				for _, p := range batch {
					msg := sub.consumed(p)
					sub.process(msg, sub.settler(p, msg))
				}
			}
		}()
	}
	done := make(chan error, 1)
	go func() {
		<-sub.done
		wg.Wait()
		done <- sub.err
		close(done)
	}()
	return done, nil
}

// consumed builds the message of a record handed out by Consume, on the
// worker rather than the loop, so that the loop's share of each record
// stays small. Settling through a callback, not Ack/Nack, it has no
// context of its own: the processor bounds its time.
func (s *stream) consumed(p pending) *message.Message {
	msg := s.message(p.e.rec)
	if p.md != nil {
		msg.Metadata = p.md
	}
	msg.SetContext(s.msgCtx)
	return msg
}

// settler returns the settle function of a record handed out by Consume.
func (s *stream) settler(p pending, msg *message.Message) func(bool) {
	return func(ok bool) {
		ev := ackEvent{e: p.e, w: p.w}
		if !ok {
			ev.msg, ev.nack = msg, true
		}
		select {
		case s.acks <- ev:
		case <-s.done:
		}
	}
}

// settleQueued takes the acks that are already waiting, so that the loop
// dispatches and commits once for many of them.
func (s *stream) settleQueued() {
	for range cap(s.acks) {
		select {
		case ev := <-s.acks:
			s.settle(ev)
		default:
			return
		}
	}
}
