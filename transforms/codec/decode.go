package codec

import (
	"encoding/json"
	"errors"
	"math"
	"strconv"
	"sync"
	"unicode/utf8"
)

// valueDecoder parses a record value straight into the types Decode
// promises (int, float64, json.Number for integers beyond 64 bits, string,
// bool, nil, []any, map[string]any), in one pass and without the
// intermediate json.Number tree that encoding/json's UseNumber builds and
// normalize rewrites. Object keys are interned per decoder, because records
// of a topic share their field names: a key costs no allocation after its
// first record. Strings with escapes are handed to encoding/json, so their
// meaning (surrogates, invalid UTF-8) is exactly the standard library's.
//
// It is hand-written because the libraries measured keep a step the record
// path does not need: encoding/json and segmentio/encoding build json.Number
// values that must then be converted, goccy/go-json loses digits of large
// integers (BenchmarkCodec, test/bench's README). FuzzCodecMatchesStdlib
// holds it to encoding/json: the same documents accepted, the same values.
// Any document it rejects is parsed again by encoding/json, which gives the
// error message.
type valueDecoder struct {
	data  []byte
	pos   int
	depth int
	keys  map[string]string
	pairs []pair // members of the objects being parsed, innermost last
}

type pair struct {
	key string
	val any
}

// maxDepth is encoding/json's nesting limit.
const maxDepth = 10000

// maxInterned bounds the key cache of one decoder: a topic with ever new
// field names (ids as keys) must not grow it without end.
const maxInterned = 4096

var errSyntax = errors.New("invalid JSON")

var decoders = sync.Pool{New: func() any { return &valueDecoder{keys: map[string]string{}} }}

// decodeFast parses data; any error means "ask encoding/json".
func decodeFast(data []byte) (any, error) {
	d := decoders.Get().(*valueDecoder)
	d.data, d.pos, d.depth = data, 0, 0
	v, err := d.value()
	if err == nil {
		d.space()
		if d.pos != len(d.data) {
			err = errSyntax
		}
	}
	d.data = nil
	clear(d.pairs[:cap(d.pairs)])
	d.pairs = d.pairs[:0]
	decoders.Put(d)
	return v, err
}

func (d *valueDecoder) space() {
	for d.pos < len(d.data) {
		switch d.data[d.pos] {
		case ' ', '\t', '\n', '\r':
			d.pos++
		default:
			return
		}
	}
}

func (d *valueDecoder) value() (any, error) {
	d.space()
	if d.pos >= len(d.data) {
		return nil, errSyntax
	}
	switch c := d.data[d.pos]; {
	case c == '{':
		return d.object()
	case c == '[':
		return d.array()
	case c == '"':
		return d.str()
	case c == '-' || (c >= '0' && c <= '9'):
		return d.number()
	case c == 't':
		return true, d.literal("true")
	case c == 'f':
		return false, d.literal("false")
	case c == 'n':
		return nil, d.literal("null")
	}
	return nil, errSyntax
}

func (d *valueDecoder) literal(word string) error {
	if len(d.data)-d.pos < len(word) || string(d.data[d.pos:d.pos+len(word)]) != word {
		return errSyntax
	}
	d.pos += len(word)
	return nil
}

func (d *valueDecoder) object() (any, error) {
	if d.depth++; d.depth > maxDepth {
		return nil, errSyntax
	}
	d.pos++ // {
	start := len(d.pairs)
	d.space()
	if d.pos < len(d.data) && d.data[d.pos] == '}' {
		d.pos++
		d.depth--
		return map[string]any{}, nil
	}
	for {
		d.space()
		if d.pos >= len(d.data) || d.data[d.pos] != '"' {
			return nil, errSyntax
		}
		key, err := d.key()
		if err != nil {
			return nil, err
		}
		d.space()
		if d.pos >= len(d.data) || d.data[d.pos] != ':' {
			return nil, errSyntax
		}
		d.pos++
		v, err := d.value()
		if err != nil {
			return nil, err
		}
		d.pairs = append(d.pairs, pair{key, v})
		d.space()
		if d.pos >= len(d.data) {
			return nil, errSyntax
		}
		c := d.data[d.pos]
		d.pos++
		if c == '}' {
			break
		}
		if c != ',' {
			return nil, errSyntax
		}
	}
	members := d.pairs[start:]
	m := make(map[string]any, len(members))
	for _, p := range members {
		m[p.key] = p.val
	}
	clear(members)
	d.pairs = d.pairs[:start]
	d.depth--
	return m, nil
}

