package builtin_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/millrace-dev/millrace/transforms"
	"github.com/millrace-dev/millrace/transforms/codec"
	"github.com/millrace-dev/millrace/transforms/expression"
)

const fuzzSteps = `
- filter: 'type(a) != "string" || a != "skip"'
- set:
    n.count: 'len(kafka.headers)'
    h: 'sha256(string(a))'
    b: 'a'
- rename: {a: z.a, b: n.b}
- drop: [c, z.a.q]
`

func roundTrip(t *testing.T, data []byte) []byte {
	v, err := codec.Decode(data)
	if err != nil {
		t.Fatalf("Decode of %s: %v", data, err)
	}
	out, err := codec.Encode(v)
	if err != nil {
		t.Fatalf("Encode of %s: %v", data, err)
	}
	return out
}

// FuzzChain runs arbitrary JSON through a fixed four-step chain. It must
// never panic; a record either fails with a StepError or yields at most one
// object. Decoding and encoding is stable.
func FuzzChain(f *testing.F) {
	for _, s := range []string{
		`{"a":"x","c":1}`,
		`{"a":"skip"}`,
		`{"a":{"q":1,"r":[1,2,{"s":null}]},"n":{"x":1}}`,
		`{"n":5}`,
		`{"z":"not an object","a":1}`,
		`{"a":123456789012345678901234567890,"kafka":{"x":1}}`,
		`{"a":-0.0,"b":1e400,"c":"<&>"}`,
		`[1,2,3]`,
		`"just a string"`,
		`null`,
		`{"a":"\u00e9\ud83d\ude00","n":null}`,
	} {
		f.Add([]byte(s))
	}
	chain := buildChain(f, fuzzSteps)
	f.Fuzz(func(t *testing.T, data []byte) {
		v, err := codec.Decode(data)
		if err != nil {
			return
		}
		// The first round may normalise (-0.0 is written -0, which then reads
		// as the integer 0); from the second round on nothing changes.
		once := roundTrip(t, data)
		twice := roundTrip(t, once)
		if thrice := roundTrip(t, twice); !bytes.Equal(twice, thrice) {
			t.Fatalf("not stable: %s then %s", twice, thrice)
		}

		r := &transforms.Record{Value: v, Headers: transforms.HeadersOf("h", "v"), Key: data}
		outs, err := chain.Run(t.Context(), r)
		if err != nil {
			var se *transforms.StepError
			if !errors.As(err, &se) || outs != nil {
				t.Fatalf("got %v (%T) with %d outputs", err, err, len(outs))
			}
			return
		}
		if len(outs) > 1 {
			t.Fatalf("%d outputs from a chain without fan-out", len(outs))
		}
		for _, o := range outs {
			m, ok := o.Value.(map[string]any)
			if !ok {
				t.Fatalf("output is %T", o.Value)
			}
			if _, ok := m["c"]; ok {
				t.Fatalf("dropped field c is still there: %v", m)
			}
			if _, ok := m[expression.MetaVar]; ok != bytes.Contains(data, []byte(`"kafka"`)) {
				t.Fatalf("kafka field present=%v after the chain", ok)
			}
			if _, err := codec.Encode(o.Value); err != nil {
				t.Fatalf("Encode of an output: %v", err)
			}
		}
	})
}
