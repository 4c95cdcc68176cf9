package watermillkafka

import (
	"time"

	"github.com/IBM/sarama"
	"github.com/millrace-dev/millrace/pipeline/kafka"
)

// ProtocolVersion is the Kafka protocol version Sarama speaks. Kafka 4
// removed protocol versions older than 2.1; watermill-kafka's default (1.0)
// is refused by it.
var ProtocolVersion = sarama.V3_6_0_0

// SubscriberConfig is the Sarama config for a pipeline's consumer group,
// secured by sec (nil: plaintext). start is "oldest" or "newest": where a
// group with no committed offset begins.
func SubscriberConfig(clientID, start string, sec *kafka.Security) (*sarama.Config, error) {
	c := sarama.NewConfig()
	c.Version = ProtocolVersion
	c.ClientID = clientID
	c.Consumer.Return.Errors = true
	c.Consumer.Offsets.Initial = sarama.OffsetOldest
	if start == "newest" {
		c.Consumer.Offsets.Initial = sarama.OffsetNewest
	}
	// Offsets are marked only after a message is acked, that is after its
	// outputs were acknowledged; marked offsets are committed every second
	// and when the group is closed.
	c.Consumer.Offsets.AutoCommit.Enable = true
	c.Consumer.Offsets.AutoCommit.Interval = time.Second
	c.Consumer.Group.Rebalance.GroupStrategies = []sarama.BalanceStrategy{sarama.NewBalanceStrategyRange()}
	c.Metadata.AllowAutoTopicCreation = false
	return c, secure(c, sec)
}

// PublisherConfig is the Sarama config for the shared producer, secured by
// sec (nil: plaintext): every write is acknowledged by all in-sync
// replicas, and retries cannot duplicate or reorder records (idempotent
// producer).
func PublisherConfig(clientID string, sec *kafka.Security) (*sarama.Config, error) {
	c := sarama.NewConfig()
	c.Version = ProtocolVersion
	c.ClientID = clientID
	c.Producer.RequiredAcks = sarama.WaitForAll
	c.Producer.Idempotent = true
	c.Net.MaxOpenRequests = 1
	c.Producer.Retry.Max = 10
	c.Producer.Retry.Backoff = 100 * time.Millisecond
	c.Producer.Return.Successes = true
	c.Producer.Return.Errors = true
	c.Metadata.Retry.Backoff = 250 * time.Millisecond
	c.Metadata.AllowAutoTopicCreation = false
	return c, secure(c, sec)
}
