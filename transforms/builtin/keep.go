package builtin

import (
	"context"

	"github.com/millrace-dev/millrace/transforms"
	"github.com/millrace-dev/millrace/transforms/spec"
)

func init() {
	transforms.Register(transforms.Spec{
		Name:    "keep",
		Summary: "Keep only the listed fields; remove every other field.",
		Description: "The record becomes an object that holds only the listed field paths, each at " +
			"the same place: `customer.id` keeps `id` inside `customer` and removes the rest of " +
			"`customer`. Listed fields that are missing are skipped, so a record that has none of " +
			"them becomes `{}`. This is Kafka Connect's `ReplaceField` with `include`; `drop` is " +
			"its `exclude`.",
		Config: spec.List(spec.String("Field path."), 1, "Field paths to keep."),
		Examples: []transforms.Example{
			{Title: "Keep two fields", Config: `[id, amount]`, Input: `{"id":1,"amount":9.5,"debug":true,"note":"x"}`,
				Output: []string{`{"amount":9.5,"id":1}`}},
			{Title: "Keep part of a nested object", Config: `[id, customer.country, missing]`,
				Input:  `{"id":1,"customer":{"email":"a@b.de","country":"DE"}}`,
				Output: []string{`{"customer":{"country":"DE"},"id":1}`}},
			{Title: "None of the fields present", Config: `[id]`, Input: `{"other":1}`, Output: []string{`{}`}},
		},
	}, func(b *transforms.Build) (transforms.Transform, error) {
		return keep(b.Config.Strings()), nil
	})
}

type keep []string

func (k keep) Apply(_ context.Context, r *transforms.Record) ([]*transforms.Record, error) {
	obj, err := r.Object()
	if err != nil {
		return nil, err
	}
	out := make(map[string]any, len(k))
	for _, p := range k {
		v, ok := transforms.Get(obj, p)
		if !ok {
			continue
		}
		if err := transforms.Set(out, p, v); err != nil {
			return nil, err
		}
	}
	r.Value = out
	return r.One(), nil
}

// TopLevelFields: keep removes every field it does not list. A top-level
// field it lists stays as it is (a read); one it keeps part of (a dotted
// path) changes (a write).
func (k keep) TopLevelFields() (transforms.Fields, bool) {
	f := transforms.Fields{Only: true}
	for _, p := range k {
		if root := transforms.Root(p); root != p {
			f = f.Merge(transforms.Fields{Writes: []string{root}})
		} else {
			f = f.Merge(transforms.Fields{Reads: []string{root}})
		}
	}
	return f, true
}
