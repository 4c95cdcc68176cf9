package pipeline

import (
	"context"
	"errors"
	"slices"
	"syscall"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/message/router/middleware"
	"github.com/millrace-dev/millrace/pipeline/admin"
	"github.com/millrace-dev/millrace/pipeline/config"
	"github.com/millrace-dev/millrace/pipeline/kafka"
	"github.com/millrace-dev/millrace/pipeline/observe"
)

// startObserving starts the admin server with a new observer, unless
// admin.address is off. The default address in use is a warning, not an
// error, so that a second runner on the same host still runs; a configured
// address that cannot be bound is an error. The returned function stops
// both.
func (r *Runner) startObserving() (stop func(), err error) {
	a := r.cfg.Admin
	if !a.Enabled() {
		return func() {}, nil
	}
	obs := observe.New(observe.Options{
		Version:      r.version,
		ClientID:     r.cfg.Kafka.ClientID,
		PollInterval: a.PollInterval,
		Logger:       r.log,
	})
	for _, p := range r.pipelines {
		obs.AddPipeline(p, slices.Index(r.cfg.Pipelines, p))
	}
	srv, err := admin.Start(admin.Options{Address: a.Address, Pprof: a.Pprof, Observer: obs, Logger: r.log})
	if err != nil {
		if !a.AddressSet && errors.Is(err, syscall.EADDRINUSE) {
			r.log.Warn("admin server not started: its default address is in use; set admin.address or --admin-addr",
				"addr", a.Address)
			return func() {}, nil
		}
		return nil, err
	}
	r.obs = obs
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		if err := srv.Close(ctx); err != nil {
			r.log.Warn("admin server close", "error", err.Error())
		}
		obs.Close()
	}, nil
}

// pollBrokers starts the observer's lag and group polling.
func (r *Runner) pollBrokers(brokers []string) error {
	if r.obs == nil {
		return nil
	}
	return r.obs.Start(brokers)
}

// instrument adds Watermill's metrics to the router and the publisher.
func (r *Runner) instrument(router *message.Router, pub message.Publisher) (message.Publisher, error) {
	if r.obs == nil {
		return pub, nil
	}
	r.obs.InstrumentRouter(router)
	return r.obs.InstrumentPublisher(pub)
}

// watch hooks a pipeline's handler, chain and subscriber to its observer.
func (r *Runner) watch(p *config.Pipeline, parts *config.Parts, h *message.Handler, sub message.Subscriber) {
	op := r.obs.Pipeline(p.Name)
	if op == nil {
		return
	}
	op.Watch(h.Started(), sub)
	parts.Chain.Observe = op.StepObserver()
}

// observed adds the observer's middleware to a pipeline's: inside the
// retries, each failed attempt. (Records in flight and finished are
// counted around it: recordObserver under a router, by the consumer
// otherwise.)
func (r *Runner) observed(p *config.Pipeline, mws []message.HandlerMiddleware, retryAt int) []message.HandlerMiddleware {
	op := r.obs.Pipeline(p.Name)
	if op == nil {
		return mws
	}
	return slices.Insert(slices.Clone(mws), retryAt+1, attemptObserver(op))
}

// recordObserver counts an input record in flight while the middleware
// runs, and as finished when it is acked: written, filtered or
// dead-lettered. A record that is nacked comes again and counts once.
func recordObserver(op *observe.Pipeline) message.HandlerMiddleware {
	return func(next message.HandlerFunc) message.HandlerFunc {
		return func(msg *message.Message) ([]*message.Message, error) {
			op.Begin()
			out, err := next(msg)
			op.End(err == nil)
			return out, err
		}
	}
}

// attemptObserver counts each failed attempt by the step that failed.
func attemptObserver(op *observe.Pipeline) message.HandlerMiddleware {
	return func(next message.HandlerFunc) message.HandlerFunc {
		return func(msg *message.Message) ([]*message.Message, error) {
			out, err := next(msg)
			if err != nil {
				step, index := failedStep(err)
				op.Failed(step, index, msg.Metadata.Get(kafka.MetaPartition), msg.Metadata.Get(kafka.MetaOffset), err)
			}
			return out, err
		}
	}
}

// failedStep names the step an attempt failed in: the transform (and its
// index), decode or output for data errors, panic, or publish for the
// failures that are retried.
func failedStep(err error) (string, int) {
	var de *DataError
	var pe middleware.RecoveredPanicError
	switch {
	case errors.As(err, &de):
		return de.Step, de.Index
	case errors.As(err, &pe):
		return observe.StepPanic, -1
	}
	return observe.StepPublish, -1
}

// deadLetterPublisher counts the records the poison queue writes.
type deadLetterPublisher struct {
	message.Publisher
	op *observe.Pipeline
}

// deadLetters wraps the dead-letter publisher of a pipeline.
func (r *Runner) deadLetters(p *config.Pipeline, pub message.Publisher) message.Publisher {
	op := r.obs.Pipeline(p.Name)
	if op == nil {
		return pub
	}
	return deadLetterPublisher{Publisher: pub, op: op}
}

func (d deadLetterPublisher) Publish(topic string, msgs ...*message.Message) error {
	err := d.Publisher.Publish(topic, msgs...)
	for _, m := range msgs {
		if err != nil {
			d.op.Failed(observe.StepDeadLetter, -1, m.Metadata.Get(kafka.MetaPartition), m.Metadata.Get(kafka.MetaOffset), err)
			continue
		}
		d.op.DeadLettered()
	}
	return err
}

// ensureTraceparent gives a record a W3C traceparent header when it has
// none (or an invalid one), before the chain runs, so that its outputs and
// its dead letter carry it.
func ensureTraceparent(msg *message.Message) {
	if !observe.ValidTraceparent(msg.Metadata.Get(observe.TraceparentHeader)) {
		msg.Metadata.Set(observe.TraceparentHeader, observe.NewTraceparent())
	}
}
