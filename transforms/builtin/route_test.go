package builtin_test

import (
	"strings"
	"testing"
	"time"
)

func TestRoute(t *testing.T) {
	for _, tc := range []struct {
		name, steps, in string
		topic           string // the record's Topic before the step
		want            string // the record's Topic after it
		err             string
	}{
		{name: "expression", steps: `- route: '"orders-" + lower(country)'`, in: `{"country":"FR"}`, want: "orders-fr"},
		{name: "expression in an object", steps: `- route: {topic: 'kind'}`, in: `{"kind":"a.b_c-1"}`, want: "a.b_c-1"},
		{name: "expression over metadata", steps: `- route: 'kafka.topic + "-" + kafka.timestamp.Format("2006-01")'`, in: `{}`, want: "in-2024-03"},
		{name: "null leaves the topic", steps: `- route: 'dest'`, in: `{}`, topic: "earlier", want: "earlier"},
		{name: "empty leaves the topic", steps: `- route: 'dest'`, in: `{"dest":""}`, want: ""},
		{name: "null takes the default", steps: `- route: {topic: 'dest', default: fallback}`, in: `{}`, want: "fallback"},
		{name: "first case wins", steps: `- route: [{when: 'a > 1', topic: big}, {when: 'a > 0', topic: small}]`, in: `{"a":5}`, want: "big"},
		{name: "second case", steps: `- route: [{when: 'a > 1', topic: big}, {when: 'a > 0', topic: small}]`, in: `{"a":1}`, want: "small"},
		{name: "no case matches", steps: `- route: [{when: 'a > 1', topic: big}]`, in: `{"a":0}`, topic: "earlier", want: "earlier"},
		{name: "null condition is false", steps: `- route: {cases: [{when: 'flag', topic: t1}], default: t2}`, in: `{}`, want: "t2"},
		{name: "a later route wins", steps: "- route: '\"a\"'\n- route: '\"b\"'", in: `{}`, want: "b"},
		{name: "invalid name", steps: `- route: 'name'`, in: `{"name":"a b"}`,
			err: `step 0 (route): expression "name": the topic it computed (3 characters) is not a valid topic name (1 to 249 letters, digits, '.', '_' and '-', but not '.' or '..')`},
		{name: "too long", steps: `- route: 'name'`, in: `{"name":"` + strings.Repeat("x", 250) + `"}`,
			err: `step 0 (route): expression "name": the topic it computed (250 characters) is not a valid topic name (1 to 249 letters, digits, '.', '_' and '-', but not '.' or '..')`},
		{name: "dot", steps: `- route: 'name'`, in: `{"name":".."}`, err: `step 0 (route): expression "name": the topic it computed (2 characters) is not a valid topic name (1 to 249 letters, digits, '.', '_' and '-', but not '.' or '..')`},
		{name: "not a string", steps: `- route: 'n'`, in: `{"n":1}`, err: `step 0 (route): expression "n": a topic must be a string, got a number`},
		{name: "failing case", steps: `- route: [{when: 'a > 1', topic: big}]`, in: `{"a":"x"}`,
			err: `step 0 (route): expression "a > 1": invalid operation: string > int (column 3)`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			chain := buildChain(t, tc.steps)
			r := record(t, tc.in)
			r.Topic = tc.topic
			r.Source.Topic = "in"
			r.Timestamp = time20240301
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
			if len(outs) != 1 || outs[0].Topic != tc.want {
				t.Fatalf("got %d outputs, topic %q; want %q", len(outs), outs[0].Topic, tc.want)
			}
		})
	}
}

func TestRouteConfigErrors(t *testing.T) {
	configErrors(t, []configCase{
		{`- route: {default: x}`, "steps.yaml:1:10: route needs topic or cases (topic: '<expression>' or cases: [{when: ..., topic: ...}])"},
		{`- route: {topic: 'a', cases: [{when: 'true', topic: b}]}`,
			"steps.yaml:1:10: route takes topic or cases, not both (put the expression's topic in a case, or the cases into the expression)"},
		{`- route: [{when: 'a >', topic: x}]`, `steps.yaml:1:21: invalid expression "a >": unexpected token EOF (see docs/expressions.md for the syntax, fields and functions)`},
		{`- route: [{when: 'a', topic: 'x y'}]`,
			`steps.yaml:1:30: invalid topic name "x y": only letters, digits, '.', '_' and '-' are allowed (a topic here is a literal name; for a computed one use topic: '<expression>')`},
		{`- route: {cases: [{when: 'a', topic: x}], default: '"y"'}`,
			`steps.yaml:1:52: invalid topic name "\"y\"": only letters, digits, '.', '_' and '-' are allowed (a topic here is a literal name; for a computed one use topic: '<expression>')`},
		{`- route: [{topic: x}]`, "steps.yaml:1:11: missing required key \"when\" (add when: 'country == \"DE\"')"},
		{`- route: []`, "steps.yaml:1:10: expected at least 1 item, got 0"},
		{`- route: 'x +'`, `steps.yaml:1:13: invalid expression "x +": unexpected token EOF (see docs/expressions.md for the syntax, fields and functions)`},
	})
}

var time20240301 = mustTime("2024-03-01T10:00:00Z")

func mustTime(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}
