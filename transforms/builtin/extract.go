package builtin

import (
	"context"

	"github.com/millrace-dev/millrace/transforms"
	"github.com/millrace-dev/millrace/transforms/spec"
)

// What extract does when the field is missing.
const (
	missingError = "error"
	missingDrop  = "drop"
)

func init() {
	transforms.Register(transforms.Spec{
		Name:    "extract",
		Summary: "Replace the record value by the value of one field.",
		Description: "The value at the field path becomes the whole record value: an envelope " +
			"such as `{\"payload\":{...}}` is unwrapped. The new value may be any JSON value; " +
			"later transforms that need an object fail on anything else. A missing field fails " +
			"the record, or drops it with `missing: drop`; a field that holds `null` gives a " +
			"`null` value. This is Kafka Connect's `ExtractField`; `hoist` is the inverse.",
		Config: spec.OneOf("A field path, or an options object.", spec.String("Field path."), extractOptions),
		Examples: []transforms.Example{
			{Title: "Unwrap an envelope", Config: `payload`, Input: `{"schema":{},"payload":{"id":1,"amount":3}}`,
				Output: []string{`{"amount":3,"id":1}`}},
			{Title: "A nested scalar", Config: `order.id`, Input: `{"order":{"id":"o-7"}}`, Output: []string{`"o-7"`}},
			{Title: "Drop records without the field", Config: `{field: payload, missing: drop}`, Input: `{"heartbeat":true}`},
			{Title: "A missing field fails", Config: `payload`, Input: `{"other":1}`, Error: "field payload is missing"},
		},
	}, newExtract)
}

var extractOptions = spec.Object("",
	&spec.Field{Name: "field", Type: spec.String(""), Required: true, Doc: "Field path.", Examples: []any{"payload"}},
	&spec.Field{Name: "missing", Type: spec.Enum("", missingError, missingDrop), Default: missingError,
		Doc: "What happens when the field is missing: fail the record or drop it."},
)

// extractConfig is extract's options; the short form is the field alone.
type extractConfig struct {
	Field   string
	Missing string
}

func newExtract(b *transforms.Build) (transforms.Transform, error) {
	var c extractConfig
	if err := decodeShort(b, extractOptions, "field", &c); err != nil {
		return nil, err
	}
	return extract{field: c.Field, drop: c.Missing == missingDrop}, nil
}

type extract struct {
	field string
	drop  bool
}

func (e extract) Apply(_ context.Context, r *transforms.Record) ([]*transforms.Record, error) {
	obj, err := r.Object()
	if err != nil {
		return nil, err
	}
	v, ok := transforms.Get(obj, e.field)
	if !ok {
		if e.drop {
			return nil, nil
		}
		return nil, fieldError(e.field, "is missing")
	}
	r.Value = v
	return r.One(), nil
}
