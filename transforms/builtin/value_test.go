package builtin_test

import (
	"slices"
	"sync"
	"testing"

	"github.com/millrace-dev/millrace/transforms"
	"github.com/millrace-dev/millrace/transforms/codec"
)

// FuzzTransforms applies every built-in transform, configured as in the
// benchmarks, to arbitrary JSON. Apply is called directly, outside the
// chain's recover, so a panic fails the fuzz run; errors are fine. Outputs
// must encode.
func FuzzTransforms(f *testing.F) {
	for _, s := range []string{
		benchRecord,
		`{"items":[],"customer":null,"amount":"x","ts":"nope"}`,
		`{"a.b":1,"a":{"b":2},"items":{"x":1}}`,
		`{"customer":{"card":12345678901234567890123,"email":7},"id":{"k":[1]},"ts":-1e300}`,
		`{"status":"paid","items":[1,2,3],"user_id":null,"amount":1e400}`,
		`[1,2]`, `"text"`, `null`, `{}`,
	} {
		f.Add([]byte(s))
	}
	var steps []*transforms.Step
	for _, name := range transforms.Default.Names() {
		src := benchSteps[name]
		if name == "validate" {
			src = `- validate: {schema: {required: [id], properties: {ts: {type: integer}, items: {maxItems: 2}}}}`
		}
		steps = append(steps, buildChain(f, src).Steps[0])
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		v, err := codec.Decode(data)
		if err != nil {
			return
		}
		for _, s := range steps {
			r := &transforms.Record{Value: codec.DeepCopy(v), Headers: transforms.HeadersOf("x", "1")}
			outs, err := s.Transform.Apply(t.Context(), r)
			if err != nil {
				continue
			}
			for _, o := range outs {
				if _, err := codec.Encode(o.Value); err != nil {
					t.Errorf("%s: output does not encode: %v", s.Name, err)
				}
			}
		}
	})
}

// One built step serves every partition at once: each built-in runs from
// many goroutines, for the race detector.
func TestTransformsConcurrent(t *testing.T) {
	t.Setenv("MILLRACE_TEST_HASH_KEY", "k")
	steps := map[string]string{}
	for name, s := range benchSteps {
		steps[name] = s
	}
	steps["validate"] = `- validate: {schema: {required: [id], properties: {items: {type: array}}}}`
	steps["hash"] = `- hash: {fields: [customer.email, id], key_env: MILLRACE_TEST_HASH_KEY}`
	steps["unflatten"] = "- flatten: {}\n- unflatten: {}"
	for name, s := range steps {
		chain := buildChain(t, s)
		want, err := runJSON(t, chain, benchRecord)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		var wg sync.WaitGroup
		for range 8 {
			wg.Go(func() {
				for range 20 {
					got, err := runJSON(t, chain, benchRecord)
					if err != nil {
						t.Errorf("%s: %v", name, err)
						return
					}
					if name != "dedupe" && !slices.Equal(got, want) {
						t.Errorf("%s: got %v, want %v", name, got, want)
						return
					}
				}
			})
		}
		wg.Wait()
	}
}
