package transforms_test

import (
	"testing"
)

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

func TestUnflatten(t *testing.T) {
	runCases(t, []runCase{
		{name: "deep", steps: `- unflatten: {}`, in: `{"a.b.c.d":1,"e":2}`, want: []string{`{"a":{"b":{"c":{"d":1}}},"e":2}`}},
		{name: "nothing dotted", steps: `- unflatten: {}`, in: `{"a":{"b.c":1}}`, want: []string{`{"a":{"b.c":1}}`}},
		{name: "merge into an object", steps: `- unflatten: {}`, in: `{"a":{"x":1},"a.b":2,"a.c.d":3}`,
			want: []string{`{"a":{"b":2,"c":{"d":3},"x":1}}`}},
		{name: "merge two objects", steps: `- unflatten: {}`, in: `{"a.b":{"x":1},"a.b.y":2}`, want: []string{`{"a":{"b":{"x":1,"y":2}}}`}},
		{name: "merge deeply", steps: `- unflatten: {}`, in: `{"a":{"b":{"x":1}},"a.b":{"y":2}}`, want: []string{`{"a":{"b":{"x":1,"y":2}}}`}},
		{name: "round trip", steps: "- flatten: {}\n- unflatten: {}", in: `{"a":{"b":1,"c":{"d":[1]},"e":{}},"f":null}`,
			want: []string{`{"a":{"b":1,"c":{"d":[1]},"e":{}},"f":null}`}},
		{name: "separator", steps: `- unflatten: {separator: "__"}`, in: `{"a__b":1,"a.c":2}`, want: []string{`{"a":{"b":1},"a.c":2}`}},
		{name: "empty parts", steps: `- unflatten: {}`, in: `{"a..b":1}`, want: []string{`{"a":{"":{"b":1}}}`}},
		{name: "value in the way", steps: `- unflatten: {}`, in: `{"a":1,"a.b":2}`, err: `step 0 (unflatten): unflatten: key "a.b" conflicts with field a`},
		{name: "deeper value in the way", steps: `- unflatten: {}`, in: `{"a.b":1,"a.b.c":2}`,
			err: `step 0 (unflatten): unflatten: key "a.b.c" conflicts with field a.b`},
		{name: "leaf meets an object", steps: `- unflatten: {}`, in: `{"a":{"b":{"c":1}},"a.b":2}`,
			err: `step 0 (unflatten): unflatten: key "a.b" conflicts with field a.b`},
		{name: "merge conflict", steps: `- unflatten: {}`, in: `{"a":{"b":{"c":1}},"a.b":{"c":2}}`,
			err: `step 0 (unflatten): unflatten: key "a.b" conflicts with field a.b.c`},
		{name: "not an object", steps: `- unflatten: {}`, in: `"x"`, err: `step 0 (unflatten): record value is not a JSON object`},
	})
}

func TestFlattenConfigErrors(t *testing.T) {
	configErrors(t, []configCase{
		{`- flatten: {separator: ""}`, "steps.yaml:1:24: separator must not be empty"},
		{`- unflatten: {sep: _}`, `steps.yaml:1:15: unknown key "sep" (allowed keys: separator)`},
		{`- flatten:`, "steps.yaml:1:12: expected a mapping, got null"},
	})
}
