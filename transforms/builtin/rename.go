package builtin

import (
	"context"

	"github.com/millrace-dev/millrace/transforms"
	"github.com/millrace-dev/millrace/transforms/spec"
)

func init() {
	transforms.Register(transforms.Spec{
		Name:    "rename",
		Summary: "Rename fields; dotted paths move values between nested objects.",
		Description: "Each entry maps an existing field path to its new path. A missing field is " +
			"left alone. Renames run in the order written.",
		Config: spec.Map("old field path", spec.String("New field path."), 1, "Old path to new path."),
		Examples: []transforms.Example{
			{Title: "Rename a field", Config: `{user: user_id}`, Input: `{"user":"u1","amount":3}`, Output: []string{`{"amount":3,"user_id":"u1"}`}},
			{Title: "Move into a nested object", Config: `{country: address.country}`, Input: `{"country":"DE"}`, Output: []string{`{"address":{"country":"DE"}}`}},
			{Title: "Missing fields are skipped", Config: `{nope: yes}`, Input: `{"a":1}`, Output: []string{`{"a":1}`}},
		},
	}, func(b *transforms.Build) (transforms.Transform, error) {
		var t rename
		for _, e := range b.Config.Entries {
			t = append(t, [2]string{e.Key.Text, e.Value.Text})
		}
		return t, nil
	})
}

type rename [][2]string

func (rn rename) Apply(_ context.Context, r *transforms.Record) ([]*transforms.Record, error) {
	obj, err := r.Object()
	if err != nil {
		return nil, err
	}
	for _, p := range rn {
		v, ok := transforms.Delete(obj, p[0])
		if !ok {
			continue
		}
		if err := transforms.Set(obj, p[1], v); err != nil {
			return nil, err
		}
	}
	return r.One(), nil
}

// TopLevelFields: a rename writes the top-level fields of both paths.
func (rn rename) TopLevelFields() (transforms.Fields, bool) {
	var f transforms.Fields
	for _, p := range rn {
		f = f.Merge(transforms.Fields{Writes: transforms.Roots(p[0], p[1])})
	}
	return f, true
}

// FieldMoves: renames of top-level fields may be applied to the record's
// bytes (transforms.FieldMoves); a dotted path moves into or out of a
// nested object, which only Apply does.
func (rn rename) FieldMoves() ([][2]string, []string, bool) {
	for _, p := range rn {
		if !transforms.IsTopLevelName(p[0]) || !transforms.IsTopLevelName(p[1]) {
			return nil, nil, false
		}
	}
	return rn, nil, true
}
