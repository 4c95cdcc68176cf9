package builtin

import (
	"encoding/json"
	"fmt"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/millrace-dev/millrace/transforms"
	"github.com/millrace-dev/millrace/transforms/codec"
	"github.com/millrace-dev/millrace/transforms/spec"
)

// Helpers shared by the built-in transforms for values that leave or enter
// the JSON model: text for keys and headers, plain JSON for third-party
// evaluators, and descriptions for error messages.

// textOf is the text of a value for a place that holds text, such as a key or
// a header: a string as it is, a time in RFC 3339, anything else as its JSON
// encoding.
func textOf(v any) (string, error) {
	switch v := v.(type) {
	case string:
		return v, nil
	case time.Time:
		return v.Format(time.RFC3339Nano), nil
	case int:
		return strconv.Itoa(v), nil
	case bool:
		return strconv.FormatBool(v), nil
	case json.Number:
		return string(v), nil
	}
	b, err := codec.Encode(v)
	if err != nil {
		return "", err
	}
	return string(b), nil
}

// isPlain reports whether v holds only the types Decode produces.
func isPlain(v any) bool {
	switch v := v.(type) {
	case nil, bool, string, int, float64, json.Number:
		return true
	case map[string]any:
		for _, x := range v {
			if !isPlain(x) {
				return false
			}
		}
		return true
	case []any:
		for _, x := range v {
			if !isPlain(x) {
				return false
			}
		}
		return true
	}
	return false
}

// plainJSON returns v made of the types Decode produces. A value set by an
// expression may hold others (a time from now(), an int64, a []string); those
// go through their JSON encoding. A value that is already plain is returned
// as it is, without copying.
func plainJSON(v any) (any, error) {
	if isPlain(v) {
		return v, nil
	}
	b, err := codec.Encode(v)
	if err != nil {
		return nil, err
	}
	return codec.Decode(b)
}

// derive returns a copy of r that carries v as its value, with its own key
// and headers, for transforms that fan out into new values.
func derive(r *transforms.Record, v any) *transforms.Record {
	c := *r
	if r.Key != nil {
		c.Key = append([]byte(nil), r.Key...)
	}
	c.Headers = r.Headers.Clone()
	c.Value = v
	return &c
}

// kindOf names the JSON type of v, for error messages: "a string",
// "a number", "an object".
func kindOf(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "a string"
	case bool:
		return "a boolean"
	case int, int64, float64, json.Number:
		return "a number"
	case map[string]any:
		return "an object"
	case []any:
		return "a list"
	}
	return fmt.Sprintf("a %T", v)
}

// describeValue names a value in an error message by its kind, never its
// content: error texts reach logs, dead-letter headers and the status
// page, and a record's values may be personal data (the dead letter keeps
// the value itself; runner.log_payloads logs it with the error).
func describeValue(v any) string {
	if s, ok := v.(string); ok {
		n := utf8.RuneCountInString(s)
		if n == 1 {
			return "a string of 1 character"
		}
		return fmt.Sprintf("a string of %d characters", n)
	}
	return kindOf(v)
}

// fieldError is a field of a record that a transform cannot use.
func fieldError(path, format string, args ...any) error {
	return &transforms.PathError{Path: path, Msg: fmt.Sprintf(format, args...)}
}

// decodeShort decodes a config that is either an options object of type
// options or its short form, the value of the options' field key alone
// (`jq: '.a'` for `jq: {program: '.a'}`). Both come with the defaults the
// options declare.
func decodeShort(b *transforms.Build, options *spec.Type, key string, out any) error {
	v := b.Config
	if v.Kind != spec.KindMap {
		k := &spec.Value{Pos: v.Pos, Kind: spec.KindString, Text: key}
		v = &spec.Value{Pos: v.Pos, Kind: spec.KindMap, Entries: []spec.Entry{{Key: k, Value: v}}}
	}
	return spec.Decode(v, options, out)
}

// programFields is the fields the programs read (nil ones read none); ok
// is false when one does not say (transforms.TopLevel).
func programFields(ps ...transforms.Program) (transforms.Fields, bool) {
	var f transforms.Fields
	for _, p := range ps {
		if p == nil {
			continue
		}
		r, ok := transforms.FieldsOf(p)
		if !ok {
			return transforms.Fields{}, false
		}
		f = f.Merge(r)
	}
	return f, true
}
