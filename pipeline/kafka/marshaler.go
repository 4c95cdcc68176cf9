// Package kafka connects pipelines to Kafka: the Watermill marshaler that
// keeps keys, headers and timestamps, Sarama settings, the embedded broker,
// and the franz-go clients used by the CLI and admin tasks.
package kafka

import (
	"strconv"
	"time"

	"github.com/IBM/sarama"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/millrace-dev/millrace/pipeline/engine"
)

// Message metadata keys that carry Kafka record fields through Watermill
// (see engine.MetaKey and the others). They never become Kafka headers;
// every other metadata entry does.
const (
	MetaKey         = engine.MetaKey
	MetaTimestamp   = engine.MetaTimestamp
	MetaTopic       = engine.MetaTopic
	MetaPartition   = engine.MetaPartition
	MetaOffset      = engine.MetaOffset
	MetaDestination = engine.MetaDestination
)

// IsInternal reports whether a metadata key is Millrace's own, not a header.
func IsInternal(key string) bool { return engine.IsInternal(key) }

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

// UUIDHeader carries the message UUID when Marshaler.KeepUUID is set.
const UUIDHeader = "_watermill_message_uuid"

// Marshal builds the Kafka record for msg.
func (m Marshaler) Marshal(topic string, msg *message.Message) (*sarama.ProducerMessage, error) {
	pm := &sarama.ProducerMessage{Topic: topic, Value: sarama.ByteEncoder(msg.Payload)}
	if dest := msg.Metadata.Get(MetaDestination); dest != "" {
		pm.Topic = dest
	}
	if key, ok := msg.Metadata[MetaKey]; ok {
		pm.Key = sarama.ByteEncoder(key)
	}
	if ts, ok := msg.Metadata[MetaTimestamp]; ok {
		if ms, err := strconv.ParseInt(ts, 10, 64); err == nil {
			pm.Timestamp = time.UnixMilli(ms)
		}
	}
	for k, v := range msg.Metadata {
		if IsInternal(k) {
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
		if h == nil || IsInternal(string(h.Key)) {
			continue
		}
		if m.KeepUUID && string(h.Key) == UUIDHeader {
			msg.UUID = string(h.Value)
			continue
		}
		md[string(h.Key)] = string(h.Value)
	}
	if km.Key != nil {
		md[MetaKey] = string(km.Key)
	}
	if !km.Timestamp.IsZero() {
		md[MetaTimestamp] = strconv.FormatInt(km.Timestamp.UnixMilli(), 10)
	}
	md[MetaTopic] = km.Topic
	md[MetaPartition] = strconv.Itoa(int(km.Partition))
	md[MetaOffset] = strconv.FormatInt(km.Offset, 10)
	msg.Metadata = md
	return msg, nil
}
