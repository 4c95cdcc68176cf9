package transforms_test

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/millrace-dev/millrace/transforms"
	"github.com/millrace-dev/millrace/transforms/expression"
	"github.com/millrace-dev/millrace/transforms/spec"
	"github.com/millrace-dev/millrace/transforms/transformstest"
)

// maskSpec is a transform as a Go developer would add one: a spec that
// declares the config shape and examples, and a factory.
var maskSpec = transforms.Spec{
	Name:        "stars",
	Summary:     "Replace all but the last characters of string fields.",
	Description: "Each listed field path that holds a string is masked with `*`.",
	Config: spec.Object("",
		&spec.Field{Name: "fields", Type: spec.List(spec.String("Field path."), 1, ""), Required: true},
		&spec.Field{Name: "keep", Type: spec.Int("Characters left visible."), Default: 4},
	),
	Examples: []transforms.Example{
		{Title: "Mask a card number", Config: `{fields: [card.number]}`, Input: `{"card":{"number":"4111111111111111"}}`,
			Output: []string{`{"card":{"number":"************1111"}}`}},
		{Title: "Keep two", Config: `{fields: [pin, missing], keep: 2}`, Input: `{"pin":"1234"}`, Output: []string{`{"pin":"**34"}`}},
		{Title: "Non-strings fail", Config: `{fields: [n]}`, Input: `{"n":5}`, Error: "field n is not a string"},
	},
}

func newMask(b *transforms.Build) (transforms.Transform, error) {
	var c struct {
		Fields []string
		Keep   int // the spec's default when not given
	}
	if err := b.Decode(&c); err != nil {
		return nil, err
	}
	fields, keep := c.Fields, c.Keep
	if keep < 0 {
		return nil, b.Config.Get("keep").Errorf("keep must not be negative")
	}
	return transforms.Func(func(_ context.Context, r *transforms.Record) ([]*transforms.Record, error) {
		obj, err := r.Object()
		if err != nil {
			return nil, err
		}
		for _, f := range fields {
			v, ok := transforms.Get(obj, f)
			if !ok {
				continue
			}
			s, ok := v.(string)
			if !ok {
				return nil, fmt.Errorf("field %s is not a string", f)
			}
			if n := len(s) - keep; n > 0 {
				s = strings.Repeat("*", n) + s[n:]
			}
			if err := transforms.Set(obj, f, s); err != nil {
				return nil, err
			}
		}
		return []*transforms.Record{r}, nil
	}), nil
}

func TestCustomTransform(t *testing.T) {
	reg := transforms.Default.Clone()
	reg.Register(maskSpec, newMask)

	transformstest.Env{Registry: reg, Exprs: expression.Compiler{}}.Examples(t, "stars")

	chain := buildChain(t, reg, `
- filter: 'card.brand == "visa"'
- stars: {fields: [card.number], keep: 2}
- set: {masked: 'true'}
`)
	got, err := runJSON(t, chain, `{"card":{"brand":"visa","number":"4242"}}`)
	if err != nil || len(got) != 1 || got[0] != `{"card":{"brand":"visa","number":"**42"},"masked":true}` {
		t.Errorf("Run = %q, %v", got, err)
	}

	// The spec checks the config before the factory sees it, and the factory
	// reports its own errors at the right place.
	for _, tc := range []struct{ steps, want string }{
		{`- stars: {feilds: [a]}`, "steps.yaml:1:10: missing required key \"fields\"\nsteps.yaml:1:11: unknown key \"feilds\" (did you mean \"fields\"?)"},
		{`- stars: {fields: [a], keep: x}`, "steps.yaml:1:30: expected an integer, got a string"},
		{`- stars: {fields: [a], keep: -1}`, "steps.yaml:1:30: keep must not be negative"},
		{`- stars: {fields: []}`, "steps.yaml:1:19: expected at least 1 item, got 0"},
		{`- sters: {fields: [a]}`, `steps.yaml:1:3: unknown transform "sters" (did you mean "stars"?)`},
	} {
		_, err := tryBuild(reg, tc.steps)
		if err == nil || err.Error() != tc.want {
			t.Errorf("%s:\ngot  %v\nwant %s", tc.steps, err, tc.want)
		}
	}

	// The clone is isolated: Default does not know stars.
	if _, ok := transforms.Default.Lookup("stars"); ok {
		t.Error("registering in a clone changed Default")
	}
	if _, err := tryBuild(transforms.Default, `- stars: {fields: [a]}`); err == nil || !strings.Contains(err.Error(), `unknown transform "stars"`) {
		t.Errorf("Default built a mask step: %v", err)
	}
}

