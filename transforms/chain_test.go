package transforms_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/millrace-dev/millrace/transforms"
	"github.com/millrace-dev/millrace/transforms/codec"
	"github.com/millrace-dev/millrace/transforms/spec"
	"github.com/millrace-dev/millrace/transforms/transformstest"
)

// testRegistry is the built-ins plus test transforms:
//
//	fanout: {field: items}  one output per item of a list field, as "item"
//	count: {}               counts the records it sees in counted
//	explode: <message>      panics with the message
//	fail: <message>         returns an error with the message
func testRegistry(counted *atomic.Int64) *transforms.Registry {
	reg := transforms.Default.Clone()
	reg.Register(transforms.Spec{
		Name:    "fanout",
		Summary: "One record per item of a list field.",
		Config:  spec.Object("", &spec.Field{Name: "field", Type: spec.String("List field."), Required: true}),
		Examples: []transforms.Example{{
			Title: "Two items", Config: `{field: items}`, Input: `{"id":1,"items":["a","b"]}`,
			Output: []string{`{"id":1,"item":"a"}`, `{"id":1,"item":"b"}`},
		}},
	}, func(b *transforms.Build) (transforms.Transform, error) {
		field := b.Config.Get("field").Text
		return transforms.Func(func(_ context.Context, r *transforms.Record) ([]*transforms.Record, error) {
			obj, err := r.Object()
			if err != nil {
				return nil, err
			}
			items, ok := obj[field].([]any)
			if !ok {
				return nil, fmt.Errorf("field %s is not a list", field)
			}
			var out []*transforms.Record
			for _, it := range items {
				c := r.Clone()
				m := c.Value.(map[string]any)
				delete(m, field)
				m["item"] = it
				out = append(out, c)
			}
			return out, nil
		}), nil
	})
	reg.Register(transforms.Spec{Name: "count", Summary: "Counts records.", Config: spec.Any("")},
		func(*transforms.Build) (transforms.Transform, error) {
			return transforms.Func(func(_ context.Context, r *transforms.Record) ([]*transforms.Record, error) {
				counted.Add(1)
				return []*transforms.Record{r}, nil
			}), nil
		})
	reg.Register(transforms.Spec{Name: "explode", Summary: "Panics.", Config: spec.String("")},
		func(b *transforms.Build) (transforms.Transform, error) {
			msg := b.Config.Text
			return transforms.Func(func(context.Context, *transforms.Record) ([]*transforms.Record, error) {
				panic(msg)
			}), nil
		})
	reg.Register(transforms.Spec{Name: "fail", Summary: "Fails.", Config: spec.String("")},
		func(b *transforms.Build) (transforms.Transform, error) {
			err := errors.New(b.Config.Text)
			return transforms.Func(func(context.Context, *transforms.Record) ([]*transforms.Record, error) {
				return nil, err
			}), nil
		})
	return reg
}

func TestChainDrop(t *testing.T) {
	var n atomic.Int64
	chain := buildChain(t, testRegistry(&n), `
- filter: 'keep'
- count: {}
`)
	outs, err := chain.Run(t.Context(), record(t, `{"keep":false}`))
	if err != nil {
		t.Fatalf("a filtered record is not an error: %v", err)
	}
	if len(outs) != 0 {
		t.Fatalf("filtered record produced %d outputs", len(outs))
	}
	if n.Load() != 0 {
		t.Errorf("steps after a drop ran %d times", n.Load())
	}
	outs, err = chain.Run(t.Context(), record(t, `{"keep":true}`))
	if err != nil || len(outs) != 1 || n.Load() != 1 {
		t.Errorf("kept record: %v, %v, count %d", outs, err, n.Load())
	}
}

func TestChainMap(t *testing.T) {
	chain := buildChain(t, transforms.Default, `
- set: {b: 'a + 1'}
- rename: {a: old.a}
- drop: [old]
`)
	r := record(t, `{"a":1}`)
	outs, err := chain.Run(t.Context(), r)
	if err != nil || len(outs) != 1 {
		t.Fatalf("Run = %v, %v", outs, err)
	}
	if outs[0] != r {
		t.Error("a mapping step must pass the same record on")
	}
	got, _ := codec.Encode(outs[0].Value)
	if string(got) != `{"b":2}` {
		t.Errorf("got %s", got)
	}
}

