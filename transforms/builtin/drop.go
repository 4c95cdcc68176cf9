package builtin

import (
	"context"

	"github.com/millrace-dev/millrace/transforms"
	"github.com/millrace-dev/millrace/transforms/spec"
)

func init() {
	transforms.Register(transforms.Spec{
		Name:        "drop",
		Summary:     "Remove fields; dotted paths reach into nested objects.",
		Description: "Each listed field path is removed when present. Missing fields are ignored.",
		Config:      spec.List(spec.String("Field path."), 1, "Field paths to remove."),
		Examples: []transforms.Example{
			{Title: "Drop a debug field", Config: `[debug]`, Input: `{"id":1,"debug":{"trace":true}}`, Output: []string{`{"id":1}`}},
			{Title: "Drop a nested field", Config: `[card.number, missing]`, Input: `{"card":{"number":"4111","brand":"visa"}}`, Output: []string{`{"card":{"brand":"visa"}}`}},
		},
	}, func(b *transforms.Build) (transforms.Transform, error) {
		return drop(b.Config.Strings()), nil
	})
}

type drop []string

func (d drop) Apply(_ context.Context, r *transforms.Record) ([]*transforms.Record, error) {
	obj, err := r.Object()
	if err != nil {
		return nil, err
	}
	for _, p := range d {
		transforms.Delete(obj, p)
	}
	return r.One(), nil
}

// TopLevelFields: a top-level field dropped is deleted unseen; a nested
// one changes the object it is in.
func (d drop) TopLevelFields() (transforms.Fields, bool) {
	var f transforms.Fields
	for _, p := range d {
		if root := transforms.Root(p); root != p {
			f = f.Merge(transforms.Fields{Writes: []string{root}})
		} else {
			f = f.Merge(transforms.Fields{Deletes: []string{p}})
		}
	}
	return f, true
}

// FieldMoves: removing top-level fields may be applied to the record's
// bytes (transforms.FieldMoves); a dotted path reaches into a nested
// object, which only Apply does.
func (d drop) FieldMoves() ([][2]string, []string, bool) {
	for _, p := range d {
		if !transforms.IsTopLevelName(p) {
			return nil, nil, false
		}
	}
	return nil, d, true
}
