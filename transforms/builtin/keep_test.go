package builtin_test

import "testing"

func TestKeep(t *testing.T) {
	runCases(t, []runCase{
		{name: "flat", steps: `- keep: [a, c]`, in: `{"a":1,"b":2,"c":3}`, want: []string{`{"a":1,"c":3}`}},
		{name: "nested part", steps: `- keep: [x.y]`, in: `{"x":{"y":1,"z":2},"w":3}`, want: []string{`{"x":{"y":1}}`}},
		{name: "whole object and a part of it", steps: `- keep: [x, x.y]`, in: `{"x":{"y":1,"z":2},"w":3}`, want: []string{`{"x":{"y":1,"z":2}}`}},
		{name: "part then whole", steps: `- keep: [x.y, x]`, in: `{"x":{"y":1,"z":2},"w":3}`, want: []string{`{"x":{"y":1,"z":2}}`}},
		{name: "two parts of one object", steps: `- keep: [x.y, x.z.q]`, in: `{"x":{"y":1,"z":{"q":2,"r":3},"s":4}}`,
			want: []string{`{"x":{"y":1,"z":{"q":2}}}`}},
		{name: "null is kept", steps: `- keep: [a]`, in: `{"a":null,"b":1}`, want: []string{`{"a":null}`}},
		{name: "missing and through a scalar", steps: `- keep: [nope, b.c]`, in: `{"b":5}`, want: []string{`{}`}},
		{name: "lists are values", steps: `- keep: [l]`, in: `{"l":[{"a":1}],"m":1}`, want: []string{`{"l":[{"a":1}]}`}},
		{name: "not an object", steps: `- keep: [a]`, in: `[1]`, err: `step 0 (keep): record value is not a JSON object`},
	})
}

func TestKeepConfigErrors(t *testing.T) {
	configErrors(t, []configCase{
		{`- keep: []`, "steps.yaml:1:9: expected at least 1 item, got 0"},
		{`- keep: a`, "steps.yaml:1:9: expected a list of strings, got a string"},
		{`- keep: [[a]]`, "steps.yaml:1:10: expected a string, got a list"},
	})
}
