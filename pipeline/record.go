package pipeline

import (
	"strconv"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/millrace-dev/millrace/pipeline/kafka"
	"github.com/millrace-dev/millrace/transforms"
	"github.com/millrace-dev/millrace/transforms/codec"
)

// RecordOf decodes a consumed message into a record, as the pipeline's
// handler does. The value must be a JSON object.
func RecordOf(msg *message.Message) (*transforms.Record, error) {
	v, err := codec.Decode(msg.Payload)
	if err != nil {
		return nil, err
	}
	if _, ok := v.(map[string]any); !ok {
		return nil, transforms.ErrNotObject
	}
	md := msg.Metadata
	headers := 0
	for k := range md {
		if !kafka.IsInternal(k) {
			headers++
		}
	}
	rec := &transforms.Record{Value: v, Headers: make(transforms.Headers, 0, headers)}
	for k, val := range md {
		if !kafka.IsInternal(k) {
			rec.Headers = append(rec.Headers, transforms.Header{Key: k, Value: []byte(val)})
		}
	}
	if key, ok := md[kafka.MetaKey]; ok {
		rec.Key = []byte(key)
	}
	if ms, err := strconv.ParseInt(md[kafka.MetaTimestamp], 10, 64); err == nil {
		rec.Timestamp = time.UnixMilli(ms)
	}
	part, _ := strconv.Atoi(md[kafka.MetaPartition])
	off, _ := strconv.ParseInt(md[kafka.MetaOffset], 10, 64)
	rec.Source = transforms.Source{Topic: md[kafka.MetaTopic], Partition: int32(part), Offset: off, Timestamp: rec.Timestamp}
	return rec, nil
}

// toMessage encodes an output record for topic.
func toMessage(id string, rec *transforms.Record, topic string) (*message.Message, error) {
	payload, err := codec.Encode(rec.Value)
	if err != nil {
		return nil, err
	}
	msg := message.NewMessage(id, payload)
	md := make(message.Metadata, len(rec.Headers)+3)
	for _, h := range rec.Headers {
		md[h.Key] = string(h.Value)
	}
	if rec.Key != nil {
		md[kafka.MetaKey] = string(rec.Key)
	}
	if !rec.Timestamp.IsZero() {
		md[kafka.MetaTimestamp] = strconv.FormatInt(rec.Timestamp.UnixMilli(), 10)
	}
	md[kafka.MetaDestination] = topic
	msg.Metadata = md
	return msg, nil
}
