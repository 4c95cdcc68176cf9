package watermillkafka

import (
	"fmt"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	wmkafka "github.com/ThreeDotsLabs/watermill-kafka/v3/pkg/kafka"
	"github.com/ThreeDotsLabs/watermill/message"
)

// NewPublisher returns the Watermill publisher pipelines write with: one
// idempotent, acks=all producer shared by all pipelines of a runner.
func NewPublisher(brokers []string, clientID string, m Marshaler, log watermill.LoggerAdapter) (*wmkafka.Publisher, error) {
	pub, err := wmkafka.NewPublisher(wmkafka.PublisherConfig{
		Brokers:               brokers,
		Marshaler:             m,
		OverwriteSaramaConfig: PublisherConfig(clientID),
	}, log)
	if err != nil {
		return nil, fmt.Errorf("kafka publisher for %v: %w", brokers, err)
	}
	return pub, nil
}

// SubscriberOptions configure NewSubscriber.
type SubscriberOptions struct {
	Brokers  []string
	ClientID string
	// Group is the consumer group; empty reads every partition without one.
	Group string
	// Start is "oldest" or "newest": where a group without offsets begins.
	Start string
	// ShutdownTimeout bounds the wait for in-flight messages on close.
	ShutdownTimeout time.Duration
	Marshaler       Marshaler
}

// NewSubscriber returns the Watermill subscriber a pipeline reads with: a
// watermill-kafka consumer group behind a DrainingSubscriber.
func NewSubscriber(o SubscriberOptions, log watermill.LoggerAdapter) (message.Subscriber, error) {
	sub, err := wmkafka.NewSubscriber(wmkafka.SubscriberConfig{
		Brokers:               o.Brokers,
		Unmarshaler:           o.Marshaler,
		OverwriteSaramaConfig: SubscriberConfig(o.ClientID, o.Start),
		ConsumerGroup:         o.Group,
		NackResendSleep:       100 * time.Millisecond,
		ReconnectRetrySleep:   time.Second,
	}, log)
	if err != nil {
		return nil, fmt.Errorf("kafka subscriber for %v: %w", o.Brokers, err)
	}
	return NewDrainingSubscriber(sub, o.ShutdownTimeout), nil
}
