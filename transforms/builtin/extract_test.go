package builtin_test

import "testing"

func TestExtract(t *testing.T) {
	runCases(t, []runCase{
		{name: "object", steps: `- extract: p`, in: `{"p":{"a":1},"s":2}`, want: []string{`{"a":1}`}},
		{name: "nested", steps: `- extract: {field: a.b}`, in: `{"a":{"b":[1,2]}}`, want: []string{`[1,2]`}},
		{name: "null", steps: `- extract: p`, in: `{"p":null}`, want: []string{`null`}},
		{name: "then hoist", steps: "- extract: p\n- hoist: q", in: `{"p":{"a":1}}`, want: []string{`{"q":{"a":1}}`}},
		{name: "missing drops", steps: `- extract: {field: p, missing: drop}`, in: `{}`},
		{name: "present with drop", steps: `- extract: {field: p, missing: drop}`, in: `{"p":1}`, want: []string{`1`}},
		{name: "missing fails", steps: `- extract: {field: p.q, missing: error}`, in: `{"p":1}`, err: `step 0 (extract): field p.q is missing`},
		{name: "later steps need an object", steps: "- extract: p\n- drop: [a]", in: `{"p":3}`, err: `step 1 (drop): record value is not a JSON object`},
		{name: "not an object", steps: `- extract: p`, in: `[1]`, err: `step 0 (extract): record value is not a JSON object`},
	})
}

func TestExtractConfigErrors(t *testing.T) {
	configErrors(t, []configCase{
		{`- extract: {missing: drop}`, "steps.yaml:1:12: missing required key \"field\" (add field: payload)"},
		{`- extract: {field: p, missing: null}`, `steps.yaml:1:32: expected one of "error", "drop", got null`},
		{`- extract: [p]`, "steps.yaml:1:12: expected a string or a mapping, got a list"},
	})
}
