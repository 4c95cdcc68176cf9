package transforms

import (
	"testing"

	gojson "github.com/goccy/go-json"
)

// benchRecord is a ~230-byte event like the benchmark's.
var benchRecord = []byte(`{"id":"o-123456","user":"user-4711","amount":12.5,"currency":"EUR","country":"DE","status":"paid","debug":{"trace":"abc","n":3},"items":[1,2,3],"ts":"2026-11-25T10:00:00Z","big":12345678901234567890}`)

// BenchmarkCodecStdlib is the record path's JSON: Decode (encoding/json with
// UseNumber, numbers normalised) and Encode.
func BenchmarkCodecStdlib(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		v, err := Decode(benchRecord)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := Encode(v); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCodecGoJSON is the fastest drop-in alternative measured,
// goccy/go-json's Unmarshal and Marshal. It is about a quarter faster but
// reads every number as float64, so integers beyond 2^53 lose digits; the
// record path keeps encoding/json.
func BenchmarkCodecGoJSON(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		var v any
		if err := gojson.UnmarshalNoEscape(benchRecord, &v); err != nil {
			b.Fatal(err)
		}
		if _, err := gojson.MarshalNoEscape(v); err != nil {
			b.Fatal(err)
		}
	}
}
