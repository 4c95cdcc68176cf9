package engine

import (
	"github.com/millrace-dev/millrace/transforms"
	"github.com/millrace-dev/millrace/transforms/codec"
)

// decode parses an input value, which must be a JSON object.
func decode(b []byte) (any, error) {
	v, err := codec.Decode(b)
	if err != nil {
		return nil, err
	}
	if _, ok := v.(map[string]any); !ok {
		return nil, transforms.ErrNotObject
	}
	return v, nil
}

// encode writes an output value.
func encode(v any) ([]byte, error) { return codec.Encode(v) }
