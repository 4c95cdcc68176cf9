package codec

import (
	"bytes"
	"reflect"
	"strings"
	"testing"
)

// codecSeeds are documents where JSON libraries tend to differ.
var codecSeeds = []string{
	`{"id":"evt-1","user":"u-1","amount":129.90,"items":3,"debug":{"trace":"9f86","sampled":false},"ts":1709283600123}`,
	"{\"a\":\"\xff\xfe\",\"b\":\"<&>\",\"c\":\"\\u2028\u2029\",\"d\":\"\\ud800x\",\"e\":\"\\udc00\\ud800\"}",
	`{"n":[12345678901234567890123,-9223372036854775808,9223372036854775808,-0,0.0,1E5,1e-7,1e400,-1.5e-400]}`,
	`{"a":1,"a":2}`, `{"a":{"b":[{},[],null,true,false,""]}}`, `{"a":"\u0000\t\n\u007f\"\\\/"}`,
	`{"a":1}x`, `{"a":1} `, ` {"a":1}`, `{"a":1}{}`, `[1]`, `"s"`, `1`, `null`, ``, `{`, `{"a":}`, `{"a":01}`,
	`{"a":1.}`, `{"a":.5}`, `{"a":+1}`, `{"a":"\x"}`, `{"a":"` + "\x01" + `"}`, `{"a":NaN}`, `{"a" : [ 1 , 2 ] }`,
	"{\"\xc0\":1}", `{"a":"\uD834\uDD1E"}`, `{"a":1,}`, `[1,]`, `{"a":tru}`, strings.Repeat("[", 200) + strings.Repeat("]", 200),
}

// FuzzCodecMatchesStdlib checks Decode and Encode against encoding/json:
// the same documents accepted, the same values, the same bytes written.
func FuzzCodecMatchesStdlib(f *testing.F) {
	for _, s := range codecSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if fast, err := decodeFast(data); err == nil {
			// What the fast parser accepts, encoding/json accepts, with
			// the same value.
			if want, err := decodeStd(data); err != nil || !reflect.DeepEqual(fast, want) {
				t.Fatalf("decodeFast(%q) = %#v, encoding/json %#v (%v)", data, fast, want, err)
			}
		}
		got, err := Decode(data)
		want, wantErr := decodeStd(data)
		if (err == nil) != (wantErr == nil) || (err != nil && err.Error() != wantErr.Error()) {
			t.Fatalf("Decode(%q) error %v, encoding/json %v", data, err, wantErr)
		}
		if err != nil {
			return
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("Decode(%q) = %#v, encoding/json %#v", data, got, want)
		}
		enc, err := Encode(got)
		wantEnc, wantErr := encodeStd(got)
		if err != nil || wantErr != nil || !bytes.Equal(enc, wantEnc) {
			t.Fatalf("Encode(%#v) = %s (%v), encoding/json %s (%v)", got, enc, err, wantEnc, wantErr)
		}
	})
}

// FuzzEncodeMatchesStdlib checks Encode against encoding/json for values
// transforms build rather than decode: any string (invalid UTF-8, control
// characters), any float, any integer.
func FuzzEncodeMatchesStdlib(f *testing.F) {
	f.Add("a\xffb\x00\b\f\n\r\t\"\\<>&\u2028\u2029\U0001F600", 12990.000000000002, int64(-1))
	f.Add("", 1e-7, int64(9223372036854775807))
	f.Add("\xed\xa0\x80", 1e21, int64(0))
	f.Add("x", -0.0, int64(1))
	f.Add("y", 123456789.123456789e-30, int64(2))
	f.Fuzz(func(t *testing.T, s string, x float64, n int64) {
		v := map[string]any{"s": s, s: []any{x, n, int(n), nil, true, map[string]any{}}}
		got, err := Encode(v)
		want, wantErr := encodeStd(v)
		if (err == nil) != (wantErr == nil) || !bytes.Equal(got, want) {
			t.Fatalf("Encode(%#v) = %s (%v), encoding/json %s (%v)", v, got, err, want, wantErr)
		}
	})
}
