package main

import (
	"bytes"
	stdjson "encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"unsafe"

	"github.com/buger/jsonparser"
	gojson "github.com/goccy/go-json"
	"github.com/millrace-dev/millrace/transforms"
	"github.com/millrace-dev/millrace/transforms/codec"
	"github.com/tidwall/gjson"
	"github.com/tidwall/sjson"
)

// The benchmark chain, the same in every scenario:
//
//	transforms:
//	  - filter: 'amount > 0'
//	  - set: {total_cents: 'int(amount * 100)'}
//	  - rename: {user: user_id}
//	  - drop: [debug]
//
// An edit function applies it to one record value. It appends the new value
// to dst and returns it, or keep=false when the filter drops the record (the
// returned slice is then of no use). A record whose amount is missing or not
// a number is an error (Millrace sends it to the dead-letter topic).
type editFunc func(dst, src []byte) (out []byte, keep bool, err error)

// editApproach is one way of doing the edit, measured in json_test.go.
type editApproach struct {
	Name string
	Edit editFunc
	Note string
}

// editApproaches lists the measured approaches; the first is what Millrace
// does (codec.Decode/Encode).
var editApproaches = []editApproach{
	{"millrace", editStdlib, "codec.Decode/Encode: one-pass parser into map[string]any and writer, encoding/json's results (Millrace)"},
	{"stdlib-plain", editStdlibPlain, "json.Unmarshal/Marshal into map[string]any, numbers as float64 (W0's handler)"},
	{"goccy-decode", editGoccy, "github.com/goccy/go-json as a drop-in for encoding/json in Decode/Encode"},
	{"gjson-sjson", editGjson, "github.com/tidwall/gjson to read, sjson to edit in place (one pass per edit)"},
	{"jsonparser-scan", editJSONParser, "github.com/buger/jsonparser ObjectEach over the top level, output written in one pass"},
	{"scan", editScan, "hand-written single pass over the top-level members, no library"},
}

// bestEdit is the approach L2 uses: the fastest one in json_test.go
// (BenchmarkEdit) that gives the same result as the stdlib on the
// benchmark's records.
var bestEdit = editScan

// errAmount is a record without a numeric amount.
var errAmount = errors.New("amount is missing or not a number")

// --- full decode into map[string]any ---------------------------------------

// editStdlib is the chain as Millrace runs it: codec.Decode, map edits,
// codec.Encode (sorted keys), which give encoding/json's results.
func editStdlib(dst, src []byte) ([]byte, bool, error) {
	v, err := codec.Decode(src)
	if err != nil {
		return nil, false, err
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, false, transforms.ErrNotObject
	}
	if keep, err := editMap(m); !keep || err != nil {
		return nil, keep, err
	}
	b, err := codec.Encode(m)
	if err != nil {
		return nil, false, err
	}
	return append(dst, b...), true, nil
}

// editStdlibPlain is the textbook handler: json.Unmarshal into a map (every
// number a float64) and json.Marshal.
func editStdlibPlain(dst, src []byte) ([]byte, bool, error) {
	var m map[string]any
	if err := stdjson.Unmarshal(src, &m); err != nil {
		return nil, false, err
	}
	if keep, err := editMap(m); !keep || err != nil {
		return nil, keep, err
	}
	b, err := stdjson.Marshal(m)
	if err != nil {
		return nil, false, err
	}
	return append(dst, b...), true, nil
}

// editGoccy is editStdlib with github.com/goccy/go-json in place of
// encoding/json: the same options (UseNumber, no HTML escaping) and the same
// number normalization.
func editGoccy(dst, src []byte) ([]byte, bool, error) {
	dec := gojson.NewDecoder(bytes.NewReader(src))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, false, fmt.Errorf("invalid JSON: %w", err)
	}
	if dec.More() {
		return nil, false, errors.New("invalid JSON: unexpected data after the value")
	}
	m, ok := normalizeGoccy(v).(map[string]any)
	if !ok {
		return nil, false, transforms.ErrNotObject
	}
	if keep, err := editMap(m); !keep || err != nil {
		return nil, keep, err
	}
	var buf bytes.Buffer
	enc := gojson.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(m); err != nil {
		return nil, false, err
	}
	b := buf.Bytes()
	return append(dst, b[:len(b)-1]...), true, nil
}

// normalizeGoccy mirrors codec's number normalization for go-json's
// json.Number.
func normalizeGoccy(v any) any {
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			v[k] = normalizeGoccy(x)
		}
		return v
	case []any:
		for i, x := range v {
			v[i] = normalizeGoccy(x)
		}
		return v
	case gojson.Number:
		s := string(v)
		if n, err := strconv.ParseInt(s, 10, 64); err == nil {
			return int(n)
		}
		if f, err := strconv.ParseFloat(s, 64); err == nil && !math.IsInf(f, 0) && !isInt(s) {
			return f
		}
		return stdjson.Number(s)
	}
	return v
}

