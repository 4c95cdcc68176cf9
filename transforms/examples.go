package transforms

import (
	"context"
	"fmt"
	"reflect"
	"strings"

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
	in, err := Decode([]byte(ex.Input))
	if err != nil {
		return fmt.Errorf("input: %w", err)
	}
	outs, err := chain.Run(context.Background(), &Record{Value: in, Headers: map[string]string{}})
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
		got, err := Encode(o.Value)
		if err != nil {
			return err
		}
		want, err := Decode([]byte(ex.Output[i]))
		if err != nil {
			return fmt.Errorf("output %d: %w", i, err)
		}
		if !reflect.DeepEqual(o.Value, want) {
			return fmt.Errorf("output %d: want %s, got %s", i, ex.Output[i], got)
		}
	}
	return nil
}
