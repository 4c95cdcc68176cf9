package builtin_test

import "testing"

func TestKey(t *testing.T) {
	for _, tc := range []struct {
		name, steps, in string
		want            *string // nil: no key
		err             string
	}{
		{name: "string field", steps: `- key: id`, in: `{"id":"a"}`, want: ptr("a")},
		{name: "field in an object", steps: `- key: {field: a.b}`, in: `{"a":{"b":"x"}}`, want: ptr("x")},
		{name: "number", steps: `- key: id`, in: `{"id":42}`, want: ptr("42")},
		{name: "float", steps: `- key: id`, in: `{"id":1.5}`, want: ptr("1.5")},
		{name: "big integer", steps: `- key: id`, in: `{"id":123456789012345678901234567890}`, want: ptr("123456789012345678901234567890")},
		{name: "boolean", steps: `- key: id`, in: `{"id":true}`, want: ptr("true")},
		{name: "object as JSON", steps: `- key: id`, in: `{"id":{"b":1,"a":"<"}}`, want: ptr(`{"a":"<","b":1}`)},
		{name: "empty string is a key", steps: `- key: id`, in: `{"id":""}`, want: ptr("")},
		{name: "null removes the key", steps: `- key: id`, in: `{"id":null}`},
		{name: "missing removes the key", steps: `- key: id`, in: `{}`},
		{name: "expression", steps: `- key: {expr: 'a + "-" + string(b)'}`, in: `{"a":"x","b":2}`, want: ptr("x-2")},
		{name: "expression over the old key", steps: `- key: {expr: 'kafka.key + "!"'}`, in: `{}`, want: ptr("old!")},
		{name: "expression yields a list", steps: `- key: {expr: '[a, 1]'}`, in: `{"a":"x"}`, want: ptr(`["x",1]`)},
		{name: "expression yields a time", steps: `- key: {expr: 'date("2024-03-01T10:00:00Z")'}`, in: `{}`, want: ptr("2024-03-01T10:00:00Z")},
		{name: "expression yields nil", steps: `- key: {expr: 'nope'}`, in: `{}`},
		{name: "expression fails", steps: `- key: {expr: 'a.b.c'}`, in: `{"a":1}`, err: `step 0 (key): expression "a.b.c": cannot fetch b from a number (column 3)`},
		{name: "not an object", steps: `- key: id`, in: `[1]`, err: `step 0 (key): record value is not a JSON object`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			chain := buildChain(t, tc.steps)
			r := record(t, tc.in)
			r.Key = []byte("old")
			outs, err := chain.Run(t.Context(), r)
			if tc.err != "" {
				if err == nil || err.Error() != tc.err {
					t.Fatalf("got %v, want %s", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got := outs[0].Key
			switch {
			case tc.want == nil && got != nil:
				t.Errorf("got key %q, want none", got)
			case tc.want != nil && (got == nil || string(got) != *tc.want):
				t.Errorf("got key %q (nil: %v), want %q", got, got == nil, *tc.want)
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }

func TestKeyConfigErrors(t *testing.T) {
	configErrors(t, []configCase{
		{`- key: {}`, "steps.yaml:1:8: key needs field or expr (field: <path> or expr: '<expression>')"},
		{`- key: {field: a, expr: b}`, "steps.yaml:1:8: key takes field or expr, not both"},
		{`- key: {expr: 'a +'}`, `steps.yaml:1:18: invalid expression "a +": unexpected token EOF (see docs/expressions.md for the syntax, fields and functions)`},
		{`- key: [a]`, "steps.yaml:1:8: expected a string or a mapping, got a list"},
	})
}
