package kafka

import (
	"strconv"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/millrace-dev/millrace/pipeline/engine"
	"github.com/millrace-dev/millrace/transforms"
	"github.com/twmb/franz-go/pkg/kgo"
)

// The record codec: the one conversion from a Kafka record to the engine's
// record and the one back. Headers keep their order and repeats; header
// values and the record value are shared with the Kafka record, not copied.

// UUIDHeader carries a Watermill message UUID with KeepUUID (on the
// consumer and the producer), for Watermill code that relies on UUIDs
// surviving the trip; pipelines leave it off, so outputs carry exactly the
// headers of their inputs. It is the header watermill-kafka uses.
const UUIDHeader = "_watermill_message_uuid"

// fromKafka fills rec with the engine record of a consumed Kafka record
// and returns it; its headers go into room when they fit with a
// traceparent besides. With keepUUID the UUIDHeader header is left out (it
// becomes the Watermill UUID).
func fromKafka(rec *engine.Record, room transforms.Headers, r *kgo.Record, keepUUID bool) (*engine.Record, string) {
	*rec = engine.Record{Topic: r.Topic, Partition: r.Partition, Offset: r.Offset, Key: r.Key, Value: r.Value, Timestamp: r.Timestamp}
	uuid := ""
	if len(r.Headers)+1 <= cap(room) {
		rec.Headers = room[:0]
	} else if len(r.Headers) > 0 {
		rec.Headers = make(transforms.Headers, 0, len(r.Headers)+1) // room for a traceparent
	}
	if len(r.Headers) > 0 {
		for _, h := range r.Headers {
			if keepUUID && h.Key == UUIDHeader {
				uuid = string(h.Value)
				continue
			}
			rec.Headers = append(rec.Headers, transforms.Header{Key: h.Key, Value: h.Value})
		}
	}
	return rec, uuid
}

// toKafka fills dst[i] with the Kafka record of the output or dead letter
// recs[i]; the headers of all of them go into room when they fit, else
// into one allocation.
func toKafka(dst []kgo.Record, room []kgo.RecordHeader, recs []*engine.Record) {
	n := 0
	for _, r := range recs {
		n += len(r.Headers)
	}
	var hs []kgo.RecordHeader
	if n <= len(room) {
		hs = room[:n:n]
	} else {
		hs = make([]kgo.RecordHeader, n)
	}
	for i, r := range recs {
		dst[i] = kgo.Record{Topic: r.Topic, Key: r.Key, Value: r.Value, Timestamp: r.Timestamp}
		if len(r.Headers) > 0 {
			h := hs[:len(r.Headers):len(r.Headers)]
			hs = hs[len(r.Headers):]
			for j, x := range r.Headers {
				h[j] = kgo.RecordHeader{Key: x.Key, Value: x.Value}
			}
			dst[i].Headers = h
		}
	}
}

// fromMessage is the record of a Watermill message published to topic:
// engine.MetaDestination overrides the topic, MetaKey and MetaTimestamp give the
// key and timestamp, every other metadata entry is a header (in key order:
// a map has no other).
func fromMessage(topic string, m *message.Message, keepUUID bool) *engine.Record {
	r := engine.RecordOf(m)
	out := &engine.Record{Topic: topic, Key: r.Key, Value: r.Value, Headers: r.Headers, Timestamp: r.Timestamp}
	if dest := m.Metadata.Get(engine.MetaDestination); dest != "" {
		out.Topic = dest
	}
	if keepUUID {
		out.Headers = append(out.Headers.Clone(), transforms.Header{Key: UUIDHeader, Value: []byte(m.UUID)})
	}
	return out
}

// MessageID is the Watermill UUID of a consumed record without one:
// topic/partition/offset, unique and stable across redelivery.
func MessageID(r *engine.Record) string {
	return r.Topic + "/" + strconv.Itoa(int(r.Partition)) + "/" + strconv.FormatInt(r.Offset, 10)
}
