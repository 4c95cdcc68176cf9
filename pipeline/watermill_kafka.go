package pipeline

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/millrace-dev/millrace/pipeline/config"
	"github.com/millrace-dev/millrace/pipeline/engine"
	"github.com/millrace-dev/millrace/pipeline/kafka"
	"github.com/millrace-dev/millrace/pipeline/kafka/watermillkafka"
)

// runWatermillKafka runs the pipelines on Watermill's Sarama adapter
// (kafka.adapter: watermill-kafka) under a Watermill router: one handler
// per pipeline, each message taken through the pipeline's engine as on the
// default adapter, its outputs written by the Sarama publisher. The
// handler returns once the record is settled, so the router acks (and the
// offset may be committed) only then; watermill-kafka hands out one
// message per partition at a time.
func (r *Runner) runWatermillKafka(ctx context.Context, brokers []string) error {
	k := r.cfg.Kafka
	wlog := r.watermillLogger()
	sp, err := watermillkafka.NewPublisher(brokers, k.ClientID, r.sec, watermillkafka.Marshaler{}, wlog)
	if err != nil {
		return err
	}
	defer sp.Close()
	var pub message.Publisher = sp
	router, err := message.NewRouter(message.RouterConfig{CloseTimeout: r.cfg.Runner.ShutdownTimeout}, wlog)
	if err != nil {
		return err
	}
	if r.obs != nil {
		r.obs.InstrumentRouter(router)
		if pub, err = r.obs.InstrumentPublisher(pub); err != nil {
			return err
		}
	}
	prod := publisherProducer{pub}
	var closers closeList
	for _, p := range r.pipelines {
		sub, err := watermillkafka.NewSubscriber(watermillkafka.SubscriberOptions{
			Brokers:         brokers,
			ClientID:        k.ClientID,
			Group:           p.Input.Group,
			Start:           p.Input.Start,
			ShutdownTimeout: r.cfg.Runner.ShutdownTimeout,
			Security:        r.sec,
		}, wlog.With(watermill.LogFields{"pipeline": p.Name}))
		if err != nil {
			return errors.Join(fmt.Errorf("pipeline %s: %w", p.Name, err), closers.close())
		}
		var h *message.Handler
		opts := EngineOptions{
			Producer:   prod,
			Halt:       func(err error) { r.stop(p, func() { go h.Stop() }, err) },
			Subscriber: typeName(sub),
			Logger:     r.log.With("pipeline", p.Name),
		}
		if op := r.obs.Pipeline(p.Name); op != nil {
			opts.Observer = op
		}
		eng, closeParts, err := Engine(r.cfg, p, opts)
		if err != nil {
			return errors.Join(err, closers.close())
		}
		closers.add(closeParts)
		h = router.AddConsumerHandler(p.Name, p.Input.Topic, sub, settled(eng))
		if lim := inputLimiter(p); lim != nil {
			h.AddMiddleware(rateLimited(lim))
		}
		r.obs.Pipeline(p.Name).Watch(h.Started(), sub)
	}
	r.log.Info("runner starting", "pipelines", len(r.pipelines), "brokers", fmt.Sprint(brokers), "adapter", k.Adapter)
	return errors.Join(watermillkafka.Explain(r.runRouter(ctx, router), brokers, r.sec), closers.close(), r.failure())
}

// settled is a router handler that takes each message through eng and
// returns when it is settled: nil when done, else the error, which nacks
// the message for redelivery.
func settled(eng *engine.Engine) message.NoPublishHandlerFunc {
	return func(msg *message.Message) error {
		rec := engine.RecordOf(msg)
		result := make(chan engine.Result, 1)
		eng.Process(rec, func(res engine.Result) { result <- res })
		res := <-result
		// A redelivered message counts on from here.
		msg.Metadata.Set(engine.MetaAttempts, strconv.Itoa(rec.Attempts))
		if !res.Done {
			if res.Err == nil {
				return errors.New("record not done")
			}
			return res.Err
		}
		return nil
	}
}

// runRouter runs router until ctx is cancelled, then closes it, letting
// in-flight records finish within the shutdown timeout. The router runs on
// its own context: cancelling the subscriptions' context would make
// watermill-kafka drop the acks of in-flight records, while Close drains
// them (see watermillkafka.DrainingSubscriber) and commits.
func (r *Runner) runRouter(ctx context.Context, router *message.Router) error {
	stopped := make(chan struct{})
	closed := make(chan error, 1)
	go func() {
		select {
		case <-ctx.Done():
			r.log.Info("shutting down", "timeout", r.cfg.Runner.ShutdownTimeout.String())
			r.obs.ShuttingDown()
			closed <- router.Close()
		case <-stopped:
			closed <- nil
		}
	}()
	runErr := router.Run(context.Background())
	close(stopped)
	if err := errors.Join(runErr, <-closed, router.Close()); err != nil {
		return fmt.Errorf("router: %w", err)
	}
	return nil
}

// publisherProducer produces through a Watermill publisher that waits for
// the broker (Sarama's): each call in a goroutine of its own.
type publisherProducer struct{ pub message.Publisher }

func (p publisherProducer) Produce(recs []*engine.Record, done func(error)) {
	go func() {
		msgs := make([]*message.Message, len(recs))
		for i, r := range recs {
			msgs[i] = engine.NewMessage(r)
		}
		done(engine.DestinationPublisher{Publisher: p.pub}.Publish("", msgs...))
	}()
}

// NewProducer returns the producer of the configured adapter, as `run`
// writes: the batching franz-go producer, or Watermill's Sarama publisher,
// secured by sec.
func NewProducer(cfg *config.Config, brokers []string, sec *kafka.Security, log watermill.LoggerAdapter) (engine.Producer, func() error, error) {
	k := cfg.Kafka
	if k.Adapter == config.AdapterWatermillKafka {
		pub, err := watermillkafka.NewPublisher(brokers, k.ClientID, sec, watermillkafka.Marshaler{}, log)
		if err != nil {
			return nil, nil, err
		}
		return publisherProducer{pub}, pub.Close, nil
	}
	bp, err := kafka.NewBatchPublisher(kafka.BatchPublisherConfig{Brokers: brokers, ClientID: k.ClientID, Linger: k.ProducerLinger, MaxMessageBytes: k.MaxMessageBytes, Security: sec})
	if err != nil {
		return nil, nil, err
	}
	return bp, bp.Close, nil
}
