package builtin_test

import "testing"

func TestFlatten(t *testing.T) {
	runCases(t, []runCase{
		{name: "deep", steps: `- flatten: {}`, in: `{"a":{"b":{"c":{"d":1}}},"e":2}`, want: []string{`{"a.b.c.d":1,"e":2}`}},
		{name: "nothing nested", steps: `- flatten: {}`, in: `{"a":1,"b":[{"c":1}]}`, want: []string{`{"a":1,"b":[{"c":1}]}`}},
		{name: "lists and nulls are values", steps: `- flatten: {}`, in: `{"a":{"l":[{"x":{"y":1}}],"n":null}}`,
			want: []string{`{"a.l":[{"x":{"y":1}}],"a.n":null}`}},
		{name: "empty objects stay", steps: `- flatten: {}`, in: `{"a":{},"b":{"c":{}}}`, want: []string{`{"a":{},"b.c":{}}`}},
		{name: "separator", steps: `- flatten: {separator: "/"}`, in: `{"a":{"b":1}}`, want: []string{`{"a/b":1}`}},
		{name: "keys with the separator", steps: `- flatten: {}`, in: `{"a":{"b.c":1}}`, want: []string{`{"a.b.c":1}`}},
		{name: "collision", steps: `- flatten: {}`, in: `{"a":{"b":{"c":1}},"a.b":{"c":2}}`,
			err: `step 0 (flatten): flatten: key "a.b.c" would hold two fields`},
		{name: "not an object", steps: `- flatten: {}`, in: `[]`, err: `step 0 (flatten): record value is not a JSON object`},
	})
}

func TestFlattenConfigErrors(t *testing.T) {
	configErrors(t, []configCase{
		{`- flatten: {separator: ""}`, "steps.yaml:1:24: separator must not be empty"},
		{`- flatten:`, "steps.yaml:1:11: expected a mapping, got null"},
	})
}
