package transforms

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
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
		return normalizeNumber(v)
	}
	return v
}

// normalizeNumber converts a number as Decode documents.
func normalizeNumber(v json.Number) any {
	s := string(v)
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return int(n)
	}
	if isInteger(s) {
		return v // too large for int64: keep the digits
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil && !math.IsInf(f, 0) {
		return f
	}
	return v
}

func isInteger(s string) bool {
	if s != "" && s[0] == '-' {
		s = s[1:]
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
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
