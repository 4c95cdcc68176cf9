package pipeline

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/millrace-dev/millrace/pipeline/config"
	"github.com/millrace-dev/millrace/pipeline/engine"
	"github.com/millrace-dev/millrace/pipeline/kafka"
)

// consumeAll runs the pipelines on Millrace's Kafka adapter: each
// pipeline's consumer hands its records to a few workers that call the
// pipeline's engine, which hands the outputs to the runner's one batching
// producer and settles each record when they are acknowledged. No
// goroutine waits on the network, and the outputs of many records share
// produce batches.
func (r *Runner) consumeAll(ctx context.Context, brokers []string) error {
	k := r.cfg.Kafka
	bp, err := kafka.NewBatchPublisher(kafka.BatchPublisherConfig{Brokers: brokers, ClientID: k.ClientID, Linger: k.ProducerLinger, MaxMessageBytes: k.MaxMessageBytes, TopicMaxMessageBytes: r.topicMaxMessageBytes(ctx, brokers), Security: r.sec})
	if err != nil {
		return err
	}
	defer bp.Close()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	f := r.newFleet(ctx, brokers, bp)
	for _, p := range r.pipelines {
		if err := f.start(r.cfg, p); err != nil {
			cancel()
			f.waitAll()
			return errors.Join(err, f.closers.close())
		}
	}
	for !f.empty() {
		select {
		case run := <-f.exited:
			f.exit(run)
			continue
		case <-r.reloads:
			f.reload()
			continue
		case <-ctx.Done():
		}
		r.log.Info("shutting down", "timeout", r.cfg.Runner.ShutdownTimeout.String())
		r.obs.ShuttingDown()
		// Each subscription stops within the shutdown timeout, but a
		// worker may still wait on the producer (its buffer full of
		// records for a broker that is gone): then the produces fail.
		all := make(chan struct{})
		go func() { f.waitAll(); close(all) }()
		select {
		case <-all:
		case <-time.After(r.cfg.Runner.ShutdownTimeout + abortGrace):
			r.log.Warn("shutdown timeout: outputs not acknowledged are abandoned; their records stay uncommitted")
			bp.Abort()
			<-all
		}
		break
	}
	if f.ended != nil {
		// A shutdown timed out: what the producer still holds belongs to
		// records that stay uncommitted.
		bp.Abort()
	}
	return errors.Join(f.ended, f.closers.close(), r.failure())
}

