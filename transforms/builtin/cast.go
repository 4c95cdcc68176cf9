package builtin

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/millrace-dev/millrace/transforms"
	"github.com/millrace-dev/millrace/transforms/codec"
	"github.com/millrace-dev/millrace/transforms/spec"
)

// Cast targets.
const (
	castString    = "string"
	castInt       = "int"
	castFloat     = "float"
	castBool      = "bool"
	castTimestamp = "timestamp"
)

// unixMillisFrom is where cast's timestamp reads a number as milliseconds
// rather than seconds: 1e11 seconds is in the year 5138, 1e11 milliseconds in
// March 1973.
const unixMillisFrom = 1e11

func init() {
	transforms.Register(transforms.Spec{
		Name:    "cast",
		Summary: "Convert field types: string, int, float, bool, timestamp.",
		Description: "Each entry maps a field path to the type its value becomes. A value that " +
			"cannot be converted fails the record (it goes to the dead-letter topic). Missing " +
			"fields are skipped and `null` stays `null`.\n\n" +
			"| to | from |\n| --- | --- |\n" +
			"| `string` | numbers as decimal text, booleans as `true`/`false`, objects and lists as their JSON text |\n" +
			"| `int` | numeric strings (spaces trimmed), floats truncated toward zero, `true`/`false` as 1/0 |\n" +
			"| `float` | integers, numeric strings, `true`/`false` as 1/0 |\n" +
			"| `bool` | numbers (0 is false), the strings `true`/`false`, `t`/`f`, `1`/`0`, `yes`/`no`, `y`/`n`, `on`/`off` (any case) |\n" +
			"| `timestamp` | an RFC 3339 string, or Unix time as a number or numeric string |\n\n" +
			"`timestamp` writes an RFC 3339 string in UTC with as many fractional digits as " +
			"needed. A number whose magnitude is below 100 000 000 000 is read as Unix seconds " +
			"(fractions allowed), a larger one as Unix milliseconds. For other layouts, time " +
			"zones or the record timestamp use the `timestamp` transform.\n\n" +
			"JSON has one number type: a float with no fraction is written without one, so " +
			"`float` turns `\"3\"` into `3`. An integer too large for 64 bits stays as written " +
			"under `int`. This is Kafka Connect's `Cast`.",
		Config: spec.Map("field path", spec.Enum("Target type.", castString, castInt, castFloat, castBool, castTimestamp), 1,
			"Field path to target type."),
		Examples: []transforms.Example{
			{Title: "Numbers from strings", Config: `{amount: float, qty: int, id: string}`, Input: `{"amount":"12.50","qty":" 3 ","id":1042}`,
				Output: []string{`{"amount":12.5,"id":"1042","qty":3}`}},
			{Title: "Booleans and timestamps", Config: `{active: bool, created: timestamp, updated: timestamp}`,
				Input:  `{"active":"yes","created":1700000000,"updated":"2024-03-01T10:00:00+01:00"}`,
				Output: []string{`{"active":true,"created":"2023-11-14T22:13:20Z","updated":"2024-03-01T09:00:00Z"}`}},
			{Title: "Unix milliseconds", Config: `{ts: timestamp}`, Input: `{"ts":1700000000123}`,
				Output: []string{`{"ts":"2023-11-14T22:13:20.123Z"}`}},
			{Title: "Text that is no number fails", Config: `{qty: int}`, Input: `{"qty":"three"}`,
				Error: `field qty: cannot cast a string of 5 characters to int`},
		},
	}, func(b *transforms.Build) (transforms.Transform, error) {
		var t cast
		for _, e := range b.Config.Entries {
			t = append(t, castField{path: e.Key.Text, to: e.Value.Text, fn: casters[e.Value.Text]})
		}
		return t, nil
	})
}

var casters = map[string]func(any) (any, bool){
	castString:    toString,
	castInt:       toInt,
	castFloat:     toFloat,
	castBool:      toBool,
	castTimestamp: toTimestamp,
}

type castField struct {
	path, to string
	fn       func(any) (any, bool)
}

type cast []castField

