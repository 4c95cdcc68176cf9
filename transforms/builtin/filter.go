package builtin

import (
	"context"

	"github.com/millrace-dev/millrace/transforms"
	"github.com/millrace-dev/millrace/transforms/spec"
)

func init() {
	transforms.Register(transforms.Spec{
		Name:    "filter",
		Summary: "Keep records where an expression is true; drop the rest.",
		Description: "The expression sees the fields of the record's JSON object as variables " +
			"and the Kafka metadata under `kafka`. A record is kept when the result is `true`; " +
			"`false` and `null` drop it. An expression that fails (for example comparing a missing " +
			"field with a number) sends the record to the dead-letter topic, as does one past the " +
			"memory bounds of an evaluation (`memory budget exceeded`: see docs/expressions.md).",
		Config: spec.Expr("Expression that must be true for the record to pass."),
		Examples: []transforms.Example{
			{Title: "Keep positive amounts", Config: `'amount > 0'`, Input: `{"amount":12.5}`, Output: []string{`{"amount":12.5}`}},
			{Title: "Drop test traffic", Config: `'status != "test"'`, Input: `{"status":"test"}`},
			{Title: "A missing field fails the record", Config: `'amount > 0'`, Input: `{"total":1}`, Error: "field amount is missing or null"},
		},
	}, func(b *transforms.Build) (transforms.Transform, error) {
		p, err := b.Bool(b.Config)
		if err != nil {
			return nil, err
		}
		return filter{p}, nil
	})
}

type filter struct{ cond transforms.Program }

func (f filter) Apply(_ context.Context, r *transforms.Record) ([]*transforms.Record, error) {
	ok, err := f.cond.EvalBool(r)
	if err != nil || !ok {
		return nil, err
	}
	return r.One(), nil
}

func (f filter) TopLevelFields() (transforms.Fields, bool) { return programFields(f.cond) }