func (d *valueDecoder) array() (any, error) {
	if d.depth++; d.depth > maxDepth {
		return nil, errSyntax
	}
	d.pos++ // [
	a := []any{}
	d.space()
	if d.pos < len(d.data) && d.data[d.pos] == ']' {
		d.pos++
		d.depth--
		return a, nil
	}
	for {
		v, err := d.value()
		if err != nil {
			return nil, err
		}
		a = append(a, v)
		d.space()
		if d.pos >= len(d.data) {
			return nil, errSyntax
		}
		c := d.data[d.pos]
		d.pos++
		if c == ']' {
			break
		}
		if c != ',' {
			return nil, errSyntax
		}
	}
	d.depth--
	return a, nil
}

// rawString returns the bytes of the string at pos, quotes included, and
// whether they can be used as they are (no escape, valid UTF-8).
func (d *valueDecoder) rawString() ([]byte, bool, error) {
	start := d.pos
	d.pos++ // "
	plain, ascii := true, true
	for d.pos < len(d.data) {
		if d.pos = plainEnd(d.data, d.pos); d.pos >= len(d.data) {
			break
		}
		c := d.data[d.pos]
		switch {
		case c == '"':
			d.pos++
			raw := d.data[start:d.pos]
			if plain && !ascii && !utf8.Valid(raw) {
				plain = false
			}
			return raw, plain, nil
		case c == '\\':
			plain = false
			d.pos += 2
			continue
		case c < 0x20:
			return nil, false, errSyntax
		case c >= 0x80:
			ascii = false
		}
		d.pos++
	}
	return nil, false, errSyntax
}

func (d *valueDecoder) str() (any, error) {
	raw, plain, err := d.rawString()
	if err != nil {
		return nil, err
	}
	if plain {
		return string(raw[1 : len(raw)-1]), nil
	}
	return unquote(raw)
}

func (d *valueDecoder) key() (string, error) {
	raw, plain, err := d.rawString()
	if err != nil {
		return "", err
	}
	if !plain {
		return unquote(raw)
	}
	b := raw[1 : len(raw)-1]
	if k, ok := d.keys[string(b)]; ok {
		return k, nil
	}
	k := string(b)
	if len(d.keys) < maxInterned {
		d.keys[k] = k
	}
	return k, nil
}

// unquote decodes a string with escapes or invalid UTF-8 as encoding/json
// does.
func unquote(raw []byte) (string, error) {
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", errSyntax
	}
	return s, nil
}

// number scans a JSON number and converts it as Decode documents.
func (d *valueDecoder) number() (any, error) {
	start := d.pos
	integer := true
	if d.data[d.pos] == '-' {
		d.pos++
	}
	switch {
	case d.pos < len(d.data) && d.data[d.pos] == '0':
		d.pos++
	case d.pos < len(d.data) && d.data[d.pos] >= '1' && d.data[d.pos] <= '9':
		d.digits()
	default:
		return nil, errSyntax
	}
	if d.pos < len(d.data) && d.data[d.pos] == '.' {
		integer = false
		d.pos++
		if d.digits() == 0 {
			return nil, errSyntax
		}
	}
	if d.pos < len(d.data) && (d.data[d.pos] == 'e' || d.data[d.pos] == 'E') {
		integer = false
		d.pos++
		if d.pos < len(d.data) && (d.data[d.pos] == '+' || d.data[d.pos] == '-') {
			d.pos++
		}
		if d.digits() == 0 {
			return nil, errSyntax
		}
	}
	text := d.data[start:d.pos]
	if integer {
		if n, err := strconv.ParseInt(string(text), 10, 64); err == nil {
			return int(n), nil
		}
		return json.Number(text), nil // too large for int64: keep the digits
	}
	if f, err := strconv.ParseFloat(string(text), 64); err == nil && !math.IsInf(f, 0) {
		return f, nil
	}
	return json.Number(text), nil // as normalizeNumber
}

func (d *valueDecoder) digits() int {
	n := 0
	for d.pos < len(d.data) && d.data[d.pos] >= '0' && d.data[d.pos] <= '9' {
		d.pos++
		n++
	}
	return n
}
