// Package engine is Millrace's one record path. An Engine takes one input
// record to its outputs or its dead letter and settles it: decode the value
// once, run the transform chain, route, encode each output once, hand the
// outputs to the producer, and settle the input when they are
// acknowledged. `run` (both adapters), `replay` and `pipeline-runner test`
// all call Engine.Process; only the source of the records and the producer
// differ.
//
// The engine's cross-cutting behaviour (timeout, recoverer, dead letters)
// is Watermill middleware, composed once in New, and every pipeline is also
// available as a Watermill HandlerFunc for a router of one's own.
package engine

import (
	"time"

	"github.com/millrace-dev/millrace/transforms"
)

// Record is a Kafka record on its way through the engine, from the
// consumer to the producer: the input as read, an output as it will be
// written, or a dead letter. Every field is typed: positions are numbers,
// headers an ordered list with repeats, the value the bytes read or to
// write.
type Record struct {
	// Topic, Partition and Offset say where an input was read; for an
	// output, Topic is where it goes.
	Topic     string
	Partition int32
	Offset    int64
	Key       []byte // nil: no key
	Value     []byte
	Headers   transforms.Headers
	Timestamp time.Time
	// Attempts counts the engine's runs of an input record, across
	// redeliveries (a source hands the same Record out again). A redriven
	// dead letter starts from its millrace.attempts.
	Attempts int
	// Origin, when set, is where a redriven dead letter was first read:
	// transforms and a new dead letter see it instead of Topic, Partition
	// and Offset, which are the dead letter's own.
	Origin *transforms.Source

	// traceparent holds the value of the traceparent header the engine
	// gives an input that has none: it lives as long as the record, which
	// keeps it across redeliveries.
	traceparent [55]byte
}

// source is the position transforms see.
func (r *Record) source() transforms.Source {
	if r.Origin != nil {
		return *r.Origin
	}
	return transforms.Source{Topic: r.Topic, Partition: r.Partition, Offset: r.Offset, Timestamp: r.Timestamp}
}