func TestChainFanOut(t *testing.T) {
	var n atomic.Int64
	chain := buildChain(t, testRegistry(&n), `
- fanout: {field: items}
- set: {upper: upper(item)}
- count: {}
- filter: 'item != "skip"'
`)
	r := record(t, `{"id":7,"items":["a","skip","b"]}`)
	r.Key = []byte("k")
	r.Headers.Set("h", "v")
	got, err := chain.Run(t.Context(), r)
	if err != nil {
		t.Fatal(err)
	}
	if n.Load() != 3 {
		t.Errorf("later steps saw %d records, want 3", n.Load())
	}
	var js []string
	for _, o := range got {
		b, _ := codec.Encode(o.Value)
		js = append(js, string(b))
		if string(o.Key) != "k" || o.Headers.Map()["h"] != "v" {
			t.Errorf("fanned-out record lost key or headers: %q %v", o.Key, o.Headers)
		}
	}
	want := `{"id":7,"item":"a","upper":"A"} {"id":7,"item":"b","upper":"B"}`
	if strings.Join(js, " ") != want {
		t.Errorf("got  %s\nwant %s", strings.Join(js, " "), want)
	}
	// The outputs are independent copies.
	got[0].Value.(map[string]any)["id"] = 0
	if got[1].Value.(map[string]any)["id"] != 7 {
		t.Error("fanned-out records share their value")
	}
}

func TestChainErrors(t *testing.T) {
	var n atomic.Int64
	reg := testRegistry(&n)
	for _, tc := range []struct {
		steps, want string
		index       int
		name        string
	}{
		{"- set: {a: '1'}\n- fail: broken\n- count: {}\n", "step 1 (fail): broken", 1, "fail"},
		{"- set: {a: '1'}\n- drop: [x]\n- explode: boom\n", "step 2 (explode): panic: boom", 2, "explode"},
		{"- filter: 'a.b > 1'\n", `step 0 (filter): expression "a.b > 1": field a.b is missing or null (column 3)`, 0, "filter"},
		{"- fanout: {field: nope}\n", "step 0 (fanout): field nope is not a list", 0, "fanout"},
	} {
		chain := buildChain(t, reg, tc.steps)
		outs, err := chain.Run(t.Context(), record(t, `{"a":{}}`))
		if outs != nil {
			t.Errorf("%s: outputs with an error: %v", tc.name, outs)
		}
		var se *transforms.StepError
		if !errors.As(err, &se) {
			t.Fatalf("%s: got %T %v, want a StepError", tc.name, err, err)
		}
		if se.Name != tc.name || se.Index != tc.index || err.Error() != tc.want {
			t.Errorf("got %s/%d %q, want %s/%d %q", se.Name, se.Index, err, tc.name, tc.index, tc.want)
		}
		if se.Unwrap() == nil || errors.Unwrap(err) != se.Err {
			t.Errorf("%s: StepError does not unwrap", tc.name)
		}
	}
	if n.Load() != 0 {
		t.Errorf("a step after a failure ran %d times", n.Load())
	}
}

// A panic inside a transform fails the record, and the chain stays usable.
func TestChainPanicIsStepError(t *testing.T) {
	var n atomic.Int64
	chain := buildChain(t, testRegistry(&n), `
- explode: 'nil map'
  when: 'bad == true'
- count: {}
`)
	_, err := chain.Run(t.Context(), record(t, `{"bad":true}`))
	if err == nil || err.Error() != "step 0 (explode): panic: nil map" {
		t.Fatalf("got %v", err)
	}
	outs, err := chain.Run(t.Context(), record(t, `{"bad":false}`))
	if err != nil || len(outs) != 1 || n.Load() != 1 {
		t.Errorf("chain after a panic: %v, %v, count %d", outs, err, n.Load())
	}
}

