package builtin_test

import (
	"maps"
	"slices"
	"testing"

	"github.com/millrace-dev/millrace/transforms/codec"
)

func TestHeaders(t *testing.T) {
	for _, tc := range []struct {
		name, steps, in string
		headers         map[string]string // input headers
		want            map[string]string // output headers
		value           string            // output value
		err             string
	}{
		{name: "set", steps: `- headers: {set: {a: '"x"', n: 'n * 2', b: 'true', o: '{"k": [1]}', t: 'date("2024-03-01T10:00:00Z")'}}`, in: `{"n":21}`,
			want: map[string]string{"a": "x", "n": "42", "b": "true", "o": `{"k":[1]}`, "t": "2024-03-01T10:00:00Z"}},
		{name: "set null removes", steps: `- headers: {set: {h: 'nope'}}`, in: `{}`, headers: map[string]string{"h": "1", "g": "2"},
			want: map[string]string{"g": "2"}},
		{name: "set sees earlier headers", steps: `- headers: {from_fields: {a: x}, set: {b: 'kafka.headers["a"] + "!"'}}`, in: `{"x":"v"}`,
			want: map[string]string{"a": "v", "b": "v!"}},
		{name: "from fields", steps: `- headers: {from_fields: {a: x.y, b: n, c: missing, d: nul}}`, in: `{"x":{"y":"s"},"n":1.5,"nul":null}`,
			headers: map[string]string{"c": "old", "d": "old"}, want: map[string]string{"a": "s", "b": "1.5"}},
		{name: "remove", steps: `- headers: {remove: [a, "p-*", nope]}`, in: `{}`,
			headers: map[string]string{"a": "1", "p-1": "2", "p-": "3", "p": "4", "q-1": "5"}, want: map[string]string{"p": "4", "q-1": "5"}},
		{name: "remove all", steps: `- headers: {remove: ["*"]}`, in: `{}`, headers: map[string]string{"a": "1", "b": "2"}, want: map[string]string{}},
		{name: "to fields", steps: `- headers: {to_fields: {m.a: a, b: b, c: c}}`, in: `{"b":"old"}`, headers: map[string]string{"a": "1", "b": `{"x":1}`},
			want: map[string]string{"a": "1", "b": `{"x":1}`}, value: `{"b":"{\"x\":1}","m":{"a":"1"}}`},
		{name: "order: to_fields, remove, from_fields, set", steps: "- headers:\n    set: {h: '\"set\"'}\n    from_fields: {h: f, g: f}\n    remove: [h, g]\n    to_fields: {old: h}",
			in: `{"f":"field"}`, headers: map[string]string{"h": "orig", "g": "orig"},
			want: map[string]string{"h": "set", "g": "field"}, value: `{"f":"field","old":"orig"}`},
		{name: "to a field through a scalar", steps: `- headers: {to_fields: {a.b: h}}`, in: `{"a":1}`, headers: map[string]string{"h": "x"},
			err: `step 0 (headers): field a is not an object`},
		{name: "expression fails", steps: `- headers: {set: {h: 'a.b.c'}}`, in: `{"a":1}`,
			err: `step 0 (headers): header h: expression "a.b.c": cannot fetch b from a number (column 3)`},
		{name: "not an object", steps: `- headers: {remove: [a]}`, in: `[]`, err: `step 0 (headers): record value is not a JSON object`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			chain := buildChain(t, tc.steps)
			r := record(t, tc.in)
			for _, k := range slices.Sorted(maps.Keys(tc.headers)) {
				r.Headers.Add(k, tc.headers[k])
			}
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
			if got := outs[0].Headers; len(got) != len(tc.want) || !maps.Equal(got.Map(), tc.want) {
				t.Errorf("headers = %v, want %v", outs[0].Headers, tc.want)
			}
			if tc.value != "" {
				if b, _ := codec.Encode(outs[0].Value); string(b) != tc.value {
					t.Errorf("value = %s, want %s", b, tc.value)
				}
			}
		})
	}
}

func TestHeadersNilList(t *testing.T) {
	r := record(t, `{"a":"x"}`)
	r.Headers = nil
	outs := runOne(t, `- headers: {from_fields: {h: a}}`, r)
	if v, _ := outs[0].Headers.Get("h"); v != "x" {
		t.Errorf("headers = %v", outs[0].Headers)
	}
}

func TestHeadersConfigErrors(t *testing.T) {
	configErrors(t, []configCase{
		{`- headers: {}`, "steps.yaml:1:12: headers needs at least one of to_fields, remove, from_fields, set"},
		{`- headers: {set: {a: 'x +', b: '('}}`, `steps.yaml:1:25: invalid expression "x +": unexpected token EOF (see docs/expressions.md for the syntax, fields and functions)` + "\n" +
			`steps.yaml:1:33: invalid expression "(": unexpected token EOF (see docs/expressions.md for the syntax, fields and functions)`},
		{`- headers: {remvoe: [a]}`, `steps.yaml:1:13: unknown key "remvoe" (did you mean "remove"?)`},
		{`- headers: {remove: a}`, "steps.yaml:1:21: expected a list of strings, got a string"},
		{`- headers: {set: {}}`, "steps.yaml:1:18: expected at least 1 entry, got 0"},
	})
}
