package builtin

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/millrace-dev/millrace/transforms"
	"github.com/millrace-dev/millrace/transforms/spec"
)

func init() {
	transforms.Register(transforms.Spec{
		Name:    "headers",
		Summary: "Set, copy and remove Kafka headers; copy headers into fields.",
		Description: "The options run in this order, each seeing the result of the previous:\n\n" +
			"1. `to_fields` copies headers into fields (field path to header name); a missing " +
			"header leaves the field alone. Header values are text and stay strings.\n" +
			"2. `remove` deletes headers by name; a name ending in `*` removes every header " +
			"that starts with the rest.\n" +
			"3. `from_fields` copies fields into headers (header name to field path).\n" +
			"4. `set` sets headers from expressions (header name to expression); the expressions " +
			"see the headers so far as `kafka.headers`.\n\n" +
			"A string becomes the header value as it is; any other value is written as JSON, a " +
			"time as RFC 3339. `null` or a missing field removes the header. This covers Kafka " +
			"Connect's `InsertHeader`, `HeaderFrom` and `DropHeaders`.",
		Config: spec.Object("",
			&spec.Field{Name: "to_fields", Type: spec.Map("field path", spec.String("Header name."), 1, ""),
				Doc: "Field path to the header copied into it."},
			&spec.Field{Name: "remove", Type: spec.List(spec.String("Header name, or a prefix ending in *."), 1, ""),
				Doc: "Headers to remove; `name*` removes every header starting with name."},
			&spec.Field{Name: "from_fields", Type: spec.Map("header name", spec.String("Field path."), 1, ""),
				Doc: "Header name to the field path copied into it."},
			&spec.Field{Name: "set", Type: spec.Map("header name", spec.Expr(""), 1, ""),
				Doc: "Header name to the expression that yields its value."},
		),
		Examples: []transforms.Example{
			{Title: "Set and copy headers", Config: `{set: {source: '"billing"'}, from_fields: {tenant: customer.tenant}}`,
				Input:  `{"customer":{"tenant":"acme"}}`,
				Output: []string{`{"customer":{"tenant":"acme"}}`}, Headers: map[string]string{"source": "billing", "tenant": "acme"}},
			{Title: "Remove headers", Config: `{remove: [debug, "x-trace-*"]}`, InputHeaders: map[string]string{"debug": "1", "x-trace-id": "a", "x-trace-span": "b", "keep": "yes"},
				Input: `{}`, Output: []string{`{}`}, Headers: map[string]string{"keep": "yes"}},
			{Title: "Headers into fields", Config: `{to_fields: {meta.trace: traceparent, meta.none: absent}}`,
				InputHeaders: map[string]string{"traceparent": "00-abc-01"},
				Input:        `{"id":1}`, Output: []string{`{"id":1,"meta":{"trace":"00-abc-01"}}`}},
			{Title: "Numbers are written as JSON", Config: `{set: {amount: amount, cents: 'int(amount * 100)'}}`,
				Input: `{"amount":12.5}`, Output: []string{`{"amount":12.5}`}, Headers: map[string]string{"amount": "12.5", "cents": "1250"}},
		},
	}, newHeaders)
}

type headerExpr struct {
	name string
	expr transforms.Program
}

type headers struct {
	toFields   [][2]string // field path, header
	remove     []string
	prefixes   []string
	fromFields [][2]string // header, field path
	set        []headerExpr
}

func newHeaders(b *transforms.Build) (transforms.Transform, error) {
	c := b.Config
	h := &headers{}
	if len(c.Entries) == 0 {
		return nil, c.Errorf("headers needs at least one of to_fields, remove, from_fields, set")
	}
	var errs spec.Errors
	if v := c.Get("to_fields"); v != nil {
		for _, e := range v.Entries {
			h.toFields = append(h.toFields, [2]string{e.Key.Text, e.Value.Text})
		}
	}
	if v := c.Get("remove"); v != nil {
		for _, it := range v.Items {
			if p, ok := strings.CutSuffix(it.Text, "*"); ok {
				h.prefixes = append(h.prefixes, p)
			} else {
				h.remove = append(h.remove, it.Text)
			}
		}
	}
	if v := c.Get("from_fields"); v != nil {
		for _, e := range v.Entries {
			h.fromFields = append(h.fromFields, [2]string{e.Key.Text, e.Value.Text})
		}
	}
	if v := c.Get("set"); v != nil {
		for _, e := range v.Entries {
			p, err := b.Expr(e.Value)
			if err != nil {
				errs.Add(e.Value.Pos, err)
				continue
			}
			h.set = append(h.set, headerExpr{e.Key.Text, p})
		}
	}
	if err := errs.Err(); err != nil {
		return nil, err
	}
	return h, nil
}

func (h *headers) Apply(_ context.Context, r *transforms.Record) ([]*transforms.Record, error) {
	obj, err := r.Object()
	if err != nil {
		return nil, err
	}
	for _, tf := range h.toFields {
		if v, ok := r.Headers.Get(tf[1]); ok {
			if err := transforms.Set(obj, tf[0], v); err != nil {
				return nil, err
			}
		}
	}
	if len(h.remove) > 0 || len(h.prefixes) > 0 {
		r.Headers.DeleteFunc(func(name string) bool {
			return slices.Contains(h.remove, name) || slices.ContainsFunc(h.prefixes, func(p string) bool { return strings.HasPrefix(name, p) })
		})
	}
	for _, ff := range h.fromFields {
		v, _ := transforms.Get(obj, ff[1])
		if err := setHeader(r, ff[0], v); err != nil {
			return nil, fmt.Errorf("header %s: %w", ff[0], err)
		}
	}
	for _, s := range h.set {
		v, err := s.expr.Eval(r)
		if err == nil {
			err = setHeader(r, s.name, v)
		}
		if err != nil {
			return nil, fmt.Errorf("header %s: %w", s.name, err)
		}
	}
	return r.One(), nil
}

func setHeader(r *transforms.Record, name string, v any) error {
	if v == nil {
		r.Headers.Del(name)
		return nil
	}
	s, err := textOf(v)
	if err != nil {
		return err
	}
	r.Headers.Set(name, s)
	return nil
}
