package kafka

import (
	"context"
	"errors"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/millrace-dev/millrace/pipeline/engine"
)

// Subscribe consumes topic until ctx is cancelled or the subscriber closed
// (or, in bounded-range mode, until every range is complete): Millrace's
// consumer as a Watermill subscriber. Each record is a message whose
// context carries the typed record (engine.RecordOf) and ends when the
// subscription does; acking it settles the record done, nacking it hands
// it out again after NackResendSleep. A Limiter is refused: Subscribe
// hands records out from the loop, which must not wait.
func (s *ConcurrentSubscriber) Subscribe(ctx context.Context, topic string) (<-chan *message.Message, error) {
	if s.cfg.Limiter != nil {
		return nil, errors.New("subscribe: a Limiter needs Consume")
	}
	if s.cfg.Poisoned != nil {
		return nil, errors.New("subscribe: Poisoned needs Consume")
	}
	sub, err := s.start(ctx, topic, func(sub *stream) { sub.out = make(chan *message.Message) })
	if err != nil {
		return nil, err
	}
	return sub.out, nil
}

// pending queues e for handing out: rec is the record handed out before,
// nil the first time. Subscribe's message is built here, with a context
// that ends when the subscription does; Consume's workers convert the
// record themselves (see Consume), so that the loop's share stays small.
func (s *stream) pending(e *entry, w *window, rec *engine.Record) pending {
	p := pending{e: e, w: w, gen: e.gen, rec: rec, again: rec != nil, cancel: noCancel}
	if s.work != nil {
		return p
	}
	if rec == nil {
		p.rec, e.id = s.record(e)
	}
	id := e.id
	if id == "" {
		id = MessageID(p.rec)
	}
	ctx, cancel := context.WithCancel(s.msgCtx)
	p.msg, p.cancel = engine.InputMessage(ctx, id, p.rec), cancel
	return p
}

// record is the engine record of e for its first hand-out: the one Skip
// looked at, or converted now; then rewritten. The string is its
// Watermill UUID from the UUIDHeader header with KeepUUID, else "".
func (s *stream) record(e *entry) (*engine.Record, string) {
	rec, id := e.in, e.id
	if rec == nil {
		rec, id = fromKafka(&e.conv, e.headers[:], e.rec, s.keepUUID())
	}
	if s.cfg.Rewrite != nil {
		s.cfg.Rewrite(rec)
	}
	return rec, id
}

// keepUUID reports whether records keep their UUIDHeader header (Consume)
// or give it to their message (Subscribe with KeepUUID).
func (s *stream) keepUUID() bool { return s.cfg.KeepUUID && s.out != nil }

// watch waits for the outcome of a handed-out message.
func (s *stream) watch(p pending) {
	defer p.cancel()
	var ev ackEvent
	select {
	case <-p.msg.Acked():
		ev = ackEvent{e: p.e, w: p.w, gen: p.gen, rec: engine.RecordOf(p.msg)}
	case <-p.msg.Nacked():
		ev = ackEvent{e: p.e, w: p.w, gen: p.gen, rec: engine.RecordOf(p.msg), nack: true}
	case <-s.done:
		return
	}
	s.acks.push(ev)
}
