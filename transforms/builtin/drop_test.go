package builtin_test

import (
	"errors"
	"testing"

	"github.com/millrace-dev/millrace/transforms"
)

func TestDrop(t *testing.T) {
	runCases(t, []runCase{
		{name: "flat", steps: `- drop: [a]`, in: `{"a":1,"b":2}`, want: []string{`{"b":2}`}},
		{name: "nested", steps: `- drop: [a.b.c]`, in: `{"a":{"b":{"c":1,"d":2}}}`, want: []string{`{"a":{"b":{"d":2}}}`}},
		{name: "whole object", steps: `- drop: [a]`, in: `{"a":{"b":1}}`, want: []string{`{}`}},
		{name: "missing", steps: `- drop: [nope, a.nope, x.y.z]`, in: `{"a":{}}`, want: []string{`{"a":{}}`}},
		{name: "parent not an object", steps: `- drop: [a.b]`, in: `{"a":5}`, want: []string{`{"a":5}`}},
		{name: "parent is a list", steps: `- drop: [a.0]`, in: `{"a":[1]}`, want: []string{`{"a":[1]}`}},
		{name: "several", steps: `- drop: [a, b, c.d]`, in: `{"a":1,"b":2,"c":{"d":3},"e":4}`, want: []string{`{"c":{},"e":4}`}},
		{name: "not an object", steps: `- drop: [a]`, in: `1`,
			err: `step 0 (drop): record value is not a JSON object`},
	})
}

func TestNotObjectUnwraps(t *testing.T) {
	chain := buildChain(t, `- drop: [a]`)
	_, err := chain.Run(t.Context(), record(t, `[]`))
	if !errors.Is(err, transforms.ErrNotObject) {
		t.Fatalf("got %v, want ErrNotObject", err)
	}
}
