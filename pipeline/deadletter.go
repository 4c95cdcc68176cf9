package pipeline

import (
	"errors"
	"strconv"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/message/router/middleware"
	"github.com/millrace-dev/millrace/pipeline/config"
	"github.com/millrace-dev/millrace/pipeline/kafka"
	"github.com/millrace-dev/millrace/pipeline/observe"
	"github.com/millrace-dev/millrace/transforms"
)

// Headers added to a dead-letter record. The record keeps its original key,
// value (byte for byte) and headers, plus a traceparent header when it had
// none or an invalid one (see observe.TraceparentHeader); these say why it
// failed.
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

// metaAttempts counts handler runs of a message, across retries and nacks.
const metaAttempts = "_millrace_attempts"

// MetaAttempts is the metadata key of a message's attempt counter. A
// dead-letter redrive seeds it from the record's HeaderAttempts, so that a
// record that fails again goes back with its count raised.
const MetaAttempts = metaAttempts

// DataError is a record that cannot be processed whatever we retry: bad JSON,
// a failing transform or expression. It goes to the dead-letter topic.
type DataError struct {
	Step  string
	Index int
	Err   error
}

func (e *DataError) Error() string { return e.Err.Error() }
func (e *DataError) Unwrap() error { return e.Err }

// isDataError reports whether err is about the record rather than the
// infrastructure: such errors skip retries and go to the dead-letter topic.
func isDataError(err error) bool {
	var de *DataError
	var pe middleware.RecoveredPanicError
	return errors.As(err, &de) || errors.As(err, &pe)
}

// dataError wraps err and writes the dead-letter headers onto msg, so that
// the poison-queue middleware publishes the record with them.
func (p *pipe) dataError(msg *message.Message, err error) error {
	de := &DataError{Step: "decode", Index: -1, Err: err}
	var se *transforms.StepError
	switch {
	case errors.As(err, &se):
		de.Step, de.Index, de.Err = se.Name, se.Index, se.Err
	case errors.As(err, new(*config.RouteError)):
		de.Step = "output"
	}
	md := msg.Metadata
	md.Set(HeaderError, de.Err.Error())
	md.Set(HeaderStep, de.Step)
	md.Set(HeaderStepIndex, strconv.Itoa(de.Index))
	md.Set(HeaderPipeline, p.cfg.Name)
	md.Set(HeaderSourceTopic, md.Get(kafka.MetaTopic))
	md.Set(HeaderSourcePartition, md.Get(kafka.MetaPartition))
	md.Set(HeaderSourceOffset, md.Get(kafka.MetaOffset))
	md.Set(HeaderAttempts, md.Get(metaAttempts))
	md.Set(HeaderFailedAt, time.Now().UTC().Format(time.RFC3339Nano))
	attrs := []any{"step", de.Step, "step_index", de.Index,
		"topic", md.Get(kafka.MetaTopic), "partition", md.Get(kafka.MetaPartition), "offset", md.Get(kafka.MetaOffset),
		"attempts", md.Get(metaAttempts), "traceparent", md.Get(observe.TraceparentHeader), "error", de.Err.Error()}
	if p.logPayloads {
		attrs = append(attrs, "payload", string(msg.Payload))
	}
	p.log.Warn("record failed", attrs...)
	return de
}

// countAttempt increments the attempt counter of msg.
func countAttempt(msg *message.Message) {
	n := 0
	if s := msg.Metadata.Get(metaAttempts); s != "" {
		n, _ = strconv.Atoi(s)
	}
	msg.Metadata.Set(metaAttempts, strconv.Itoa(n+1))
}
