// Package watermillkafka is the Kafka adapter `kafka.adapter:
// watermill-kafka` selects: Watermill's Sarama-based publisher and
// subscriber (watermill-kafka v3), configured as pipelines need them. It
// holds the marshaler that keeps keys, headers and timestamps, the Sarama
// settings, and the subscriber wrapper that lets a shutdown commit what was
// processed. The default adapter, on franz-go, is package kafka; this one
// lives apart so that a program using only the default does not link
// Sarama.
package watermillkafka

import (
	"strconv"
	"time"

	"github.com/IBM/sarama"
	wmkafka "github.com/ThreeDotsLabs/watermill-kafka/v3/pkg/kafka"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/millrace-dev/millrace/pipeline/engine"
)

// Marshaler converts between Kafka records and Watermill messages without
// losing the key, headers or timestamp, and without adding headers of its
// own (Watermill's default marshaler drops the key and adds a UUID header).
//
// KeepUUID carries the Watermill message UUID in the header
// _watermill_message_uuid, for Watermill code that relies on UUIDs surviving
// the trip; pipelines leave it off, so outputs carry exactly the headers of
// their inputs.
type Marshaler struct {
	KeepUUID bool
}

// UUIDHeader carries the message UUID when Marshaler.KeepUUID is set:
// watermill-kafka's own header for it.
const UUIDHeader = wmkafka.UUIDHeaderKey

// Marshal builds the Kafka record for msg.
func (m Marshaler) Marshal(topic string, msg *message.Message) (*sarama.ProducerMessage, error) {
	pm := &sarama.ProducerMessage{Topic: topic, Value: sarama.ByteEncoder(msg.Payload)}
	if dest := msg.Metadata.Get(engine.MetaDestination); dest != "" {
		pm.Topic = dest
	}
	if key, ok := msg.Metadata[engine.MetaKey]; ok {
		pm.Key = sarama.ByteEncoder(key)
	}
	if ts, ok := msg.Metadata[engine.MetaTimestamp]; ok {
		if ms, err := strconv.ParseInt(ts, 10, 64); err == nil {
			pm.Timestamp = time.UnixMilli(ms)
		}
	}
	for k, v := range msg.Metadata {
		if engine.IsInternal(k) {
			continue
		}
		pm.Headers = append(pm.Headers, sarama.RecordHeader{Key: []byte(k), Value: []byte(v)})
	}
	if m.KeepUUID {
		pm.Headers = append(pm.Headers, sarama.RecordHeader{Key: []byte(UUIDHeader), Value: []byte(msg.UUID)})
	}
	return pm, nil
}

// Unmarshal builds the Watermill message for a consumed Kafka record. The
// message UUID is topic/partition/offset, unique and stable across redelivery.
func (m Marshaler) Unmarshal(km *sarama.ConsumerMessage) (*message.Message, error) {
	id := km.Topic + "/" + strconv.Itoa(int(km.Partition)) + "/" + strconv.FormatInt(km.Offset, 10)
	msg := message.NewMessage(id, km.Value)
	md := make(message.Metadata, len(km.Headers)+5)
	for _, h := range km.Headers {
		if h == nil || engine.IsInternal(string(h.Key)) {
			continue
		}
		if m.KeepUUID && string(h.Key) == UUIDHeader {
			msg.UUID = string(h.Value)
			continue
		}
		md[string(h.Key)] = string(h.Value)
	}
	if km.Key != nil {
		md[engine.MetaKey] = string(km.Key)
	}
	if !km.Timestamp.IsZero() {
		md[engine.MetaTimestamp] = strconv.FormatInt(km.Timestamp.UnixMilli(), 10)
	}
	md[engine.MetaTopic] = km.Topic
	md[engine.MetaPartition] = strconv.Itoa(int(km.Partition))
	md[engine.MetaOffset] = strconv.FormatInt(km.Offset, 10)
	msg.Metadata = md
	return msg, nil
}
