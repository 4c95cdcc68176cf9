package builtin

import (
	"context"
	"fmt"

	"github.com/millrace-dev/millrace/transforms"
	"github.com/millrace-dev/millrace/transforms/spec"
)

func init() {
	transforms.Register(transforms.Spec{
		Name:    "set",
		Summary: "Set fields from expressions (literals, arithmetic, now(), uuid()).",
		Description: "Each entry maps a field path (dots for nesting) to an expression. Entries run " +
			"in the order written, so a later one sees the fields an earlier one set. A string " +
			"literal needs quotes inside the expression: `'\"EUR\"'`. An evaluation is bounded " +
			"in memory (expr-lang's memory budget, and no string longer than 16 MiB: see " +
			"docs/expressions.md); past a bound the record fails with `memory budget exceeded`.",
		Config: spec.Map("field path", spec.Expr(""), 1, "Field path to expression."),
		Examples: []transforms.Example{
			{Title: "Compute a field", Config: `{total_cents: 'int(amount * 100)'}`, Input: `{"amount":12.5}`, Output: []string{`{"amount":12.5,"total_cents":1250}`}},
			{Title: "Literals and nested paths", Config: `{currency: '"EUR"', meta.source: 'kafka.topic'}`, Input: `{"id":1}`, Output: []string{`{"currency":"EUR","id":1,"meta":{"source":""}}`}},
			{Title: "Later entries see earlier ones", Config: `{a: '2', b: 'a * 10'}`, Input: `{}`, Output: []string{`{"a":2,"b":20}`}},
		},
	}, func(b *transforms.Build) (transforms.Transform, error) {
		var t set
		var errs spec.Errors
		for _, e := range b.Config.Entries {
			p, err := b.Expr(e.Value)
			if err != nil {
				errs.Add(e.Value.Pos, err)
				continue
			}
			t = append(t, assignment{path: e.Key.Text, expr: p})
		}
		if err := errs.Err(); err != nil {
			return nil, err
		}
		return t, nil
	})
}

type assignment struct {
	path string
	expr transforms.Program
}

type set []assignment

func (s set) Apply(_ context.Context, r *transforms.Record) ([]*transforms.Record, error) {
	obj, err := r.Object()
	if err != nil {
		return nil, err
	}
	for _, a := range s {
		v, err := a.expr.Eval(r)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", a.path, err)
		}
		if err := transforms.Set(obj, a.path, v); err != nil {
			return nil, err
		}
	}
	return r.One(), nil
}

// TopLevelFields: an entry writes its path's top-level field (a dotted
// path changes the object inside it). The fields its expression reads
// count as writes too: the result may be one of their objects or lists
// (`copy: 'customer'`), which a later step can change in place, changing
// them as well; their values must come from the result, not the input.
func (s set) TopLevelFields() (transforms.Fields, bool) {
	var f transforms.Fields
	for _, a := range s {
		r, ok := programFields(a.expr)
		if !ok {
			return transforms.Fields{}, false
		}
		f = f.Merge(transforms.Fields{Writes: append(r.Reads, transforms.Root(a.path))})
	}
	return f, true
}
