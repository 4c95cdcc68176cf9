// Package codec reads and writes record values: JSON decoded into the few
// Go types a transform meets (map[string]any, []any, string, int, float64,
// json.Number, bool, nil) and written back as encoding/json would. It uses
// the standard library only, so that the transform SDK can depend on it.
package codec

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// Decode parses a record value. Numbers become int when they are integers
// that fit in 64 bits, float64 otherwise; integers too large for int64 stay
// json.Number so that they are written back unchanged. Invalid UTF-8 inside
// strings is replaced by U+FFFD, as encoding/json does.
//
// It parses with valueDecoder (decode.go); FuzzCodecMatchesStdlib checks
// that it accepts the same documents as encoding/json and returns the same
// values. A document it rejects is parsed again by encoding/json, whose
// error messages dead letters carry.
func Decode(data []byte) (any, error) {
	v, err := decodeFast(data)
	if err != nil {
		return decodeStd(data)
	}
	return v, nil
}

// decodeStd is Decode with encoding/json.
func decodeStd(data []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("invalid JSON: %w", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errors.New("invalid JSON: unexpected data after the value")
	}
	return normalize(v), nil
}

func normalize(v any) any {
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			v[k] = normalize(x)
		}
		return v
	case []any:
		for i, x := range v {
			v[i] = normalize(x)
		}
		return v
	case json.Number:
		if n, ok := Number(string(v)); ok {
			return n
		}
	}
	return v
}

// Number converts the text of a JSON number as Decode does: an int, a
// float64, or a json.Number that keeps the digits of an integer beyond 64
// bits or of a float beyond float64's range. ok is false when s is not a
// number in JSON's grammar.
func Number(s string) (v any, ok bool) {
	if s == "" || (s[0] != '-' && (s[0] < '0' || s[0] > '9')) {
		return nil, false
	}
	d := valueDecoder{data: []byte(s)}
	v, err := d.number()
	if err != nil || d.pos != len(s) {
		return nil, false
	}
	return v, true
}

// DeepCopy copies a decoded value, so that the copy can be changed without
// changing the original.
func DeepCopy(v any) any {
	switch v := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(v))
		for k, x := range v {
			m[k] = DeepCopy(x)
		}
		return m
	case []any:
		s := make([]any, len(v))
		for i, x := range v {
			s[i] = DeepCopy(x)
		}
		return s
	}
	return v
}

// Encode writes a record value as compact JSON. Object keys come out sorted;
// "<", ">" and "&" are not escaped; invalid UTF-8 is written as U+FFFD. The
// output is byte for byte encoding/json's (FuzzCodecMatchesStdlib): values
// of the types Decode returns are written by encodeFast (encode.go), any
// other by encoding/json, which also gives the errors.
func Encode(v any) ([]byte, error) {
	if b, err := encodeFast(v); err == nil {
		return b, nil
	}
	return encodeStd(v)
}

// encodeStd is Encode with encoding/json, which also gives the error.
func encodeStd(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, fmt.Errorf("encode JSON: %w", err)
	}
	b := buf.Bytes()
	return b[:len(b)-1], nil // drop the newline Encode adds
}
