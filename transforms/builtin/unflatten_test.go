package builtin_test

import (
	"strings"
	"testing"
)

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
		// Nesting: the record object, 9,998 levels made from the key and a
		// list is the decoder's limit of 10,000; one more level fails the
		// record instead of writing one that no reader accepts.
		{name: "as deep as a reader takes", steps: `- unflatten: {}`, in: `{"` + strings.Repeat("a.", 9998) + `b":[1]}`,
			want: []string{strings.Repeat(`{"a":`, 9998) + `{"b":[1]}` + strings.Repeat("}", 9998)}},
		{name: "deeper than a reader takes", steps: `- unflatten: {}`, in: `{"` + strings.Repeat("a.", 9999) + `b":[1]}`,
			err: `step 0 (unflatten): unflatten: key "a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a."... (19999 bytes) splits into 10000 levels, and the record would nest deeper than 10000`},
		{name: "200k dots", steps: `- unflatten: {}`, in: `{"` + strings.Repeat(".", 200000) + `":1}`,
			err: `step 0 (unflatten): unflatten: key "` + strings.Repeat(".", 40) + `"... (200000 bytes) splits into 200001 levels, and the record would nest deeper than 10000`},
	})
}

func TestUnflattenConfigErrors(t *testing.T) {
	configErrors(t, []configCase{
		{`- unflatten: {sep: _}`, `steps.yaml:1:15: unknown key "sep" (allowed keys: separator)`},
	})
}