func TestStepWhen(t *testing.T) {
	chain := buildChain(t, transforms.Default, `
- set: {tagged: 'true'}
  when: 'country == "DE"'
- drop: [secret]
  when: 'kafka.topic == "public"'
- filter: 'amount > 10'
  when: 'has_amount'
`)
	for _, tc := range []struct {
		in, topic string
		want      []string
	}{
		{`{"country":"DE","secret":1}`, "internal", []string{`{"country":"DE","secret":1,"tagged":true}`}},
		{`{"country":"FR","secret":1}`, "public", []string{`{"country":"FR"}`}},
		// when false: passed on unchanged, not dropped.
		{`{"country":"FR","amount":1}`, "", []string{`{"amount":1,"country":"FR"}`}},
		{`{"country":"FR","amount":1,"has_amount":null}`, "", []string{`{"amount":1,"country":"FR","has_amount":null}`}},
		{`{"amount":1,"has_amount":true}`, "", nil},
		{`{"amount":11,"has_amount":true}`, "", []string{`{"amount":11,"has_amount":true}`}},
	} {
		r := record(t, tc.in)
		r.Source.Topic = tc.topic
		outs, err := chain.Run(t.Context(), r)
		if err != nil {
			t.Errorf("%s: %v", tc.in, err)
			continue
		}
		var got []string
		for _, o := range outs {
			b, _ := codec.Encode(o.Value)
			got = append(got, string(b))
		}
		if strings.Join(got, " ") != strings.Join(tc.want, " ") {
			t.Errorf("%s on %q: got %q, want %q", tc.in, tc.topic, got, tc.want)
		}
	}
	_, err := chain.Run(t.Context(), record(t, `{"country":"DE","has_amount":"yes"}`))
	want := `step 2 (filter): when: expression "has_amount": invalid operation: bool(string) (column 1)`
	if err == nil || err.Error() != want {
		t.Errorf("failing when: got %v, want %s", err, want)
	}
	if s := chain.Steps[0]; s.When == nil || s.When.Source() != `country == "DE"` || s.Name != "set" || s.Index != 0 {
		t.Errorf("step 0 = %+v", s)
	}
	if s := chain.Steps[1]; s.Pos != (spec.Pos{File: "steps.yaml", Line: 4, Col: 3}) {
		t.Errorf("step 1 at %v", s.Pos)
	}
}

func TestEmptyChain(t *testing.T) {
	chain, errs := transforms.BuildChain(transforms.Default, nil, transforms.ChainOptions{Pipeline: "p"})
	if len(errs) != 0 || len(chain.Steps) != 0 {
		t.Fatalf("BuildChain(nil) = %+v, %v", chain, errs)
	}
	r := record(t, `{"a":1}`)
	outs, err := chain.Run(t.Context(), r)
	if err != nil || len(outs) != 1 || outs[0] != r {
		t.Errorf("empty chain: %v, %v", outs, err)
	}
	// An empty chain passes any value, even one that is not an object.
	if outs, err := chain.Run(t.Context(), record(t, `[1]`)); err != nil || len(outs) != 1 {
		t.Errorf("empty chain on a list: %v, %v", outs, err)
	}
}

// hint ends the errors of expressions that do not compile.
const hint = "(see docs/expressions.md for the syntax, fields and functions)"

