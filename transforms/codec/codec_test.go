package codec_test

import (
	"encoding/json"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/millrace-dev/millrace/transforms/codec"
)

// Decode then Encode: what comes out for what goes in.
func TestDecodeEncodeRoundTrip(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		// Integers beyond int64 keep their digits exactly.
		{`{"n":123456789012345678901234567890}`, `{"n":123456789012345678901234567890}`},
		{`{"n":-98765432109876543210987654321}`, `{"n":-98765432109876543210987654321}`},
		{`[18446744073709551615]`, `[18446744073709551615]`},
		{`9223372036854775807`, `9223372036854775807`},
		{`-9223372036854775808`, `-9223372036854775808`},
		{`9223372036854775808`, `9223372036854775808`},
		// Floats are float64 and written in Go's shortest form.
		{`{"f":1.5}`, `{"f":1.5}`},
		{`{"f":0.1}`, `{"f":0.1}`},
		{`{"f":1.0}`, `{"f":1}`},
		{`{"f":1e3}`, `{"f":1000}`},
		{`{"f":-2.5E-3}`, `{"f":-0.0025}`},
		{`{"f":1e21}`, `{"f":1e+21}`},
		// Negative zero: a float keeps its sign, the integer -0 is 0.
		{`{"f":-0.0}`, `{"f":-0}`},
		{`{"f":-0}`, `{"f":0}`},
		// Out of float64 range: kept as written rather than turned into Inf.
		{`{"f":1e400}`, `{"f":1e400}`},
		// Keys come out sorted, at every depth.
		{`{"b":1,"a":2,"c":{"z":1,"y":[{"q":1,"p":2}]}}`, `{"a":2,"b":1,"c":{"y":[{"p":2,"q":1}],"z":1}}`},
		// HTML characters are not escaped.
		{`{"h":"<a href=\"x\">&amp;</a>"}`, `{"h":"<a href=\"x\">&amp;</a>"}`},
		{`{"h":"\u003cb\u003e \u0026"}`, `{"h":"<b> &"}`},
		// Unicode passes through; escapes are normalised.
		{`{"s":"grüß \u00e9 😀"}`, `{"s":"grüß é 😀"}`},
		{`{"s":"tab\tnl\n"}`, `{"s":"tab\tnl\n"}`},
		// Invalid UTF-8 becomes U+FFFD.
		{"{\"s\":\"a\xffb\"}", `{"s":"a` + "\ufffd" + `b"}`},
		// Whitespace around the value is fine and not kept.
		{" \n {\"a\" : [ 1 , 2 ] } \n", `{"a":[1,2]}`},
		{`null`, `null`},
		{`"s"`, `"s"`},
		{`true`, `true`},
		{`{}`, `{}`},
		{`[]`, `[]`},
	} {
		v, err := codec.Decode([]byte(tc.in))
		if err != nil {
			t.Errorf("Decode(%s): %v", tc.in, err)
			continue
		}
		got, err := codec.Encode(v)
		if err != nil {
			t.Errorf("Encode(%s): %v", tc.in, err)
			continue
		}
		if string(got) != tc.want {
			t.Errorf("%s: got %s, want %s", tc.in, got, tc.want)
		}
	}
}

func TestDecodeTypes(t *testing.T) {
	v, err := codec.Decode([]byte(`{"i":7,"neg":-7,"f":2.5,"e":1e2,"big":123456789012345678901,"s":"x","b":false,"n":null,"l":[1,"a"]}`))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"i": 7, "neg": -7, "f": 2.5, "e": 100.0,
		"big": json.Number("123456789012345678901"),
		"s":   "x", "b": false, "n": nil,
		"l": []any{1, "a"},
	}
	if !reflect.DeepEqual(v, want) {
		t.Errorf("got  %#v\nwant %#v", v, want)
	}
}

