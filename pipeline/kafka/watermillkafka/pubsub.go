package watermillkafka

import (
	"errors"
	"fmt"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	wmkafka "github.com/ThreeDotsLabs/watermill-kafka/v3/pkg/kafka"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/millrace-dev/millrace/pipeline/kafka"
)

// NewPublisher returns the Watermill publisher pipelines write with: one
// idempotent, acks=all producer shared by all pipelines of a runner,
// secured by sec (nil: plaintext). It connects at once: a failure of TLS
// or SASL is a *kafka.SecurityError.
func NewPublisher(brokers []string, clientID string, sec *kafka.Security, m Marshaler, log watermill.LoggerAdapter) (*wmkafka.Publisher, error) {
	sc, err := PublisherConfig(clientID, sec)
	if err != nil {
		return nil, err
	}
	pub, err := wmkafka.NewPublisher(wmkafka.PublisherConfig{
		Brokers:               brokers,
		Marshaler:             m,
		OverwriteSaramaConfig: sc,
	}, log)
	if err != nil {
		var se *kafka.SecurityError
		if err = Explain(err, brokers, sec); errors.As(err, &se) {
			return nil, err // it names the broker
		}
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
	// Security is TLS and SASL (kafka.SecurityFor); nil is plaintext.
	Security *kafka.Security
}

// NewSubscriber returns the Watermill subscriber a pipeline reads with: a
// watermill-kafka consumer group behind a DrainingSubscriber.
func NewSubscriber(o SubscriberOptions, log watermill.LoggerAdapter) (message.Subscriber, error) {
	sc, err := SubscriberConfig(o.ClientID, o.Start, o.Security)
	if err != nil {
		return nil, err
	}
	sub, err := wmkafka.NewSubscriber(wmkafka.SubscriberConfig{
		Brokers:               o.Brokers,
		Unmarshaler:           o.Marshaler,
		OverwriteSaramaConfig: sc,
		ConsumerGroup:         o.Group,
		NackResendSleep:       100 * time.Millisecond,
		ReconnectRetrySleep:   time.Second,
	}, log)
	if err != nil {
		return nil, fmt.Errorf("kafka subscriber for %v: %w", o.Brokers, err)
	}
	return NewDrainingSubscriber(sub, o.ShutdownTimeout), nil
}
