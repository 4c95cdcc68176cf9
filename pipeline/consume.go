package pipeline

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/message/router/middleware"
	"github.com/cenkalti/backoff/v5"
	"github.com/millrace-dev/millrace/pipeline/config"
	"github.com/millrace-dev/millrace/pipeline/kafka"
	"github.com/millrace-dev/millrace/pipeline/observe"
)

// consumeAll runs the pipelines on Millrace's Kafka adapter. Each record
// goes through the same Watermill middleware and record path as under a
// router, but is driven by ConcurrentSubscriber.Consume: a few workers call
// the handler in turn for many records, and the outputs are produced
// asynchronously, the input acked when the broker acknowledged them. A
// router would start a goroutine per record and hold it for the produce
// round trip; here no goroutine waits on the network, and outputs of many
// records share produce batches.
func (r *Runner) consumeAll(ctx context.Context, brokers []string) error {
	k := r.cfg.Kafka
	bp, err := kafka.NewBatchPublisher(kafka.BatchPublisherConfig{Brokers: brokers, ClientID: k.ClientID})
	if err != nil {
		return err
	}
	defer bp.Close()
	var pub message.Publisher = bp
	if r.obs != nil {
		if pub, err = r.obs.InstrumentPublisher(bp); err != nil {
			return err
		}
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var dones []<-chan error
	var ended error // how the subscriptions ended, once all have
	wait := func() {
		for _, d := range dones {
			ended = errors.Join(ended, <-d)
		}
	}
	for _, p := range r.pipelines {
		done, err := r.consume(ctx, p, brokers, bp, pub)
		if err != nil {
			cancel()
			wait()
			return err
		}
		dones = append(dones, done)
	}
	all := make(chan struct{})
	go func() { wait(); close(all) }()
	select {
	case <-all:
	case <-ctx.Done():
		r.log.Info("shutting down", "timeout", r.cfg.Runner.ShutdownTimeout.String())
		r.obs.ShuttingDown()
		// Each subscription stops within the shutdown timeout, but a
		// worker may still wait on the producer (its buffer full of
		// records for a broker that is gone): then the produces fail.
		select {
		case <-all:
		case <-time.After(r.cfg.Runner.ShutdownTimeout + abortGrace):
			r.log.Warn("shutdown timeout: outputs not acknowledged are abandoned; their records stay uncommitted")
			bp.Abort()
			<-all
		}
	}
	if ended != nil {
		// A shutdown timed out: what the producer still holds belongs to
		// records that stay uncommitted.
		bp.Abort()
	}
	return errors.Join(ended, r.closeParts(), r.failure())
}

// abortGrace is how long after the shutdown timeout the runner waits for
// workers before failing the produces they wait on.
const abortGrace = 2 * time.Second

// consume starts one pipeline; the channel yields how its subscription
// ended (see ConcurrentSubscriber.Consume) once it has stopped and
// committed.
func (r *Runner) consume(ctx context.Context, p *config.Pipeline, brokers []string, bp *kafka.BatchPublisher, pub message.Publisher) (<-chan error, error) {
	parts, err := r.build(p)
	if err != nil {
		return nil, err
	}
	sub, err := r.concurrentSubscriber(p, brokers)
	if err != nil {
		return nil, err
	}
	op := r.obs.Pipeline(p.Name)
	ctx, halt := context.WithCancel(ctx)
	pp := &pipe{cfg: p, parts: parts, pub: pub, log: r.log.With("pipeline", p.Name), obs: op, logPayloads: r.cfg.Runner.LogPayloads}
	origin := poisonOrigin{Publisher: pub, topic: p.Input.Topic, handler: p.Name,
		subscriber: strings.TrimPrefix(fmt.Sprintf("%T", sub), "*")}
	mw, err := r.middleware(p, origin, halt, false)
	if err != nil {
		halt()
		return nil, err
	}
	if m := r.obs.HandlerMetrics(); m != nil {
		mw = append([]message.HandlerMiddleware{m}, mw...)
	}
	handler := compose(mw, pp.process)
	// Every message of the pipeline starts from this context: its values
	// name the pipeline in Watermill's metrics, as a router's would.
	base := observe.WithPipeline(context.Background(), p.Name)
	process := func(msg *message.Message, settle func(bool)) {
		msg.SetContext(base)
		op.Begin()
		outs, err := handler(msg)
		if err != nil {
			// A data error without a dead-letter topic (the pipeline
			// stops) or a dead letter that could not be written: the
			// record stays unacked and, unless the subscription is
			// stopping, is handed out again.
			op.End(false)
			settle(false)
			return
		}
		if len(outs) == 0 {
			op.End(true)
			settle(true)
			return
		}
		pp.publishOutputs(bp, msg, outs, 0, nil, func(ok bool) {
			op.End(ok)
			settle(ok)
		})
	}
	parts.Chain.Observe = op.StepObserver()
	done, err := sub.Consume(ctx, p.Input.Topic, 0, process)
	if err != nil {
		halt()
		return nil, fmt.Errorf("pipeline %s: %w", p.Name, err)
	}
	started := make(chan struct{})
	close(started)
	op.Watch(started, sub)
	finished := make(chan error, 1)
	go func() {
		err := <-done
		halt()
		if err != nil {
			err = fmt.Errorf("pipeline %s: %w", p.Name, err)
		}
		finished <- err
	}()
	return finished, nil
}

// compose wraps h in middleware, the first outermost, as a router does.
func compose(mw []message.HandlerMiddleware, h message.HandlerFunc) message.HandlerFunc {
	for i := len(mw) - 1; i >= 0; i-- {
		h = mw[i](h)
	}
	return h
}

// publishOutputs produces the outputs of msg without waiting and calls done
// when they are acknowledged (true), or when a produce failed and the
// pipeline's retries are spent (false: the record is handed out again). A
// failed produce is retried with the pipeline's exponential backoff; the
// chain does not run again. (The producer itself retries what Kafka says
// is retriable, without a time limit, so what fails here did not pass on
// its own.)
func (p *pipe) publishOutputs(bp *kafka.BatchPublisher, msg *message.Message, outs []*message.Message, attempt int, bo *backoff.ExponentialBackOff, done func(bool)) {
	bp.PublishAsync(p.cfg.Output.Topic, outs, func(err error) {
		if err == nil {
			p.delivered(msg, outs)
			done(true)
			return
		}
		md := msg.Metadata
		p.obs.Failed(observe.StepPublish, -1, md.Get(kafka.MetaPartition), md.Get(kafka.MetaOffset), err)
		rc := p.cfg.Errors.Retry
		if attempt >= rc.MaxRetries {
			p.log.Warn("publish failed and the retries are spent; the record will be processed again",
				"partition", md.Get(kafka.MetaPartition), "offset", md.Get(kafka.MetaOffset), "attempts", attempt+1, "error", err.Error())
			done(false)
			return
		}
		if bo == nil {
			bo = &backoff.ExponentialBackOff{
				InitialInterval:     rc.InitialInterval,
				RandomizationFactor: retryRandomization,
				Multiplier:          rc.Multiplier,
				MaxInterval:         rc.MaxInterval,
			}
			bo.Reset()
		}
		wait := bo.NextBackOff()
		p.log.Debug("publish failed; retrying", "partition", md.Get(kafka.MetaPartition), "offset", md.Get(kafka.MetaOffset),
			"attempt", attempt+1, "wait", wait.String(), "error", err.Error())
		time.AfterFunc(wait, func() { p.publishOutputs(bp, msg, outs, attempt+1, bo, done) })
	})
}

// poisonOrigin fills in the headers Watermill's poison queue takes from a
// router's context (the input topic, the handler and the subscriber), which
// a handler run without a router leaves empty, so that dead letters say
// the same under either.
type poisonOrigin struct {
	message.Publisher
	topic, handler, subscriber string
}

func (o poisonOrigin) Publish(topic string, msgs ...*message.Message) error {
	fill := [...][2]string{
		{middleware.PoisonedTopicKey, o.topic},
		{middleware.PoisonedHandlerKey, o.handler},
		{middleware.PoisonedSubscriberKey, o.subscriber},
	}
	for _, m := range msgs {
		for _, kv := range fill {
			if m.Metadata.Get(kv[0]) == "" {
				m.Metadata.Set(kv[0], kv[1])
			}
		}
	}
	return o.Publisher.Publish(topic, msgs...)
}