func TestDecodeErrors(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{``, "invalid JSON: EOF"},
		{`   `, "invalid JSON: EOF"},
		{`{"a":`, "invalid JSON: unexpected EOF"},
		{`{"a" 1}`, "invalid JSON: invalid character '1' after object key"},
		{`{a:1}`, "invalid JSON: invalid character 'a' looking for beginning of object key string"},
		{`[1,]`, "invalid JSON: invalid character ']' looking for beginning of value"},
		{`{"a":1}{"b":2}`, "invalid JSON: unexpected data after the value"},
		{`{"a":1} x`, "invalid JSON: unexpected data after the value"},
		{`1 2`, "invalid JSON: unexpected data after the value"},
		{`{"a":1}]`, "invalid JSON: unexpected data after the value"},
		{`NaN`, "invalid JSON: invalid character 'N' looking for beginning of value"},
	} {
		v, err := codec.Decode([]byte(tc.in))
		if err == nil || err.Error() != tc.want {
			t.Errorf("Decode(%q) = %v, %v; want error %q", tc.in, v, err, tc.want)
		}
	}
}

func TestEncode(t *testing.T) {
	ts := time.Date(2024, 5, 6, 7, 8, 9, 10, time.UTC)
	for _, tc := range []struct {
		v    any
		want string
	}{
		{map[string]any{"t": ts}, `{"t":"2024-05-06T07:08:09.00000001Z"}`},
		{map[string]any{"b": []byte("hi")}, `{"b":"aGk="}`},
		{map[string]any{"z": 1, "a": map[string]any{"y": 2, "b": 3}}, `{"a":{"b":3,"y":2},"z":1}`},
		{json.Number("12345678901234567890123"), `12345678901234567890123`},
		{"<&>", `"<&>"`},
		{nil, `null`},
	} {
		got, err := codec.Encode(tc.v)
		if err != nil || string(got) != tc.want {
			t.Errorf("Encode(%#v) = %s, %v; want %s", tc.v, got, err, tc.want)
		}
		if strings.HasSuffix(string(got), "\n") {
			t.Errorf("Encode(%#v) ends with a newline", tc.v)
		}
	}
	for _, bad := range []any{math.NaN(), math.Inf(1), map[string]any{"c": make(chan int)}} {
		if got, err := codec.Encode(bad); err == nil || !strings.HasPrefix(err.Error(), "encode JSON: ") {
			t.Errorf("Encode(%v) = %s, %v; want an error", bad, got, err)
		}
	}
}

func TestNumber(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want any
	}{
		{"0", 0}, {"-0", 0}, {"42", 42}, {"-7", -7}, {"2.5", 2.5}, {"1e2", 100.0}, {"-0.0", math.Copysign(0, -1)},
		{"9223372036854775808", json.Number("9223372036854775808")},
		{"1e400", json.Number("1e400")},
	} {
		got, ok := codec.Number(tc.in)
		if !ok || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("Number(%q) = %#v, %v; want %#v", tc.in, got, ok, tc.want)
		}
	}
	for _, bad := range []string{"", "-", "+1", "01", "1.", ".5", "1e", "0x10", "1 ", "NaN", "Inf", "1_000"} {
		if got, ok := codec.Number(bad); ok {
			t.Errorf("Number(%q) = %#v, want not a number", bad, got)
		}
	}
}

func TestDeepCopy(t *testing.T) {
	v, err := codec.Decode([]byte(`{"a":{"b":[1,{"c":2}]},"s":"x"}`))
	if err != nil {
		t.Fatal(err)
	}
	c := codec.DeepCopy(v)
	c.(map[string]any)["a"].(map[string]any)["b"].([]any)[1].(map[string]any)["c"] = 99
	c.(map[string]any)["s"] = "y"
	if got, _ := codec.Encode(v); string(got) != `{"a":{"b":[1,{"c":2}]},"s":"x"}` {
		t.Errorf("the copy shares state with the original: %s", got)
	}
	for _, scalar := range []any{nil, "s", 1, 2.5, true, json.Number("1")} {
		if got := codec.DeepCopy(scalar); got != scalar {
			t.Errorf("DeepCopy(%#v) = %#v", scalar, got)
		}
	}
}
