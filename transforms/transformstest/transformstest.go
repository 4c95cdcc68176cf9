// Package transformstest tests transforms without a broker: it builds steps
// from YAML as a pipeline does, runs a spec's examples and passes JSON
// records through a chain. Custom transforms use it as the built-ins do:
//
//	func TestSpecExamples(t *testing.T) {
//		reg := transforms.NewRegistry()
//		reg.Register(mytransform.Spec, mytransform.New)
//		transformstest.Env{Registry: reg}.Examples(t, mytransform.Spec.Name)
//	}
package transformstest

import (
	"context"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/millrace-dev/millrace/transforms"
	"github.com/millrace-dev/millrace/transforms/codec"
	"github.com/millrace-dev/millrace/transforms/spec"
)

// Env is what steps are built with.
type Env struct {
	// Registry resolves transform names; nil means transforms.Default.
	Registry *transforms.Registry
	// Exprs compiles the steps' expressions, as ChainOptions.Exprs: the
	// built-ins and any transform that calls Build.Expr or Build.Bool need
	// one, such as expression.Compiler{}. Nil makes expressions config
	// errors, which keeps a test of a transform without them free of
	// expr-lang.
	Exprs transforms.ExprCompiler
	// LookupEnv expands ${VAR} in the steps' YAML; nil expands nothing.
	LookupEnv spec.LookupEnv
}

func (e Env) registry() *transforms.Registry {
	if e.Registry == nil {
		return transforms.Default
	}
	return e.Registry
}

// Chain builds a chain from a YAML list of steps, as a pipeline's
// `transforms:` list, for the pipeline "test". Config errors are
// spec.Errors in the file "steps.yaml".
func (e Env) Chain(steps string) (*transforms.Chain, error) {
	return e.chain("steps.yaml", "test", steps)
}

// MustChain is Chain for steps that must build: an error fails t.
func (e Env) MustChain(t testing.TB, steps string) *transforms.Chain {
	t.Helper()
	c, err := e.Chain(steps)
	if err != nil {
		t.Fatalf("steps do not build:\n%v", err)
	}
	return c
}

func (e Env) chain(file, pipeline, steps string) (*transforms.Chain, error) {
	v, errs := spec.ParseYAML(file, []byte(steps), e.LookupEnv)
	if err := errs.Err(); err != nil {
		return nil, err
	}
	chain, errs := transforms.BuildChain(e.registry(), v, transforms.ChainOptions{Pipeline: pipeline, Exprs: e.Exprs})
	if err := errs.Err(); err != nil {
		return nil, err
	}
	return chain, nil
}

// Examples runs every example of the named transform as a subtest of t; a
// transform without examples fails t.
func (e Env) Examples(t *testing.T, name string) {
	t.Helper()
	reg, ok := e.registry().Lookup(name)
	if !ok {
		t.Fatalf("transform %q is not registered", name)
	}
	if len(reg.Spec.Examples) == 0 {
		t.Errorf("%s: spec has no examples", name)
	}
	for _, ex := range reg.Spec.Examples {
		t.Run(ex.Title, func(t *testing.T) {
			if err := e.RunExample(name, ex); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// RunExample builds the example's step from its YAML, applies it to the
// example's input and compares the outputs with the expected ones.
func (e Env) RunExample(name string, ex transforms.Example) error {
	chain, err := e.chain(fmt.Sprintf("%s example %q", name, ex.Title), "example", "- "+name+": "+ex.Config)
	if err != nil {
		return err
	}
	in, err := codec.Decode([]byte(ex.Input))
	if err != nil {
		return fmt.Errorf("input: %w", err)
	}
	rec := &transforms.Record{Value: in}
	for _, k := range slices.Sorted(maps.Keys(ex.InputHeaders)) {
		rec.Headers.Add(k, ex.InputHeaders[k])
	}
	outs, err := chain.Run(context.Background(), rec)
	if ex.Error != "" {
		if err == nil || !strings.Contains(err.Error(), ex.Error) {
			return fmt.Errorf("want an error containing %q, got %v", ex.Error, err)
		}
		return nil
	}
	if err != nil {
		return err
	}
	if len(outs) != len(ex.Output) {
		return fmt.Errorf("want %d output(s), got %d", len(ex.Output), len(outs))
	}
	for i, o := range outs {
		got, err := codec.Encode(o.Value)
		if err != nil {
			return err
		}
		want, err := codec.Decode([]byte(ex.Output[i]))
		if err != nil {
			return fmt.Errorf("output %d: %w", i, err)
		}
		// Compare as JSON: 9.0 computed and 9 written are the same output.
		norm, err := codec.Decode(got)
		if err != nil {
			return fmt.Errorf("output %d: %w", i, err)
		}
		if !reflect.DeepEqual(norm, want) {
			return fmt.Errorf("output %d: want %s, got %s", i, ex.Output[i], got)
		}
		if err := checkRecord(ex, o); err != nil {
			return fmt.Errorf("output %d: %w", i, err)
		}
	}
	return nil
}

// checkRecord compares the Kafka fields of an output with the expected ones.
func checkRecord(ex transforms.Example, o *transforms.Record) error {
	if ex.Key != "" && string(o.Key) != ex.Key {
		return fmt.Errorf("want key %q, got %q", ex.Key, o.Key)
	}
	if ex.Topic != "" && o.Topic != ex.Topic {
		return fmt.Errorf("want topic %q, got %q", ex.Topic, o.Topic)
	}
	if ex.Timestamp != "" {
		want, err := time.Parse(time.RFC3339Nano, ex.Timestamp)
		if err != nil {
			return fmt.Errorf("example timestamp: %w", err)
		}
		if !o.Timestamp.Equal(want) {
			return fmt.Errorf("want timestamp %s, got %s", ex.Timestamp, o.Timestamp.Format(time.RFC3339Nano))
		}
	}
	if ex.Headers != nil && (len(o.Headers) != len(ex.Headers) || !maps.Equal(o.Headers.Map(), ex.Headers)) {
		return fmt.Errorf("want headers %v, got %v", ex.Headers, o.Headers)
	}
	return nil
}

// Record returns a record whose value is the JSON text js; invalid JSON
// fails t.
func Record(t testing.TB, js string) *transforms.Record {
	t.Helper()
	v, err := codec.Decode([]byte(js))
	if err != nil {
		t.Fatalf("record %s: %v", js, err)
	}
	return &transforms.Record{Value: v}
}

// Run applies the chain to r and returns the values of the outputs as JSON
// (keys sorted), or the chain's error.
func Run(t testing.TB, chain *transforms.Chain, r *transforms.Record) ([]string, error) {
	t.Helper()
	outs, err := chain.Run(t.Context(), r)
	if err != nil {
		return nil, err
	}
	res := []string{}
	for _, o := range outs {
		b, err := codec.Encode(o.Value)
		if err != nil {
			t.Fatalf("output does not encode: %v", err)
		}
		res = append(res, string(b))
	}
	return res, nil
}