func isInt(s string) bool {
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

// editMap applies the chain to a decoded object.
func editMap(m map[string]any) (bool, error) {
	var cents int64
	switch a := m["amount"].(type) {
	case int:
		if a <= 0 {
			return false, nil
		}
		cents = int64(a) * 100
	case float64:
		if a <= 0 {
			return false, nil
		}
		cents = int64(a * 100)
	default:
		return false, errAmount
	}
	m["total_cents"] = int(cents)
	if u, ok := m["user"]; ok {
		delete(m, "user")
		m["user_id"] = u
	}
	delete(m, "debug")
	return true, nil
}

// --- in place ---------------------------------------------------------------

// editGjson reads amount with gjson and makes each edit with sjson. Each
// sjson call scans the document again and copies it.
func editGjson(dst, src []byte) ([]byte, bool, error) {
	a := gjson.GetBytes(src, "amount")
	if a.Type != gjson.Number {
		return nil, false, errAmount
	}
	cents, keep, err := centsOf([]byte(a.Raw))
	if !keep || err != nil {
		return nil, keep, err
	}
	b, err := sjson.SetBytes(src, "total_cents", cents)
	if err != nil {
		return nil, false, err
	}
	if u := gjson.GetBytes(b, "user"); u.Exists() {
		if b, err = sjson.DeleteBytes(b, "user"); err != nil {
			return nil, false, err
		}
		if b, err = sjson.SetRawBytes(b, "user_id", []byte(u.Raw)); err != nil {
			return nil, false, err
		}
	}
	if b, err = sjson.DeleteBytes(b, "debug"); err != nil {
		return nil, false, err
	}
	return append(dst, b...), true, nil
}

// editJSONParser walks the top-level members with jsonparser.ObjectEach and
// writes the kept ones, renamed, followed by total_cents.
func editJSONParser(dst, src []byte) ([]byte, bool, error) {
	start := len(dst)
	dst = append(dst, '{')
	first := true
	var amount []byte
	amountNumber := false
	err := jsonparser.ObjectEach(src, func(key, value []byte, typ jsonparser.ValueType, _ int) error {
		switch string(key) {
		case "debug", "total_cents":
			return nil
		case "amount":
			amount, amountNumber = value, typ == jsonparser.Number
		}
		if !first {
			dst = append(dst, ',')
		}
		first = false
		if string(key) == "user" {
			dst = append(dst, `"user_id":`...)
		} else {
			// ObjectEach hands out unescaped keys: escape them again.
			dst = appendJSONString(dst, key)
			dst = append(dst, ':')
		}
		if typ == jsonparser.String {
			dst = append(dst, '"')
			dst = append(dst, value...) // still escaped
			dst = append(dst, '"')
		} else {
			dst = append(dst, value...)
		}
		return nil
	})
	if err != nil {
		return nil, false, err
	}
	if !amountNumber {
		return nil, false, errAmount
	}
	cents, keep, err := centsOf(amount)
	if !keep || err != nil {
		return dst[:start], keep, err
	}
	if !first {
		dst = append(dst, ',')
	}
	dst = append(dst, `"total_cents":`...)
	dst = strconv.AppendInt(dst, cents, 10)
	return append(dst, '}'), true, nil
}

// appendJSONString appends s as a JSON string.
func appendJSONString(dst, s []byte) []byte {
	simple := true
	for _, c := range s {
		if c < 0x20 || c == '"' || c == '\\' {
			simple = false
			break
		}
	}
	if simple {
		dst = append(dst, '"')
		dst = append(dst, s...)
		return append(dst, '"')
	}
	b, _ := stdjson.Marshal(string(s))
	return append(dst, b...)
}

// editScan is a hand-written single pass over the top-level members of the
// object: each member is copied as it is (renamed for user), debug and any
// old total_cents are skipped, and total_cents is appended at the end. Values
// are skipped over, not decoded: strings, nesting and literals are checked
// only as far as needed to find where each value ends.
func editScan(dst, src []byte) ([]byte, bool, error) {
	start := len(dst)
	i := skipWS(src, 0)
	if i >= len(src) || src[i] != '{' {
		return nil, false, transforms.ErrNotObject
	}
	i++
	dst = append(dst, '{')
	first := true
	var amount []byte
	for n := 0; ; n++ {
		i = skipWS(src, i)
		if i >= len(src) {
			return nil, false, errTruncated
		}
		if src[i] == '}' && n == 0 {
			i++
			break
		}
		if src[i] != '"' {
			return nil, false, syntaxErr(i, "expected a member name")
		}
		kEnd, err := stringEnd(src, i)
		if err != nil {
			return nil, false, err
		}
		key := src[i:kEnd] // with quotes
		i = skipWS(src, kEnd)
		if i >= len(src) || src[i] != ':' {
			return nil, false, syntaxErr(i, "expected ':'")
		}
		i = skipWS(src, i+1)
		vEnd, err := valueEnd(src, i)
		if err != nil {
			return nil, false, err
		}
		val := src[i:vEnd]
		switch string(key) {
		case `"debug"`, `"total_cents"`:
		default:
			if !first {
				dst = append(dst, ',')
			}
			first = false
			if string(key) == `"user"` {
				dst = append(dst, `"user_id"`...)
			} else {
				dst = append(dst, key...)
			}
			dst = append(dst, ':')
			dst = append(dst, val...)
			if string(key) == `"amount"` {
				amount = val
			}
		}
		i = skipWS(src, vEnd)
		if i >= len(src) {
			return nil, false, errTruncated
		}
		if src[i] == ',' {
			i++
			continue
		}
		if src[i] == '}' {
			i++
			break
		}
		return nil, false, syntaxErr(i, "expected ',' or '}'")
	}
	if skipWS(src, i) != len(src) {
		return nil, false, errors.New("invalid JSON: unexpected data after the value")
	}
	if amount == nil || !isNumberStart(amount[0]) {
		return nil, false, errAmount
	}
	cents, keep, err := centsOf(amount)
	if !keep || err != nil {
		return dst[:start], keep, err
	}
	if !first {
		dst = append(dst, ',')
	}
	dst = append(dst, `"total_cents":`...)
	dst = strconv.AppendInt(dst, cents, 10)
	return append(dst, '}'), true, nil
}

var errTruncated = errors.New("invalid JSON: unexpected end of input")

func syntaxErr(i int, msg string) error {
	return fmt.Errorf("invalid JSON at byte %d: %s", i, msg)
}

func isNumberStart(c byte) bool { return c == '-' || (c >= '0' && c <= '9') }

// centsOf is the filter and the set step on a JSON number: keep is
// amount > 0, cents is int(amount * 100) with Millrace's number rules
// (integers stay integers, others are float64 and truncated).
func centsOf(num []byte) (cents int64, keep bool, err error) {
	if len(num) == 0 {
		return 0, false, errAmount
	}
	// The string shares num's bytes: strconv does not keep it, except in an
	// error, which is dropped here. (A copy would cost an allocation per
	// record, a failed ParseInt on a float two.)
	s := unsafe.String(unsafe.SliceData(num), len(num))
	if bytes.IndexAny(num, ".eE") < 0 {
		if n, err := strconv.ParseInt(s, 10, 64); err == nil {
			return n * 100, n > 0, nil
		}
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return 0, false, errAmount
	}
	return int64(f * 100), f > 0, nil
}

func skipWS(b []byte, i int) int {
	for i < len(b) {
		switch b[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

// stringEnd returns the index after the closing quote of the string that
// starts at b[i] == '"'.
func stringEnd(b []byte, i int) (int, error) {
	for j := i + 1; j < len(b); j++ {
		switch c := b[j]; {
		case c == '"':
			return j + 1, nil
		case c == '\\':
			j++
		case c < 0x20:
			return 0, syntaxErr(j, "control character in string")
		}
	}
	return 0, errTruncated
}

// valueEnd returns the index after the value that starts at b[i].
func valueEnd(b []byte, i int) (int, error) {
	if i >= len(b) {
		return 0, errTruncated
	}
	switch c := b[i]; c {
	case '"':
		return stringEnd(b, i)
	case '{', '[':
		depth := 0
		for j := i; j < len(b); j++ {
			switch b[j] {
			case '"':
				end, err := stringEnd(b, j)
				if err != nil {
					return 0, err
				}
				j = end - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return j + 1, nil
				}
			}
		}
		return 0, errTruncated
	default:
		j := i
		for j < len(b) {
			switch b[j] {
			case ',', '}', ']', ' ', '\t', '\n', '\r':
				goto done
			}
			j++
		}
	done:
		if j == i {
			return 0, syntaxErr(i, "expected a value")
		}
		lit := b[i:j]
		switch string(lit) {
		case "true", "false", "null":
			return j, nil
		}
		if !isNumberStart(lit[0]) {
			return 0, syntaxErr(i, "invalid literal")
		}
		return j, nil
	}
}
