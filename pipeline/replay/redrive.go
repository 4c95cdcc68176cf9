package replay

import (
	"strings"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/message/router/middleware"
	"github.com/millrace-dev/millrace/pipeline"
	"github.com/millrace-dev/millrace/pipeline/kafka"
	"github.com/millrace-dev/millrace/pipeline/replay/source"
	"github.com/twmb/franz-go/pkg/kgo"
)

// deadLetterPrefix starts the headers the pipeline adds to a dead letter
// (pipeline.HeaderError and the others).
const deadLetterPrefix = "millrace."

// isDeadLetterHeader reports whether a header was added on the way to the
// dead-letter topic: Millrace's millrace.* headers and those of Watermill's
// poison-queue middleware.
func isDeadLetterHeader(k string) bool {
	switch k {
	case middleware.ReasonForPoisonedKey, middleware.PoisonedTopicKey, middleware.PoisonedHandlerKey, middleware.PoisonedSubscriberKey:
		return true
	}
	return strings.HasPrefix(k, deadLetterPrefix)
}

// restore turns a dead letter back into the message its pipeline first
// received: the original key, value, timestamp and headers, without the
// dead-letter headers. Its metadata says where the record was first read
// (millrace.source.*), so that transforms and a new dead letter see the
// original coordinates; and its attempt counter starts from
// millrace.attempts, so that a record failing again goes back with the
// count raised. The message UUID keeps the dead letter's own coordinates.
func restore(m kafka.Marshaler, r *kgo.Record) *message.Message {
	msg := source.Message(m, r)
	md := msg.Metadata
	topic, part, off := md[pipeline.HeaderSourceTopic], md[pipeline.HeaderSourcePartition], md[pipeline.HeaderSourceOffset]
	attempts := md[pipeline.HeaderAttempts]
	for k := range md {
		if isDeadLetterHeader(k) {
			delete(md, k)
		}
	}
	if topic != "" {
		md[kafka.MetaTopic] = topic
	}
	if part != "" {
		md[kafka.MetaPartition] = part
	}
	if off != "" {
		md[kafka.MetaOffset] = off
	}
	if attempts != "" {
		md[pipeline.MetaAttempts] = attempts
	}
	return msg
}

// header returns the last value of a record header.
func header(r *kgo.Record, key string) (string, bool) {
	v, ok := "", false
	for _, h := range r.Headers {
		if h.Key == key {
			v, ok = string(h.Value), true
		}
	}
	return v, ok
}

// filters decide which records a replay skips.
type filters struct {
	// Replay by time: record timestamps in [fromTime, toTime).
	fromTime, toTime *time.Time
	// Redrive: dead letters of this pipeline, whose error contains
	// errorContains, that failed at or after since.
	pipeline      string
	errorContains string
	since         *time.Time
}

// skip reports whether r is left out.
func (f *filters) skip(r *kgo.Record) bool {
	if f.fromTime != nil && r.Timestamp.Before(*f.fromTime) {
		return true
	}
	if f.toTime != nil && !r.Timestamp.Before(*f.toTime) {
		return true
	}
	if f.pipeline != "" {
		// A dead-letter topic may be shared: redrive only our records.
		if p, ok := header(r, pipeline.HeaderPipeline); ok && p != f.pipeline {
			return true
		}
	}
	if f.errorContains != "" {
		if e, _ := header(r, pipeline.HeaderError); !strings.Contains(e, f.errorContains) {
			return true
		}
	}
	if f.since != nil {
		at, ok := header(r, pipeline.HeaderFailedAt)
		t, err := time.Parse(time.RFC3339Nano, at)
		if !ok || err != nil || t.Before(*f.since) {
			return true
		}
	}
	return false
}

func (f *filters) active() bool {
	return f.fromTime != nil || f.toTime != nil || f.pipeline != "" || f.errorContains != "" || f.since != nil
}
