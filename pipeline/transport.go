package pipeline

import (
	"fmt"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/millrace-dev/millrace/pipeline/config"
	"github.com/millrace-dev/millrace/pipeline/kafka"
)

// kafkaTransport returns the publisher shared by the pipelines and the
// subscriber constructor for each, for the configured adapter: Millrace's
// concurrent key-ordered subscriber and batching publisher (the default), or
// Watermill's Sarama adapter.
func (r *Runner) kafkaTransport(brokers []string) (message.Publisher, func(*config.Pipeline) (message.Subscriber, error), error) {
	k := r.cfg.Kafka
	if k.Adapter == config.AdapterWatermillKafka {
		wlog := r.watermillLogger()
		pub, err := kafka.NewPublisher(brokers, k.ClientID, kafka.Marshaler{}, wlog)
		if err != nil {
			return nil, nil, err
		}
		return pub, func(p *config.Pipeline) (message.Subscriber, error) {
			return kafka.NewSubscriber(kafka.SubscriberOptions{
				Brokers:         brokers,
				ClientID:        k.ClientID,
				Group:           p.Input.Group,
				Start:           p.Input.Start,
				ShutdownTimeout: r.cfg.Runner.ShutdownTimeout,
			}, wlog.With(watermill.LogFields{"pipeline": p.Name}))
		}, nil
	}
	pub, err := kafka.NewBatchPublisher(kafka.BatchPublisherConfig{Brokers: brokers, ClientID: k.ClientID})
	if err != nil {
		return nil, nil, err
	}
	return pub, func(p *config.Pipeline) (message.Subscriber, error) {
		return r.concurrentSubscriber(p, brokers)
	}, nil
}

// concurrentSubscriber returns Millrace's subscriber for a pipeline's input.
func (r *Runner) concurrentSubscriber(p *config.Pipeline, brokers []string) (*kafka.ConcurrentSubscriber, error) {
	ordering, err := kafka.ParseOrdering(p.Input.Ordering)
	if err != nil {
		return nil, fmt.Errorf("pipeline %s: %w", p.Name, err)
	}
	return kafka.NewConcurrentSubscriber(kafka.ConcurrentSubscriberConfig{
		Brokers:         brokers,
		ClientID:        r.cfg.Kafka.ClientID,
		Group:           p.Input.Group,
		Start:           p.Input.Start,
		Ordering:        ordering,
		MaxInFlight:     p.Input.MaxInFlight,
		ShutdownTimeout: r.cfg.Runner.ShutdownTimeout,
		Logger:          r.log.With("pipeline", p.Name),
	})
}
