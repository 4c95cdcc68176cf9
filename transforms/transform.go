package transforms

import (
	"context"
	"log/slog"

	"github.com/millrace-dev/millrace/transforms/spec"
)

// Transform is one step of a chain. Apply returns the records that continue:
// none drops the record (filtered, not an error), one maps it, several fan it
// out. An error sends the input record to the dead-letter topic.
type Transform interface {
	Apply(ctx context.Context, r *Record) ([]*Record, error)
}

// Func adapts a function to Transform.
type Func func(ctx context.Context, r *Record) ([]*Record, error)

func (f Func) Apply(ctx context.Context, r *Record) ([]*Record, error) { return f(ctx, r) }

// Spec documents a transform and declares the shape of its config. YAML
// decoding, validation, the CLI docs, the generated catalogue and the example
// tests all come from it.
type Spec struct {
	// Name is the key that selects the transform in a step, such as "filter".
	Name string
	// Summary is one line for lists.
	Summary string
	// Description is the full text, Markdown.
	Description string
	// Config is the shape of the value under the transform's key.
	Config *spec.Type
	// Examples are run as tests and shown in the docs.
	Examples []Example
}

// Example is a whole step config with an input record and the outputs it must
// produce; every example is run as a test.
type Example struct {
	Title string
	// Config is the YAML value under the transform's key, such as `'amount > 0'`.
	Config string
	// Input is the JSON value of the input record.
	Input string
	// Output holds the JSON values of the expected outputs; empty means the
	// record is dropped.
	Output []string
	// Error, when set, is a text the error must contain.
	Error string
	// InputHeaders are the Kafka headers of the input record.
	InputHeaders map[string]string
	// Key, Topic and Timestamp, when set, are the Kafka key, the destination
	// topic and the record timestamp (RFC 3339) every output must carry, for
	// transforms that change the record rather than its value.
	Key       string
	Topic     string
	Timestamp string
	// Headers, when set, are the complete headers every output must carry.
	Headers map[string]string
}

// Factory builds a transform from its validated config. It runs when the
// config loads, to check it, and again for each run, replay and config
// test case, which get instances of their own: compile expressions, read
// files and secrets, and check what the spec cannot express here, never
// per record. Errors should be positioned with Config.Errorf (or the Value
// of the offending field).
type Factory func(b *Build) (Transform, error)

// Closer is implemented by transforms that hold resources. Close is called
// once on each instance: when the run, replay or test case it was built
// for ends, or right after loading for the instances built to check the
// config.
type Closer interface {
	Close() error
}

// Build is what a Factory gets: the config value, already checked against
// the spec, and helpers that report errors at the right place.
type Build struct {
	// Config is the value under the transform's key.
	Config *spec.Value
	// Type is the spec's Config: the shape Config was checked against,
	// which declares the defaults Decode applies.
	Type *spec.Type
	// Pipeline is the name of the pipeline being built.
	Pipeline string
	// Index is the position of the step in the chain, from 0.
	Index int
	// Logger logs for the transform; records' payloads must not be logged.
	Logger *slog.Logger
	// Exprs compiles expressions for Expr and Bool; nil when the chain is
	// built without an expression language (see ChainOptions.Exprs).
	Exprs ExprCompiler
}

// Decode copies the config into out (a pointer to a struct whose fields
// follow the spec; see spec.Decode). A field the config does not give
// takes the default its spec declares.
func (b *Build) Decode(out any) error {
	return spec.Decode(b.Config, b.Type, out)
}

// Expr compiles the expression in v, reporting a failure at v's position.
// A value whose error was already reported (an unset variable) gives
// spec.ErrReported, which spec.Errors.Add ignores.
func (b *Build) Expr(v *spec.Value) (Program, error) {
	if err := b.canCompile(v); err != nil {
		return nil, err
	}
	return b.Exprs.Compile(v)
}

// Bool compiles an expression in v that must yield a boolean.
func (b *Build) Bool(v *spec.Value) (Program, error) {
	if err := b.canCompile(v); err != nil {
		return nil, err
	}
	return b.Exprs.CompileBool(v)
}

func (b *Build) canCompile(v *spec.Value) error {
	if v.Failed {
		return spec.ErrReported
	}
	if b.Exprs == nil {
		return v.Errorf("expressions are not available here: the chain is built without an expression compiler").
			WithHint("set transforms.ChainOptions.Exprs, such as expression.Compiler{}")
	}
	return nil
}

// TopicNamer is implemented by transforms that choose a record's topic
// from names written in their config (route's cases and default). Those
// names are allowed destinations of the pipeline when its
// output.allowed_topics is not given; a topic computed at run time from
// the record is allowed only if the config names or allows it.
type TopicNamer interface {
	TopicNames() []string
}