func TestLookup(t *testing.T) {
	reg := transforms.NewRegistry()
	reg.Register(maskSpec, newMask)
	if r, ok := reg.Lookup("stars"); !ok || r.Spec.Name != "stars" || r.New == nil {
		t.Errorf("Lookup(stars) = %+v, %v", r, ok)
	}
	if _, ok := reg.Lookup("nope"); ok {
		t.Error("Lookup(nope) found something")
	}
}

func TestNewRegistryIsEmpty(t *testing.T) {
	reg := transforms.NewRegistry()
	if len(reg.Names()) != 0 {
		t.Errorf("NewRegistry has %q", reg.Names())
	}
	_, err := tryBuild(reg, `- filter: 'true'`)
	if err == nil || err.Error() != `steps.yaml:1:3: unknown transform "filter" (available: )` {
		t.Errorf("got %v", err)
	}
	var n atomic.Int64
	reg.Register(transforms.Spec{Name: "count", Summary: "Counts.", Config: spec.Any("")},
		func(*transforms.Build) (transforms.Transform, error) {
			return transforms.Func(func(_ context.Context, r *transforms.Record) ([]*transforms.Record, error) {
				n.Add(1)
				return []*transforms.Record{r}, nil
			}), nil
		})
	chain := buildChain(t, reg, "- count: 1\n- count: {any: [thing]}")
	if _, err := chain.Run(t.Context(), record(t, `{}`)); err != nil || n.Load() != 2 {
		t.Errorf("Run: %v, count %d", err, n.Load())
	}
}

func TestRegisterPanics(t *testing.T) {
	factory := func(*transforms.Build) (transforms.Transform, error) { return nil, nil }
	anyConfig := spec.Any("")
	for _, tc := range []struct {
		name    string
		spec    transforms.Spec
		factory transforms.Factory
		want    string
	}{
		{"duplicate", transforms.Spec{Name: "x", Summary: "X.", Config: anyConfig}, factory, `transforms: "x" registered twice`},
		{"duplicate built-in", transforms.Spec{Name: "filter", Summary: "F.", Config: anyConfig}, factory, `transforms: "filter" registered twice`},
		{"reserved", transforms.Spec{Name: "when", Summary: "W.", Config: anyConfig}, factory, `transforms: "when" is a reserved step key`},
		{"no name", transforms.Spec{Summary: "S.", Config: anyConfig}, factory, `transforms: incomplete spec for "": name, summary, config and factory are required`},
		{"no summary", transforms.Spec{Name: "y", Config: anyConfig}, factory, `transforms: incomplete spec for "y": name, summary, config and factory are required`},
		{"no config", transforms.Spec{Name: "y", Summary: "Y."}, factory, `transforms: incomplete spec for "y": name, summary, config and factory are required`},
		{"no factory", transforms.Spec{Name: "y", Summary: "Y.", Config: anyConfig}, nil, `transforms: incomplete spec for "y": name, summary, config and factory are required`},
		{"bad default", transforms.Spec{Name: "y", Summary: "Y.", Config: spec.Object("", &spec.Field{Name: "every", Type: spec.Duration(""), Default: 5})}, factory,
			`transforms: spec for "y": default of every: expected a duration such as 100ms or 5s, got "5"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			reg := transforms.Default.Clone()
			reg.Register(transforms.Spec{Name: "x", Summary: "X.", Config: anyConfig}, factory)
			defer func() {
				if p := recover(); p != tc.want {
					t.Errorf("panic %v, want %q", p, tc.want)
				}
			}()
			reg.Register(tc.spec, tc.factory)
		})
	}
}

func TestRunExampleReportsMismatch(t *testing.T) {
	for _, tc := range []struct {
		ex   transforms.Example
		want string
	}{
		{transforms.Example{Config: `{a: b}`, Input: `{"a":1}`, Output: []string{`{"b":2}`}}, `output 0: want {"b":2}, got {"b":1}`},
		{transforms.Example{Config: `{a: b}`, Input: `{"a":1}`}, "want 0 output(s), got 1"},
		{transforms.Example{Config: `{a: b}`, Input: `{"a":1}`, Error: "boom"}, `want an error containing "boom", got <nil>`},
		{transforms.Example{Config: `{a: b}`, Input: `{`}, "input: invalid JSON: unexpected EOF"},
		{transforms.Example{Title: "t", Config: `{}`, Input: `{}`}, `rename example "t":1:11: expected at least 1 entry, got 0`},
	} {
		err := (transformstest.Env{Exprs: expression.Compiler{}}).RunExample("rename", tc.ex)
		if err == nil || err.Error() != tc.want {
			t.Errorf("got %v, want %s", err, tc.want)
		}
	}
}
