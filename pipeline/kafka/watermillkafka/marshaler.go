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
	"context"
	"strconv"

	"github.com/IBM/sarama"
	wmkafka "github.com/ThreeDotsLabs/watermill-kafka/v3/pkg/kafka"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/millrace-dev/millrace/pipeline/engine"
	"github.com/millrace-dev/millrace/transforms"
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

// Marshal builds the Kafka record for msg: its record as engine.RecordOf
// reads it, to MetaDestination if set, else to topic.
func (m Marshaler) Marshal(topic string, msg *message.Message) (*sarama.ProducerMessage, error) {
	r := engine.RecordOf(msg)
	pm := &sarama.ProducerMessage{Topic: topic, Value: sarama.ByteEncoder(r.Value), Timestamp: r.Timestamp}
	if dest := msg.Metadata.Get(engine.MetaDestination); dest != "" {
		pm.Topic = dest
	}
	if r.Key != nil {
		pm.Key = sarama.ByteEncoder(r.Key)
	}
	for _, h := range r.Headers {
		pm.Headers = append(pm.Headers, sarama.RecordHeader{Key: []byte(h.Key), Value: h.Value})
	}
	if m.KeepUUID {
		pm.Headers = append(pm.Headers, sarama.RecordHeader{Key: []byte(UUIDHeader), Value: []byte(msg.UUID)})
	}
	return pm, nil
}

// Unmarshal builds the Watermill message for a consumed Kafka record, as
// engine.InputMessage lays it out. The message UUID is
// topic/partition/offset, unique and stable across redelivery.
func (m Marshaler) Unmarshal(km *sarama.ConsumerMessage) (*message.Message, error) {
	r := &engine.Record{Topic: km.Topic, Partition: km.Partition, Offset: km.Offset, Key: km.Key, Value: km.Value, Timestamp: km.Timestamp}
	id := ""
	for _, h := range km.Headers {
		if h == nil || engine.IsInternal(string(h.Key)) {
			continue
		}
		if m.KeepUUID && string(h.Key) == UUIDHeader {
			id = string(h.Value)
			continue
		}
		r.Headers = append(r.Headers, transforms.Header{Key: string(h.Key), Value: h.Value})
	}
	if id == "" {
		id = km.Topic + "/" + strconv.Itoa(int(km.Partition)) + "/" + strconv.FormatInt(km.Offset, 10)
	}
	return engine.InputMessage(context.Background(), id, r), nil
}
