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

// BenchmarkScan is the spliced path's validating pass over a record like
// test/bench's: every record taken by that path is scanned once.
func BenchmarkScan(b *testing.B) {
	rec := []byte(`{"id":"evt-0000000042","user":"user-01337","amount":129.90,"currency":"EUR","country":"DE","status":"paid","channel":"web","items":3,"debug":{"trace":"9f86d081884c7d65","sampled":false,"host":"worker-07"},"ts":1709283600123}`)
	var o Object
	b.SetBytes(int64(len(rec)))
	b.ReportAllocs()
	for b.Loop() {
		if err := o.Scan(rec); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSplice is the codec's part of the spliced path for the
// benchmark chain (filter amount, set total_cents, rename user to user_id,
// drop debug): Scan, DecodeInto a reused map, the chain's edits, Splice
// into a reused buffer.
func BenchmarkSplice(b *testing.B) {
	rec := []byte(`{"id":"evt-0000000042","user":"user-01337","amount":129.90,"currency":"EUR","country":"DE","status":"paid","channel":"web","items":3,"debug":{"trace":"9f86d081884c7d65","sampled":false,"host":"worker-07"},"ts":1709283600123}`)
	e := NewEdit([]string{"amount"}, []string{"total_cents", "user", "user_id"}, []string{"debug"}, false)
	var o Object
	m := map[string]any{}
	var buf []byte
	b.SetBytes(int64(len(rec)))
	b.ReportAllocs()
	for b.Loop() {
		if err := o.Scan(rec); err != nil {
			b.Fatal(err)
		}
		var err error
		if m, err = e.DecodeInto(&o, m); err != nil {
			b.Fatal(err)
		}
		m["total_cents"] = int64(12990)
		m["user_id"] = m["user"]
		delete(m, "user")
		delete(m, "debug")
		if buf, err = e.Splice(buf[:0], &o, m); err != nil {
			b.Fatal(err)
		}
		clear(m)
	}
}
