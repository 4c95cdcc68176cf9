package engine

import (
	"errors"
	"strconv"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/message/router/middleware"
	"github.com/millrace-dev/millrace/transforms"
)

// Headers added to a dead letter, after the input's own headers (kept byte
// for byte, in order, repeats included; plus a traceparent when it had none
// or an invalid one). They say why it failed.
const (
	HeaderError           = "millrace.error"
	HeaderStep            = "millrace.error.step"       // transform name, "decode" or "output"
	HeaderStepIndex       = "millrace.error.step_index" // position in the chain; -1 outside it
	HeaderPipeline        = "millrace.pipeline"
	HeaderSourceTopic     = "millrace.source.topic"
	HeaderSourcePartition = "millrace.source.partition"
	HeaderSourceOffset    = "millrace.source.offset"
	HeaderAttempts        = "millrace.attempts"
	HeaderFailedAt        = "millrace.failed_at" // RFC 3339, UTC
)

// poisonKeys are the metadata Watermill's poison queue sets on a message
// it publishes; they follow the millrace.* headers.
var poisonKeys = []string{middleware.ReasonForPoisonedKey, middleware.PoisonedTopicKey, middleware.PoisonedHandlerKey, middleware.PoisonedSubscriberKey}

// IsDeadLetterHeader reports whether a header was added on the way to the
// dead-letter topic (Millrace's or Watermill's poison queue's): a redrive
// removes them to restore the record as it was first read.
func IsDeadLetterHeader(key string) bool {
	switch key {
	case middleware.ReasonForPoisonedKey, middleware.PoisonedTopicKey, middleware.PoisonedHandlerKey, middleware.PoisonedSubscriberKey:
		return true
	}
	return len(key) > len(deadLetterPrefix) && key[:len(deadLetterPrefix)] == deadLetterPrefix
}

const deadLetterPrefix = "millrace."

// DataError is a record that cannot be processed whatever we retry: a value
// that is not a JSON object, a failing transform or expression, a failing
// output route. It goes to the dead-letter topic at once.
type DataError struct {
	Step  string // transform name, "decode" or "output"
	Index int    // position in the chain; -1 outside it
	Err   error
}

func (e *DataError) Error() string { return e.Err.Error() }
func (e *DataError) Unwrap() error { return e.Err }

// IsDataError reports whether err is about the record rather than the
// infrastructure: a DataError or a recovered panic.
func IsDataError(err error) bool {
	var de *DataError
	var pe middleware.RecoveredPanicError
	return errors.As(err, &de) || errors.As(err, &pe)
}

// routeError is an output route whose condition failed on a record.
type routeError struct{ err error }

func (e *routeError) Error() string { return e.err.Error() }
func (e *routeError) Unwrap() error { return e.err }

// asDataError names the step a record failed in.
func asDataError(err error) *DataError {
	de := &DataError{Step: "decode", Index: -1, Err: err}
	var se *transforms.StepError
	switch {
	case errors.As(err, &se):
		de.Step, de.Index, de.Err = se.Name, se.Index, se.Err
	case errors.As(err, new(*routeError)):
		de.Step = "output"
	}
	return de
}

// deadLetter is the dead-letter record of w's input: its key, value and
// headers byte for byte, then the millrace.* headers, then the poison
// queue's metadata (md).
func (e *Engine) deadLetter(w *work, md message.Metadata) *Record {
	in := w.in
	src := in.source()
	de := w.fail
	if de == nil {
		// A recovered panic outside the chain.
		de = &DataError{Step: "panic", Index: -1, Err: errors.New(md.Get(middleware.ReasonForPoisonedKey))}
	}
	h := make(transforms.Headers, len(in.Headers), len(in.Headers)+9+len(poisonKeys))
	copy(h, in.Headers)
	add := func(k, v string) { h = append(h, transforms.Header{Key: k, Value: []byte(v)}) }
	add(HeaderError, de.Err.Error())
	add(HeaderStep, de.Step)
	add(HeaderStepIndex, strconv.Itoa(de.Index))
	add(HeaderPipeline, e.cfg.Pipeline)
	add(HeaderSourceTopic, src.Topic)
	add(HeaderSourcePartition, strconv.Itoa(int(src.Partition)))
	add(HeaderSourceOffset, strconv.FormatInt(src.Offset, 10))
	add(HeaderAttempts, strconv.Itoa(in.Attempts))
	add(HeaderFailedAt, time.Now().UTC().Format(time.RFC3339Nano))
	for _, k := range poisonKeys {
		if v, ok := md[k]; ok {
			add(k, v)
		}
	}
	return &Record{Topic: e.cfg.DeadLetterTopic, Key: in.Key, Value: in.Value, Headers: h, Timestamp: in.Timestamp}
}
