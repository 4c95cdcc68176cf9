package kafka

import (
	"context"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/millrace-dev/millrace/pipeline/engine"
)

// Subscribe consumes topic until ctx is cancelled or the subscriber closed.
func (s *ConcurrentSubscriber) Subscribe(ctx context.Context, topic string) (<-chan *message.Message, error) {
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
	if s.work != nil {
		return pending{e: e, w: w, rec: rec, cancel: noCancel}
	}
	var id string
	if rec == nil {
		rec, id = fromKafka(e.rec, s.cfg.KeepUUID)
	} else if s.cfg.KeepUUID {
		_, id = fromKafka(e.rec, true)
	}
	if id == "" {
		id = MessageID(rec)
	}
	ctx, cancel := context.WithCancel(s.msgCtx)
	return pending{msg: engine.InputMessage(ctx, id, rec), e: e, w: w, rec: rec, cancel: cancel}
}

// watch waits for the outcome of a handed-out message.
func (s *stream) watch(p pending) {
	defer p.cancel()
	var ev ackEvent
	select {
	case <-p.msg.Acked():
		ev = ackEvent{e: p.e, w: p.w}
	case <-p.msg.Nacked():
		ev = ackEvent{e: p.e, w: p.w, rec: engine.RecordOf(p.msg), nack: true}
	case <-s.done:
		return
	}
	select {
	case s.acks <- ev:
	case <-s.done:
	}
}
