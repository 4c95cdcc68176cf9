package builtin

import (
	"context"
	"fmt"

	"github.com/millrace-dev/millrace/transforms"
	"github.com/millrace-dev/millrace/transforms/spec"
)

// separatorField is the separator option of flatten and unflatten.
var separatorField = &spec.Field{Name: "separator", Type: spec.String(""), Default: ".",
	Doc: "Text that joins the keys of nested objects."}

func init() {
	transforms.Register(transforms.Spec{
		Name:    "flatten",
		Summary: "Turn nested objects into top-level keys joined with dots.",
		Description: "`{\"a\":{\"b\":1}}` becomes `{\"a.b\":1}`, at any depth. Lists are values: " +
			"they are kept as they are, and objects inside them are not flattened. An empty " +
			"object stays as an empty object under its key, so `unflatten` can restore it. Two " +
			"fields that would get the same key (`{\"a.b\":1,\"a\":{\"b\":2}}`) fail the record. " +
			"This is Kafka Connect's `Flatten`; `unflatten` is the inverse.",
		Config: spec.Object("", separatorField),
		Examples: []transforms.Example{
			{Title: "Flatten with dots", Config: `{}`, Input: `{"id":1,"customer":{"address":{"city":"Oslo"},"tags":["a",{"b":1}]}}`,
				Output: []string{`{"customer.address.city":"Oslo","customer.tags":["a",{"b":1}],"id":1}`}},
			{Title: "Another separator", Config: `{separator: "_"}`, Input: `{"a":{"b":1,"c":{}}}`,
				Output: []string{`{"a_b":1,"a_c":{}}`}},
			{Title: "Colliding keys fail", Config: `{}`, Input: `{"a.b":1,"a":{"b":2}}`,
				Error: `flatten: key "a.b" would hold two fields`},
		},
	}, func(b *transforms.Build) (transforms.Transform, error) {
		sep, err := separator(b)
		if err != nil {
			return nil, err
		}
		return flatten{sep}, nil
	})
}

// separator reads the separator option of flatten and unflatten; it must
// not be empty.
func separator(b *transforms.Build) (string, error) {
	var c struct{ Separator *spec.Value }
	if err := b.Decode(&c); err != nil {
		return "", err
	}
	switch v := c.Separator; {
	case v.Failed:
		return "", spec.ErrReported
	case v.Text == "":
		return "", v.Errorf("separator must not be empty")
	}
	return c.Separator.Text, nil
}

type flatten struct{ sep string }

func (f flatten) Apply(_ context.Context, r *transforms.Record) ([]*transforms.Record, error) {
	obj, err := r.Object()
	if err != nil {
		return nil, err
	}
	nested := false
	for _, v := range obj {
		if m, ok := v.(map[string]any); ok && len(m) > 0 {
			nested = true
			break
		}
	}
	if !nested {
		return r.One(), nil
	}
	out := make(map[string]any, len(obj)*2)
	if err := f.walk(out, "", obj); err != nil {
		return nil, err
	}
	r.Value = out
	return r.One(), nil
}

func (f flatten) walk(out map[string]any, prefix string, obj map[string]any) error {
	for k, v := range obj {
		key := k
		if prefix != "" {
			key = prefix + f.sep + k
		}
		if m, ok := v.(map[string]any); ok && len(m) > 0 {
			if err := f.walk(out, key, m); err != nil {
				return err
			}
			continue
		}
		if _, dup := out[key]; dup {
			return fmt.Errorf("flatten: key %q would hold two fields", key)
		}
		out[key] = v
	}
	return nil
}
