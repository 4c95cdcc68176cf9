package builtin

import (
	"context"

	"github.com/millrace-dev/millrace/transforms"
	"github.com/millrace-dev/millrace/transforms/spec"
)

func init() {
	transforms.Register(transforms.Spec{
		Name:    "split",
		Summary: "Fan out: one record per element of a list field.",
		Description: "`split: items`, or `split: {field: items, to: item, index: position}`. Each " +
			"element of the list becomes its own record, in list order. By default " +
			"the element replaces the list at the same field; with `to` it goes to another field " +
			"path and the list field is removed. `index` also stores the element's position, from " +
			"0. Every other field, the key, the headers and the timestamp are copied into each " +
			"output, and later steps run on each output.\n\n" +
			"An empty list gives no outputs: the record is dropped, not failed. A missing field or " +
			"one that is not a list fails the record. To make each element the whole value, follow " +
			"with `extract`.",
		Config: spec.OneOf("The list field's path, or an options object.",
			spec.String("Field path of the list."),
			spec.Object("",
				&spec.Field{Name: "field", Type: spec.String(""), Required: true, Doc: "Field path of the list.", Examples: []any{"items"}},
				&spec.Field{Name: "to", Type: spec.String(""), Doc: "Field path that receives the element; defaults to field."},
				&spec.Field{Name: "index", Type: spec.String(""), Doc: "Field path that receives the element's position, from 0."},
			),
		),
		Examples: []transforms.Example{
			{Title: "One record per item", Config: `items`, Input: `{"order":7,"items":[{"sku":"a"},{"sku":"b"}]}`,
				Output: []string{`{"items":{"sku":"a"},"order":7}`, `{"items":{"sku":"b"},"order":7}`}},
			{Title: "Element to another field, with its position", Config: `{field: tags, to: tag, index: tag_index}`,
				Input:  `{"id":1,"tags":["x","y"]}`,
				Output: []string{`{"id":1,"tag":"x","tag_index":0}`, `{"id":1,"tag":"y","tag_index":1}`}},
			{Title: "An empty list drops the record", Config: `items`, Input: `{"items":[]}`},
			{Title: "A field that is not a list fails", Config: `items`, Input: `{"items":"a,b"}`,
				Error: "field items is a string, not a list"},
		},
	}, func(b *transforms.Build) (transforms.Transform, error) {
		if b.Config.IsScalar() {
			return split{field: b.Config.Text, to: b.Config.Text}, nil
		}
		s := split{field: b.Config.Get("field").Text}
		s.to = s.field
		if v := b.Config.Get("to"); v != nil {
			s.to = v.Text
		}
		if v := b.Config.Get("index"); v != nil {
			s.index = v.Text
		}
		return s, nil
	})
}

type split struct {
	field, to, index string
}

func (s split) Apply(_ context.Context, r *transforms.Record) ([]*transforms.Record, error) {
	obj, err := r.Object()
	if err != nil {
		return nil, err
	}
	v, ok := transforms.Get(obj, s.field)
	if !ok {
		return nil, fieldError(s.field, "is missing")
	}
	list, ok := v.([]any)
	if !ok {
		return nil, fieldError(s.field, "is %s, not a list", kindOf(v))
	}
	if len(list) == 0 {
		return nil, nil
	}
	// Remove the list before copying, so that no output carries it and
	// copying does not grow with the square of its length.
	transforms.Delete(obj, s.field)
	outs := make([]*transforms.Record, len(list))
	for i, el := range list {
		out := r
		if i < len(list)-1 {
			out = r.Clone()
		}
		m := out.Value.(map[string]any)
		if err := transforms.Set(m, s.to, el); err != nil {
			return nil, err
		}
		if s.index != "" {
			if err := transforms.Set(m, s.index, i); err != nil {
				return nil, err
			}
		}
		outs[i] = out
	}
	return outs, nil
}
