package engine

import (
	"fmt"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/message/router/middleware"
	"github.com/millrace-dev/millrace/pipeline/observe"
)

// StepCrash is the millrace.error.step of a record dead-lettered because
// the process died while it was in flight (see DeadLetter).
const StepCrash = observe.StepCrash

// DeadLetter sends in to the dead-letter topic unprocessed, byte for byte,
// with the usual dead-letter headers and step StepCrash: reason says why
// (a record whose processing killed the process, as its source counted).
// The chain does not run. Settle is called once, as by Process. Without a
// dead-letter topic the pipeline halts (Config.Halt) with the record not
// done, so uncommitted.
func (e *Engine) DeadLetter(in *Record, reason error, settle func(Result)) {
	e.obs.Begin()
	ensureTraceparent(in) // as every dead letter
	w := &work{workState: workState{in: in, e: e, settle: settle, fail: &DataError{Step: StepCrash, Index: -1, Err: reason}}}
	src := in.source()
	e.obs.Failed(StepCrash, -1, in.Key, src.Partition, src.Offset, reason)
	if e.cfg.DeadLetterTopic == "" {
		err := fmt.Errorf("the record at partition %d offset %d is not processed: %w; there is no dead-letter topic, so it stays uncommitted", src.Partition, src.Offset, reason)
		e.log.Error("record not processed", "partition", src.Partition, "offset", src.Offset, "error", err.Error())
		if e.cfg.Halt != nil {
			e.cfg.Halt(err)
		}
		e.obs.End(false)
		settle(Result{Err: err})
		return
	}
	e.log.Warn("record dead-lettered unprocessed", "step", StepCrash, "partition", src.Partition, "offset", src.Offset, "error", reason.Error())
	md := message.Metadata{
		middleware.ReasonForPoisonedKey:  reason.Error(),
		middleware.PoisonedTopicKey:      e.cfg.InputTopic,
		middleware.PoisonedHandlerKey:    e.cfg.Pipeline,
		middleware.PoisonedSubscriberKey: e.cfg.Subscriber,
	}
	w.outs, w.dead = []*Record{e.deadLetter(w, md)}, true
	e.produce(w, 0, nil, settle)
}
