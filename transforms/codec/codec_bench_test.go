package codec

import (
	"testing"

	gojson "github.com/goccy/go-json"
)

// benchRecord is a ~230-byte event like the benchmark's.
var benchRecord = []byte(`{"id":"o-123456","user":"user-4711","amount":12.5,"currency":"EUR","country":"DE","status":"paid","debug":{"trace":"abc","n":3},"items":[1,2,3],"ts":"2026-11-25T10:00:00Z","big":12345678901234567890}`)

// BenchmarkCodec measures a record's JSON round trip: Decode then Encode
// (the record path), the same with encoding/json (UseNumber, numbers
// normalised; what Decode and Encode fall back to), and goccy/go-json's
// Unmarshal and Marshal, the fastest drop-in library measured, which reads
// every number as float64 and so loses digits of integers beyond 2^53.
func BenchmarkCodec(b *testing.B) {
	for _, c := range []struct {
		name   string
		decode func([]byte) (any, error)
		encode func(any) ([]byte, error)
	}{
		{"millrace", Decode, Encode},
		{"stdlib", decodeStd, encodeStd},
		{"goccy", func(data []byte) (any, error) {
			var v any
			return v, gojson.UnmarshalNoEscape(data, &v)
		}, func(v any) ([]byte, error) { return gojson.MarshalNoEscape(v) }},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				v, err := c.decode(benchRecord)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := c.encode(v); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
