package transforms

import (
	"context"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/millrace-dev/millrace/transforms/codec"
	"github.com/millrace-dev/millrace/transforms/spec"
)

// RunExample builds the example's step from its YAML, applies it to the
// example's input and compares the outputs with the expected ones. Custom
// transforms can use it to test their specs without a broker.
func (r *Registry) RunExample(name string, ex Example) error {
	file := fmt.Sprintf("%s example %q", name, ex.Title)
	stepYAML := name + ": " + ex.Config
	v, errs := spec.ParseYAML(file, []byte("- "+stepYAML), nil)
	if err := errs.Err(); err != nil {
		return err
	}
	chain, errs := BuildChain(r, v, "example")
	if err := errs.Err(); err != nil {
		return err
	}
	in, err := codec.Decode([]byte(ex.Input))
	if err != nil {
		return fmt.Errorf("input: %w", err)
	}
	rec := &Record{Value: in}
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
		if err := ex.checkRecord(o); err != nil {
			return fmt.Errorf("output %d: %w", i, err)
		}
	}
	return nil
}

// checkRecord compares the Kafka fields of an output with the expected ones.
func (ex Example) checkRecord(o *Record) error {
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
