package pipeline

import (
	"context"
	"errors"
	"fmt"

	"github.com/ThreeDotsLabs/watermill/message"
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
	var dones []<-chan struct{}
	wait := func() {
		for _, d := range dones {
			<-d
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
		<-all
	}
	var closeErr error
	for _, p := range r.pipelines {
		closeErr = errors.Join(closeErr, p.Chain.Close())
	}
	if closeErr != nil {
		return closeErr
	}
	return r.failure()
}

// consume starts one pipeline; the channel is closed when it has stopped
// and committed.
func (r *Runner) consume(ctx context.Context, p *config.Pipeline, brokers []string, bp *kafka.BatchPublisher, pub message.Publisher) (<-chan struct{}, error) {
	sub, err := r.concurrentSubscriber(p, brokers)
	if err != nil {
		return nil, err
	}
	op := r.obs.Pipeline(p.Name)
	ctx, halt := context.WithCancel(ctx)
	pp := &pipe{cfg: p, pub: pub, log: r.log.With("pipeline", p.Name), obs: op, logPayloads: r.cfg.Runner.LogPayloads}
	mw, err := r.middleware(p, pub, halt)
	if err != nil {
		halt()
		return nil, err
	}
	if m := r.obs.HandlerMetrics(); m != nil {
		mw = append([]message.HandlerMiddleware{m}, mw...)
	}
	handler := message.HandlerFunc(pp.process)
	for i := len(mw) - 1; i >= 0; i-- {
		handler = mw[i](handler)
	}
	// Every message of the pipeline starts from this context: its values
	// name the pipeline in Watermill's metrics, as a router's would.
	base := observe.WithPipeline(context.Background(), p.Name)
	process := func(msg *message.Message, settle func(bool)) {
		msg.SetContext(base)
		op.Begin()
		outs, err := handler(msg)
		if err != nil {
			// Retries are over; the subscriber hands the record out again.
			op.End(false)
			settle(false)
			return
		}
		if len(outs) == 0 {
			op.End(true)
			settle(true)
			return
		}
		bp.PublishAsync(p.Output.Topic, outs, func(err error) {
			if err != nil {
				md := msg.Metadata
				op.Failed(observe.StepPublish, -1, md.Get(kafka.MetaPartition), md.Get(kafka.MetaOffset), err)
				pp.log.Warn("publish failed; the record will be processed again",
					"partition", md.Get(kafka.MetaPartition), "offset", md.Get(kafka.MetaOffset), "error", err.Error())
				op.End(false)
				settle(false)
				return
			}
			pp.delivered(msg, outs)
			op.End(true)
			settle(true)
		})
	}
	p.Chain.Observe = op.StepObserver()
	done, err := sub.Consume(ctx, p.Input.Topic, 0, process)
	if err != nil {
		halt()
		return nil, fmt.Errorf("pipeline %s: %w", p.Name, err)
	}
	started := make(chan struct{})
	close(started)
	op.Watch(started, sub)
	finished := make(chan struct{})
	go func() {
		<-done
		halt()
		close(finished)
	}()
	return finished, nil
}
