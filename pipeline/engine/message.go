package engine

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/millrace-dev/millrace/pipeline/observe"
	"github.com/millrace-dev/millrace/transforms"
)

// Metadata keys that carry a record's Kafka fields on a Watermill message.
// They never become Kafka headers; every other metadata entry does.
const (
	internalPrefix = "_millrace_"
	// MetaKey holds the record key; absent means no key.
	MetaKey = internalPrefix + "key"
	// MetaTimestamp holds the record timestamp in Unix milliseconds.
	MetaTimestamp = internalPrefix + "timestamp"
	// MetaTopic, MetaPartition and MetaOffset say where a consumed record
	// was read.
	MetaTopic     = internalPrefix + "topic"
	MetaPartition = internalPrefix + "partition"
	MetaOffset    = internalPrefix + "offset"
	// MetaDestination, when set on a published message, overrides the
	// topic passed to Publish, so that one Publish call can write several
	// topics.
	MetaDestination = internalPrefix + "destination"
	// MetaAttempts counts the engine's runs of a message that has no typed
	// record (a foreign subscriber's).
	MetaAttempts = internalPrefix + "attempts"
)

// IsInternal reports whether a metadata key is Millrace's own, not a header.
func IsInternal(key string) bool { return strings.HasPrefix(key, internalPrefix) }

type recordKey struct{}

// InputMessage is the Watermill message of a consumed record, with a
// context derived from ctx: its value,
// its headers as metadata (the last value of a repeated key), its key,
// timestamp and position under the Meta keys, and in its context the
// typed record itself, which HandlerFunc reads (with header order and
// repeats) unless a middleware changed the message.
func InputMessage(ctx context.Context, uuid string, r *Record) *message.Message {
	msg := message.NewMessage(uuid, r.Value)
	md := metadata(r, 4)
	md[MetaTopic] = r.Topic
	md[MetaPartition] = strconv.Itoa(int(r.Partition))
	md[MetaOffset] = strconv.FormatInt(r.Offset, 10)
	msg.Metadata = md
	msg.SetContext(context.WithValue(ctx, recordKey{}, r))
	return msg
}

// NewMessage is the Watermill message of an output record: its value,
// headers as metadata, key and timestamp, and its topic in
// MetaDestination.
func NewMessage(r *Record) *message.Message {
	msg := message.NewMessage("", r.Value)
	md := metadata(r, 1)
	md[MetaDestination] = r.Topic
	msg.Metadata = md
	return msg
}

func metadata(r *Record, extra int) message.Metadata {
	md := make(message.Metadata, len(r.Headers)+2+extra)
	for _, h := range r.Headers {
		md[h.Key] = string(h.Value)
	}
	if r.Key != nil {
		md[MetaKey] = string(r.Key)
	}
	if !r.Timestamp.IsZero() {
		md[MetaTimestamp] = strconv.FormatInt(r.Timestamp.UnixMilli(), 10)
	}
	return md
}

// RecordOf is the record of a message: the typed record of an
// InputMessage that no middleware changed, else one read from the
// message's payload and metadata (headers in key order, as a map has no
// other).
func RecordOf(msg *message.Message) *Record {
	if r, ok := msg.Context().Value(recordKey{}).(*Record); ok && unchanged(msg, r) {
		return r
	}
	md := msg.Metadata
	r := &Record{Topic: md[MetaTopic], Value: msg.Payload}
	if p, err := strconv.ParseInt(md[MetaPartition], 10, 32); err == nil {
		r.Partition = int32(p)
	}
	r.Offset, _ = strconv.ParseInt(md[MetaOffset], 10, 64)
	r.Attempts, _ = strconv.Atoi(md[MetaAttempts])
	if k, ok := md[MetaKey]; ok {
		r.Key = []byte(k)
	}
	if ms, err := strconv.ParseInt(md[MetaTimestamp], 10, 64); err == nil {
		r.Timestamp = time.UnixMilli(ms)
	}
	for _, k := range slices.Sorted(func(yield func(string) bool) {
		for k := range md {
			if !IsInternal(k) && !yield(k) {
				return
			}
		}
	}) {
		r.Headers = append(r.Headers, transforms.Header{Key: k, Value: []byte(md[k])})
	}
	return r
}

// unchanged reports whether msg still holds what InputMessage put there.
func unchanged(msg *message.Message, r *Record) bool {
	if len(msg.Payload) != len(r.Value) || (len(r.Value) > 0 && &msg.Payload[0] != &r.Value[0]) {
		return false
	}
	// The traceparent the engine gave the record after the message was
	// built is no change of the message's.
	_, tp := msg.Metadata[observe.TraceparentHeader]
	given := !tp && r.givenTraceparent()
	want := 0 // the message's headers: the records' distinct keys
	if len(r.Headers) > maxSearchedHeaders {
		last := r.Headers.Map()
		if given {
			delete(last, observe.TraceparentHeader)
		}
		for k, v := range last {
			if got, ok := msg.Metadata[k]; !ok || got != v {
				return false
			}
		}
		want = len(last)
	} else {
		for i, h := range r.Headers {
			if given && h.Key == observe.TraceparentHeader || lastLater(r.Headers, i) {
				continue
			}
			want++
			if v, ok := msg.Metadata[h.Key]; !ok || v != string(h.Value) {
				return false
			}
		}
	}
	n := 0
	for k := range msg.Metadata {
		if !IsInternal(k) {
			n++
		}
	}
	return n == want
}

// maxSearchedHeaders bounds the quadratic search of lastLater.
const maxSearchedHeaders = 32

// lastLater reports whether hs has hs[i]'s key again after i: the last
// value of a key is the message's. unchanged is asked on every settlement
// of a Subscribe message, so up to maxSearchedHeaders headers it searches
// rather than building a map.
func lastLater(hs transforms.Headers, i int) bool {
	for _, h := range hs[i+1:] {
		if h.Key == hs[i].Key {
			return true
		}
	}
	return false
}

// DestinationPublisher publishes each message to the topic in its
// MetaDestination, for publishers that do not read it (Millrace's Kafka
// publisher does). Messages without one go to the topic passed to Publish.
type DestinationPublisher struct {
	message.Publisher
}

// Publish groups messages by destination, keeping their order within a
// topic.
func (d DestinationPublisher) Publish(topic string, msgs ...*message.Message) error {
	var order []string
	byTopic := map[string][]*message.Message{}
	for _, m := range msgs {
		t := m.Metadata.Get(MetaDestination)
		if t == "" {
			t = topic
		}
		if _, seen := byTopic[t]; !seen {
			order = append(order, t)
		}
		byTopic[t] = append(byTopic[t], m)
	}
	for _, t := range order {
		if err := d.Publisher.Publish(t, byTopic[t]...); err != nil {
			return err
		}
	}
	return nil
}