// topicMaxMessageBytes are the max.message.bytes of the output topics
// the config names, for the producer (BatchPublisherConfig): the records
// of a topic that takes less than kafka.producer.max_message_bytes go in
// batches that its limit bounds, so that a too-large record is refused
// alone, not with the records batched with it. Topics computed by routes,
// and those of pipelines a reload adds, are not known in advance: theirs
// is the producer's limit. Dead-letter topics are left out: one with a
// small limit would refuse every output; its refusals stall the
// partitions they come from instead (nothing is dead-lettered wrongly).
func (r *Runner) topicMaxMessageBytes(ctx context.Context, brokers []string) map[string]int {
	k := r.cfg.Kafka
	var topics []string
	for _, p := range r.pipelines {
		topics = append(topics, p.Output.Topics()...)
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	limits, err := kafka.TopicMaxMessageBytes(ctx, brokers, k.ClientID, r.sec, topics...)
	if err != nil {
		r.log.Warn("cannot read the output topics' max.message.bytes; the producer's batches are bounded by kafka.producer.max_message_bytes alone", "error", err.Error())
		return nil
	}
	configured := k.MaxMessageBytes
	if configured <= 0 {
		configured = config.DefaultMaxMessageBytes
	}
	narrow, least := 0, configured
	for _, n := range limits {
		if n < configured {
			narrow, least = narrow+1, min(least, n)
		}
	}
	if narrow > 0 {
		r.log.Info("producer batches of output topics that take less than kafka.producer.max_message_bytes are bounded by their max.message.bytes",
			"topics", narrow, "smallest", least, "configured", configured)
	}
	return limits
}

// abortGrace is how long after the shutdown timeout the runner waits for
// workers before failing the produces they wait on.
const abortGrace = 2 * time.Second

// consume starts one pipeline; the channel yields how its subscription
// ended (see ConcurrentSubscriber.Consume) once it has stopped and
// committed.
func (r *Runner) consume(ctx context.Context, cfg *config.Config, p *config.Pipeline, brokers []string, bp *kafka.BatchPublisher) (<-chan error, func() error, error) {
	// A record the runner died with too often (input.max_crashes) goes
	// to the dead-letter topic unprocessed, through the engine, which is
	// built before the subscription starts.
	var eng *engine.Engine
	poisoned := func(rec *engine.Record, crashes int, settle func(engine.Result)) {
		eng.DeadLetter(rec, kafka.CrashReason(crashes), settle)
	}
	sub, err := r.concurrentSubscriber(p, brokers, poisoned)
	if err != nil {
		return nil, nil, err
	}
	ctx, halt := context.WithCancel(ctx)
	op := r.obs.Pipeline(p.Name)
	opts := EngineOptions{
		Producer:   bp,
		Halt:       func(err error) { r.stop(p, halt, err) },
		Subscriber: typeName(sub),
		Logger:     r.log.With("pipeline", p.Name),
		// Lanes are pipelined (see concurrentSubscriber): a failed
		// produce rewinds its lane instead of being retried alone.
		NoProduceRetry: sub.Pipelined(),
		// Neither the consumer nor the BatchPublisher keeps a settled
		// record's outputs.
		ReuseWork: true,
	}
	ctl := &control{name: p.Name, sub: sub, op: op, log: r.log}
	opts.Observer = r.budgeted(p, op, ctl)
	if m := r.obs.HandlerMetrics(p.Name); m != nil {
		opts.Middleware = []message.HandlerMiddleware{m}
	}
	var closeParts func() error
	eng, closeParts, err = Engine(cfg, p, opts)
	if err != nil {
		halt()
		return nil, nil, err
	}
	done, err := sub.Consume(ctx, p.Input.Topic, 0, eng.Process)
	if err != nil {
		halt()
		return nil, nil, errors.Join(fmt.Errorf("pipeline %s: %w", p.Name, err), closeParts())
	}
	started := make(chan struct{})
	close(started)
	op.Watch(started, sub)
	r.controls.add(ctl)
	finished := make(chan error, 1)
	go func() {
		err := <-done
		r.controls.remove(ctl)
		halt()
		if err != nil {
			err = fmt.Errorf("pipeline %s: %w", p.Name, err)
		}
		finished <- err
	}()
	return finished, closeParts, nil
}

// concurrentSubscriber returns Millrace's consumer for a pipeline's input.
func (r *Runner) concurrentSubscriber(p *config.Pipeline, brokers []string, poisoned func(*engine.Record, int, func(engine.Result))) (*kafka.ConcurrentSubscriber, error) {
	op := r.obs.Pipeline(p.Name)
	ordering, err := kafka.ParseOrdering(p.Input.Ordering)
	if err != nil {
		return nil, fmt.Errorf("pipeline %s: %w", p.Name, err)
	}
	// The engine hands a record's outputs to the producer before Process
	// returns, in order: the next record of a lane (key, partition) may
	// run while they are on their way.
	sc := kafka.ConcurrentSubscriberConfig{
		Brokers:                brokers,
		ClientID:               r.cfg.Kafka.ClientID,
		Group:                  p.Input.Group,
		Start:                  p.Input.Start,
		Ordering:               ordering,
		Pipelined:              ordering != kafka.OrderNone,
		MaxInFlight:            p.Input.MaxInFlight,
		CommitInterval:         p.Input.CommitInterval,
		MaxCrashes:             p.Input.MaxCrashes,
		Poisoned:               poisoned,
		OnStall:                op.Stalled,
		FetchMaxBytes:          r.cfg.Kafka.FetchMaxBytes,
		FetchMaxPartitionBytes: r.cfg.Kafka.FetchMaxPartitionBytes,
		ShutdownTimeout:        r.cfg.Runner.ShutdownTimeout,
		// The engine reuses its works (consume), and neither it nor the
		// BatchPublisher keeps anything of a settled record.
		RecycleRecords: true,
		Logger:         r.log.With("pipeline", p.Name),
		Security:       r.sec,
	}
	if lim := inputLimiter(p); lim != nil {
		sc.Limiter = lim
	}
	return kafka.NewConcurrentSubscriber(sc)
}
