package replay

import (
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/millrace-dev/millrace/pipeline/engine"
	"github.com/millrace-dev/millrace/transforms"
)

// restore turns a dead letter back into the record its pipeline first
// received: the original key, value, timestamp and headers (in order),
// without the dead-letter headers. Its Origin says where the record was
// first read (millrace.source.*), so that transforms and a new dead letter
// see the original coordinates; its attempts start from millrace.attempts,
// so that a record failing again goes back with the count raised. Topic,
// Partition and Offset stay the dead letter's own: they are what the
// replay reads and checkpoints.
func restore(rec *engine.Record) {
	h := rec.Headers
	topic, hasTopic := h.Get(engine.HeaderSourceTopic)
	part, _ := h.Get(engine.HeaderSourcePartition)
	off, _ := h.Get(engine.HeaderSourceOffset)
	attempts, _ := h.Get(engine.HeaderAttempts)
	rec.Headers.DeleteFunc(engine.IsDeadLetterHeader)
	if hasTopic {
		o := &transforms.Source{Topic: topic, Timestamp: rec.Timestamp}
		if p, err := strconv.ParseInt(part, 10, 32); err == nil {
			o.Partition = int32(p)
		}
		o.Offset, _ = strconv.ParseInt(off, 10, 64)
		rec.Origin = o
	}
	rec.Attempts, _ = strconv.Atoi(attempts)
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
	// redriven are the dead letters earlier redrives redrove; already
	// counts those skipped for it.
	redriven map[int32]offsetSet
	already  *atomic.Int64
}

// skip reports whether r, as read, is left out.
func (f *filters) skip(r *engine.Record) bool {
	if f.fromTime != nil && r.Timestamp.Before(*f.fromTime) {
		return true
	}
	if f.toTime != nil && !r.Timestamp.Before(*f.toTime) {
		return true
	}
	if f.redriven[r.Partition].has(r.Offset) {
		f.already.Add(1) // set with redriven
		return true
	}
	if f.pipeline != "" {
		// A dead-letter topic may be shared: redrive only our records.
		if p, ok := r.Headers.Get(engine.HeaderPipeline); ok && p != f.pipeline {
			return true
		}
	}
	if f.errorContains != "" {
		if e, _ := r.Headers.Get(engine.HeaderError); !strings.Contains(e, f.errorContains) {
			return true
		}
	}
	if f.since != nil {
		at, ok := r.Headers.Get(engine.HeaderFailedAt)
		t, err := time.Parse(time.RFC3339Nano, at)
		if !ok || err != nil || t.Before(*f.since) {
			return true
		}
	}
	return false
}

func (f *filters) active() bool {
	return f.fromTime != nil || f.toTime != nil || f.pipeline != "" || f.errorContains != "" || f.since != nil || len(f.redriven) > 0
}