func (c cast) Apply(_ context.Context, r *transforms.Record) ([]*transforms.Record, error) {
	obj, err := r.Object()
	if err != nil {
		return nil, err
	}
	for _, f := range c {
		v, ok := transforms.Get(obj, f.path)
		if !ok || v == nil {
			continue
		}
		out, ok := f.fn(v)
		if !ok {
			return nil, fmt.Errorf("field %s: cannot cast %s to %s", f.path, describeValue(v), f.to)
		}
		if err := transforms.Set(obj, f.path, out); err != nil {
			return nil, err
		}
	}
	return r.One(), nil
}

func toString(v any) (any, bool) {
	s, err := textOf(v)
	return s, err == nil
}

func toInt(v any) (any, bool) {
	switch x := v.(type) {
	case int:
		return x, true
	case float64:
		return floatToInt(x)
	case bool:
		return boolToInt(x), true
	case json.Number:
		return numberToInt(string(x))
	case string:
		return numberToInt(strings.TrimSpace(x))
	}
	return nil, false
}

func numberToInt(s string) (any, bool) {
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return int(n), true
	}
	if n, ok := codec.Number(s); ok && !strings.ContainsAny(s, ".eE") {
		return n, true // too large for int64: json.Number keeps the digits
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return nil, false
	}
	return floatToInt(f)
}

func floatToInt(f float64) (any, bool) {
	t := math.Trunc(f)
	if math.IsNaN(t) || t < math.MinInt64 || t >= math.MaxInt64 {
		return nil, false
	}
	return int(t), true
}

func boolToInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func toFloat(v any) (any, bool) {
	var f float64
	switch x := v.(type) {
	case int:
		return float64(x), true
	case float64:
		return x, true
	case bool:
		return float64(boolToInt(x)), true
	case json.Number:
		var err error
		if f, err = strconv.ParseFloat(string(x), 64); err != nil {
			return nil, false
		}
	case string:
		var err error
		if f, err = strconv.ParseFloat(strings.TrimSpace(x), 64); err != nil {
			return nil, false
		}
	default:
		return nil, false
	}
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return nil, false
	}
	return f, true
}

func toBool(v any) (any, bool) {
	switch x := v.(type) {
	case bool:
		return x, true
	case int:
		return x != 0, true
	case float64:
		return x != 0, true
	case json.Number:
		f, err := strconv.ParseFloat(string(x), 64)
		return f != 0, err == nil
	case string:
		switch strings.ToLower(strings.TrimSpace(x)) {
		case "true", "t", "1", "yes", "y", "on":
			return true, true
		case "false", "f", "0", "no", "n", "off":
			return false, true
		}
	}
	return nil, false
}

func toTimestamp(v any) (any, bool) {
	var t time.Time
	switch x := v.(type) {
	case time.Time:
		t = x
	case string:
		s := strings.TrimSpace(x)
		if p, err := time.Parse(time.RFC3339, s); err == nil {
			t = p
		} else if f, err := strconv.ParseFloat(s, 64); err == nil {
			if t, err = unixTime(f); err != nil {
				return nil, false
			}
		} else {
			return nil, false
		}
	case int, float64, json.Number:
		f, ok := toFloat(v)
		if !ok {
			return nil, false
		}
		var err error
		if t, err = unixTime(f.(float64)); err != nil {
			return nil, false
		}
	default:
		return nil, false
	}
	return t.UTC().Format(time.RFC3339Nano), true
}

var errOutOfRange = errors.New("time out of range")

// unixTime reads seconds, or milliseconds from unixMillisFrom on.
func unixTime(f float64) (time.Time, error) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return time.Time{}, errOutOfRange
	}
	if math.Abs(f) >= unixMillisFrom {
		return unixScaled(f, time.Millisecond)
	}
	return unixScaled(f, time.Second)
}

// unixScaled converts a count of units since the epoch, with a fraction.
func unixScaled(f float64, unit time.Duration) (time.Time, error) {
	whole, frac := math.Modf(f)
	perSec := float64(time.Second / unit)
	sec := math.Floor(whole / perSec)
	// Years beyond 9999 cannot be written in RFC 3339.
	if sec < -62135596800 || sec > 253402300799 {
		return time.Time{}, errOutOfRange
	}
	rest := whole - sec*perSec // whole units past sec
	nsec := (rest + frac) * float64(unit)
	if unit >= time.Microsecond {
		// A float carries about 16 digits: round a fraction to microseconds.
		nsec = math.Round(nsec/1e3) * 1e3
	}
	return time.Unix(int64(sec), int64(math.Round(nsec))).UTC(), nil
}
