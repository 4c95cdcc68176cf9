package builtin

import (
	"context"

	"github.com/millrace-dev/millrace/transforms"
	"github.com/millrace-dev/millrace/transforms/spec"
)

func init() {
	transforms.Register(transforms.Spec{
		Name:    "hoist",
		Summary: "Wrap the record value in a field of a new object.",
		Description: "The whole value, of any JSON type, moves under the field path of a new " +
			"object: `hoist: payload` turns `{\"id\":1}` into `{\"payload\":{\"id\":1}}`, and a " +
			"dotted path nests deeper. This is Kafka Connect's `HoistField`; `extract` is the " +
			"inverse.",
		Config: spec.String("Field path that receives the value."),
		Examples: []transforms.Example{
			{Title: "Wrap in an envelope", Config: `payload`, Input: `{"id":1}`, Output: []string{`{"payload":{"id":1}}`}},
			{Title: "A nested path", Config: `data.items`, Input: `{"a":[1,2]}`, Output: []string{`{"data":{"items":{"a":[1,2]}}}`}},
			{Title: "Any value, such as one left by extract", Config: `id`, Input: `"o-7"`, Output: []string{`{"id":"o-7"}`}},
		},
	}, func(b *transforms.Build) (transforms.Transform, error) {
		return hoist(b.Config.Text), nil
	})
}

type hoist string

func (h hoist) Apply(_ context.Context, r *transforms.Record) ([]*transforms.Record, error) {
	out := map[string]any{}
	if err := transforms.Set(out, string(h), r.Value); err != nil {
		return nil, err
	}
	r.Value = out
	return r.One(), nil
}