func TestBuildChainErrors(t *testing.T) {
	available := strings.Join(transforms.Default.Names(), ", ")
	for _, tc := range []struct{ steps, want string }{
		{`{filter: x}`, "steps.yaml:1:1: expected a list of transform steps, got a mapping"},
		{`- 5`, "steps.yaml:1:3: expected a transform step such as `- filter: 'amount > 0'`, got an integer"},
		{`- when: 'true'`, "steps.yaml:1:3: step has no transform (available: " + available + ")"},
		{`- filtre: 'true'`, `steps.yaml:1:3: unknown transform "filtre" (did you mean "filter"?)`},
		{`- Filter: 'true'`, `steps.yaml:1:3: unknown transform "Filter" (did you mean "filter"?)`},
		{"- filter: 'true'\n  drop: [a]\n  set: {a: '1'}", "steps.yaml:2:3: a step holds one transform, found \"filter\" and \"drop\" (start a new list item with -)\n" +
			"steps.yaml:3:3: a step holds one transform, found \"filter\" and \"set\" (start a new list item with -)"},
		{"- drop: [a]\n  when: [x]", "steps.yaml:2:9: expected an expression (string), got a list"},
		{"- drop: [a]\n  when: ''", "steps.yaml:2:9: empty expression"},
		{"- drop: [a]\n  when: 'x +'", `steps.yaml:2:12: invalid expression "x +": unexpected token EOF ` + hint},
		{"- drop: a", "steps.yaml:1:9: expected a list of strings, got a string"},
		{"- rename: {a: [b]}", "steps.yaml:1:15: expected a string, got a list"},
		{"- set: {a: ''}", "steps.yaml:1:12: empty expression"},
		{"- set: {a: 'x +', b: 'y *'}", `steps.yaml:1:15: invalid expression "x +": unexpected token EOF ` + hint + "\n" +
			`steps.yaml:1:25: invalid expression "y *": unexpected token EOF ` + hint},
		// Every step is checked, not only the first bad one.
		{"- nope: 1\n- filter: ''\n- drop: []", "steps.yaml:1:3: unknown transform \"nope\" (available: " + available + ")\n" +
			"steps.yaml:2:11: empty expression\nsteps.yaml:3:9: expected at least 1 item, got 0"},
	} {
		_, err := tryBuild(transforms.Default, tc.steps)
		if err == nil || err.Error() != tc.want {
			t.Errorf("%s:\ngot  %v\nwant %s", tc.steps, err, tc.want)
		}
	}
}

// Without an expression compiler the SDK compiles no expression: a step
// whose factory asks for one, or a `when`, is a config error at its place.
func TestBuildWithoutExprs(t *testing.T) {
	env := transformstest.Env{}
	const want = "steps.yaml:%s: expressions are not available here: the chain is built without an expression compiler " +
		"(set transforms.ChainOptions.Exprs, such as expression.Compiler{})"
	for steps, at := range map[string]string{
		"- filter: 'amount > 0'":        "1:11",
		"- drop: [a]\n  when: 'a == 1'": "2:9",
	} {
		if _, err := env.Chain(steps); err == nil || err.Error() != fmt.Sprintf(want, at) {
			t.Errorf("%s: got %v", steps, err)
		}
	}
	if _, err := env.Chain("- drop: [a]"); err != nil {
		t.Errorf("a step without expressions: %v", err)
	}
}

// Runs one chain from many goroutines, for the race detector.
func TestChainConcurrent(t *testing.T) {
	chain := buildChain(t, transforms.Default, `
- filter: 'n % 2 == 0'
- set: {h: 'sha1(string(n))', k: kafka.key}
- rename: {h: meta.hash}
- drop: [n]
`)
	var wg sync.WaitGroup
	var kept atomic.Int64
	for i := range 64 {
		wg.Go(func() {
			r := record(t, fmt.Sprintf(`{"n":%d}`, i))
			r.Key = []byte(fmt.Sprint(i))
			outs, err := chain.Run(context.Background(), r)
			if err != nil {
				t.Error(err)
				return
			}
			for _, o := range outs {
				if o.Value.(map[string]any)["k"] != fmt.Sprint(i) {
					t.Errorf("record %d got key %v", i, o.Value.(map[string]any)["k"])
				}
				kept.Add(1)
			}
		})
	}
	wg.Wait()
	if kept.Load() != 32 {
		t.Errorf("kept %d records, want 32", kept.Load())
	}
}

// A chain whose steps keep their one record (Record.One) allocates
// nothing per record: no slice per step.
func TestChainOneToOneAllocatesNothing(t *testing.T) {
	keep := transforms.Func(func(_ context.Context, r *transforms.Record) ([]*transforms.Record, error) { return r.One(), nil })
	chain := &transforms.Chain{}
	for i := range 4 {
		chain.Steps = append(chain.Steps, &transforms.Step{Name: "keep", Index: i, Transform: keep})
	}
	r := &transforms.Record{Value: map[string]any{"a": 1.0}}
	ctx := context.Background()
	allocs := testing.AllocsPerRun(100, func() {
		outs, err := chain.Run(ctx, r)
		if err != nil || len(outs) != 1 || outs[0] != r {
			t.Fatalf("outs %v, err %v", outs, err)
		}
	})
	if allocs != 0 {
		t.Errorf("%.1f allocations per record, want 0", allocs)
	}
}
