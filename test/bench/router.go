package main

import (
	"context"
	"errors"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/millrace-dev/millrace/pipeline"
	"github.com/millrace-dev/millrace/pipeline/config"
	"github.com/millrace-dev/millrace/pipeline/engine"
	"github.com/millrace-dev/millrace/pipeline/kafka"
	"github.com/twmb/franz-go/pkg/kgo"
)

// --- M-router -----------------------------------------------------------------

// runRouter is Millrace's engine driven by a Watermill router instead of
// the runner's direct workers: the router subscribes with Millrace's
// consumer (its Subscribe mode, one message at a time over a channel) and
// runs a handler per message that calls engine.Process, whose outputs go
// to Millrace's batching producer. The ack is deferred: the handler returns
// at once and the consumer's message is acked when the outputs are
// acknowledged, so the router's goroutine never waits on the network.
// Same YAML, ordering: key, max_in_flight 256: it compares the two
// drivers of one engine.
func runRouter(ctx context.Context, s *stage) error {
	cfg, err := config.Parse("bench.yaml", []byte(millraceConfig(s, "key")), config.Options{})
	if err != nil {
		return err
	}
	p := cfg.Pipelines[0]
	if err := kafka.EnsureTopics(ctx, s.Brokers, cfg.Kafka.ClientID, nil, partitions, -1, s.Out, s.DLQ); err != nil {
		return err
	}
	bp, err := kafka.NewBatchPublisher(kafka.BatchPublisherConfig{Brokers: s.Brokers, ClientID: cfg.Kafka.ClientID, Linger: cfg.Kafka.ProducerLinger, ClientOpts: []kgo.Opt{kgo.WithHooks(s.Requests)}})
	if err != nil {
		return err
	}
	defer bp.Close()
	eng, closeParts, err := pipeline.Engine(cfg, p, pipeline.EngineOptions{Producer: bp, Subscriber: "kafka.ConcurrentSubscriber"})
	if err != nil {
		return err
	}
	defer closeParts()
	sub, err := kafka.NewConcurrentSubscriber(kafka.ConcurrentSubscriberConfig{
		Brokers: s.Brokers, ClientID: cfg.Kafka.ClientID, Group: s.Group, Start: "oldest",
		Ordering: kafka.OrderKey, MaxInFlight: p.Input.MaxInFlight, ShutdownTimeout: 30 * time.Second,
		ClientOpts: []kgo.Opt{kgo.WithHooks(s.Requests)},
	})
	if err != nil {
		return err
	}
	router, err := message.NewRouter(message.RouterConfig{CloseTimeout: 30 * time.Second}, watermill.NopLogger{})
	if err != nil {
		return err
	}
	router.AddConsumerHandler(p.Name, s.In, deferredAck{sub}, func(msg *message.Message) error {
		orig := msg.Context().Value(originalKey{}).(*message.Message)
		eng.Process(engine.RecordOf(orig), func(res engine.Result) {
			if res.Done {
				orig.Ack()
			} else {
				orig.Nack()
			}
		})
		return nil
	})
	return errors.Join(router.Run(ctx), sub.Close())
}

type originalKey struct{}

// deferredAck hands the router a stand-in for each message of sub, whose
// ack the router gives when its handler returns and which means nothing;
// the handler settles the original (in the stand-in's context) itself.
type deferredAck struct{ sub message.Subscriber }

func (d deferredAck) Subscribe(ctx context.Context, topic string) (<-chan *message.Message, error) {
	in, err := d.sub.Subscribe(ctx, topic)
	if err != nil {
		return nil, err
	}
	out := make(chan *message.Message)
	go func() {
		defer close(out)
		for m := range in {
			stand := message.NewMessage(m.UUID, m.Payload)
			stand.Metadata = m.Metadata
			stand.SetContext(context.WithValue(m.Context(), originalKey{}, m))
			select {
			case out <- stand:
			case <-ctx.Done():
				m.Nack()
			}
		}
	}()
	return out, nil
}

func (d deferredAck) Close() error { return d.sub.Close() }
