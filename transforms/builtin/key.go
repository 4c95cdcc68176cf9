package builtin

import (
	"context"

	"github.com/millrace-dev/millrace/transforms"
	"github.com/millrace-dev/millrace/transforms/spec"
)

func init() {
	transforms.Register(transforms.Spec{
		Name:    "key",
		Summary: "Set the Kafka key from a field or an expression.",
		Description: "`key: user_id` (or `key: {field: user_id}`) takes the key from a field path; " +
			"`key: {expr: 'EXPR'}` computes it. A string becomes the key as it is; any other value " +
			"is written as JSON (`42`, `{\"a\":1}`), a time as RFC 3339. `null` or a missing " +
			"field removes the key, so the record is produced without one. The key decides the " +
			"partition, so records with one key keep their order. This is Kafka Connect's " +
			"`ValueToKey` followed by `ExtractField` on the key.",
		Config: spec.OneOf("A field path, or an options object with field or expr.",
			spec.String("Field path of the key."),
			spec.Object("",
				&spec.Field{Name: "field", Type: spec.String(""), Doc: "Field path of the key."},
				&spec.Field{Name: "expr", Type: spec.Expr(""), Doc: "Expression that yields the key."},
			),
		),
		Examples: []transforms.Example{
			{Title: "Key by a field", Config: `user_id`, Input: `{"user_id":"u-1","amount":3}`,
				Output: []string{`{"amount":3,"user_id":"u-1"}`}, Key: "u-1"},
			{Title: "A number is written as JSON", Config: `{field: order.id}`, Input: `{"order":{"id":42}}`,
				Output: []string{`{"order":{"id":42}}`}, Key: "42"},
			{Title: "A composite key", Config: `{expr: 'country + ":" + user_id'}`, Input: `{"country":"DE","user_id":"u-1"}`,
				Output: []string{`{"country":"DE","user_id":"u-1"}`}, Key: "DE:u-1"},
		},
	}, func(b *transforms.Build) (transforms.Transform, error) {
		if b.Config.IsScalar() {
			return keyField(b.Config.Text), nil
		}
		field, ex := b.Config.Get("field"), b.Config.Get("expr")
		switch {
		case field == nil && ex == nil:
			return nil, b.Config.Errorf("key needs field or expr").WithHint("field: <path> or expr: '<expression>'")
		case field != nil && ex != nil:
			return nil, b.Config.Errorf("key takes field or expr, not both")
		case field != nil:
			return keyField(field.Text), nil
		}
		p, err := b.Expr(ex)
		if err != nil {
			return nil, err
		}
		return keyExpr{p}, nil
	})
}

type keyField string

func (k keyField) Apply(_ context.Context, r *transforms.Record) ([]*transforms.Record, error) {
	obj, err := r.Object()
	if err != nil {
		return nil, err
	}
	v, _ := transforms.Get(obj, string(k))
	return setKey(r, v)
}

type keyExpr struct{ p transforms.Program }

func (k keyExpr) Apply(_ context.Context, r *transforms.Record) ([]*transforms.Record, error) {
	v, err := k.p.Eval(r)
	if err != nil {
		return nil, err
	}
	return setKey(r, v)
}

func setKey(r *transforms.Record, v any) ([]*transforms.Record, error) {
	if v == nil {
		r.Key = nil
		return r.One(), nil
	}
	s, err := textOf(v)
	if err != nil {
		return nil, err
	}
	r.Key = []byte(s)
	return r.One(), nil
}

func (k keyField) TopLevelFields() (transforms.Fields, bool) {
	return transforms.Fields{Reads: []string{transforms.Root(string(k))}}, true
}

func (k keyExpr) TopLevelFields() (transforms.Fields, bool) { return programFields(k.p) }
