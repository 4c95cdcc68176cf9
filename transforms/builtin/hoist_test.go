package builtin_test

import "testing"

func TestHoist(t *testing.T) {
	runCases(t, []runCase{
		{name: "object", steps: `- hoist: p`, in: `{"a":1}`, want: []string{`{"p":{"a":1}}`}},
		{name: "nested", steps: `- hoist: a.b.c`, in: `5`, want: []string{`{"a":{"b":{"c":5}}}`}},
		{name: "list", steps: `- hoist: items`, in: `[1,2]`, want: []string{`{"items":[1,2]}`}},
		{name: "null", steps: `- hoist: v`, in: `null`, want: []string{`{"v":null}`}},
	})
}

func TestHoistConfigErrors(t *testing.T) {
	configErrors(t, []configCase{
		{`- hoist: {field: p}`, "steps.yaml:1:10: expected a string, got a mapping"},
	})
}
