package builtin_test

import "testing"

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

func TestUnflattenConfigErrors(t *testing.T) {
	configErrors(t, []configCase{
		{`- unflatten: {sep: _}`, `steps.yaml:1:15: unknown key "sep" (allowed keys: separator)`},
	})
}
