// Package transforms is the SDK a transform is written with: the record
// model, the Transform interface, the spec a transform declares its config
// with, the registry that YAML names resolve through, and the chain that
// runs steps in order. It depends on no expression language, JSON Schema
// validator or jq: the built-ins live in package transforms/builtin, the
// expression language in transforms/expression, which a chain's builder
// supplies (ChainOptions.Exprs). Package transforms/transformstest tests a
// transform without a broker.
package transforms

import (
	"errors"
	"time"

	"github.com/millrace-dev/millrace/transforms/codec"
)

// Record is one Kafka record on its way through a chain. Transforms may change
// every field but Source. Its key, header values and value belong to the
// record being processed: the runner reuses their memory once the record
// is done, so a transform that keeps any of them beyond Apply (state
// across records) keeps a copy.
type Record struct {
	// Key is the Kafka key; nil means no key.
	Key []byte
	// Value is the decoded JSON value, usually a map[string]any.
	Value any
	// Headers are the Kafka headers, in order, repeats kept.
	Headers Headers
	// Timestamp is the Kafka record timestamp.
	Timestamp time.Time
	// Topic is the destination chosen by a transform; empty lets the
	// pipeline's output routes decide.
	Topic string
	// Source is where the record was read; read-only.
	Source Source

	one [1]*Record // One's result: a record kept as is costs no slice
}

// One is the result of a transform that keeps r (and only r): a slice
// that r holds itself, so that the common one-in, one-out step allocates
// nothing. Read it, do not keep or append to it.
func (r *Record) One() []*Record {
	r.one[0] = r
	return r.one[:1:1]
}

// Source is the position of the input record in Kafka.
type Source struct {
	Topic     string
	Partition int32
	Offset    int64
	Timestamp time.Time
}

// ErrNotObject is returned when a transform needs a JSON object and the record
// value is something else.
var ErrNotObject = errors.New("record value is not a JSON object")

// Object returns the record value as a JSON object.
func (r *Record) Object() (map[string]any, error) {
	m, ok := r.Value.(map[string]any)
	if !ok {
		return nil, ErrNotObject
	}
	return m, nil
}

// Clone returns a deep copy of r, for transforms that fan out.
func (r *Record) Clone() *Record {
	c := *r
	if r.Key != nil {
		c.Key = append([]byte(nil), r.Key...)
	}
	c.Headers = r.Headers.Clone()
	c.Value = codec.DeepCopy(r.Value)
	return &c
}
