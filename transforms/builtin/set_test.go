package builtin_test

import "testing"

func TestSet(t *testing.T) {
	runCases(t, []runCase{
		{name: "literals", steps: `- set: {s: '"x"', i: '42', f: '1.5', b: 'true', n: 'nil', l: '[1, "a"]', m: '{"k": 1}'}`, in: `{}`,
			want: []string{`{"b":true,"f":1.5,"i":42,"l":[1,"a"],"m":{"k":1},"n":null,"s":"x"}`}},
		{name: "overwrite", steps: `- set: {a: 'a + 1'}`, in: `{"a":1}`, want: []string{`{"a":2}`}},
		{name: "create nested path", steps: `- set: {a.b.c: '1'}`, in: `{}`, want: []string{`{"a":{"b":{"c":1}}}`}},
		{name: "into existing object", steps: `- set: {a.c: '2'}`, in: `{"a":{"b":1}}`, want: []string{`{"a":{"b":1,"c":2}}`}},
		{name: "through null", steps: `- set: {a.b: '1'}`, in: `{"a":null}`, want: []string{`{"a":{"b":1}}`}},
		{name: "read nested", steps: `- set: {city: 'address.city + "!"'}`, in: `{"address":{"city":"Oslo"}}`,
			want: []string{`{"address":{"city":"Oslo"},"city":"Oslo!"}`}},
		{name: "in order", steps: `- set: {a: '2', b: 'a * 10', a2: 'b + a'}`, in: `{}`, want: []string{`{"a":2,"a2":22,"b":20}`}},
		{name: "into a number", steps: `- set: {a.b: '1'}`, in: `{"a":5}`,
			err: `step 0 (set): field a is not an object`},
		{name: "into a nested string", steps: `- set: {a.b.c: '1'}`, in: `{"a":{"b":"x"}}`,
			err: `step 0 (set): field a.b is not an object`},
		{name: "into a list", steps: `- set: {a.b: '1'}`, in: `{"a":[]}`,
			err: `step 0 (set): field a is not an object`},
		{name: "expression fails", steps: `- set: {ok: '1', bad: 'x.y.z'}`, in: `{"x":5}`,
			err: `step 0 (set): bad: expression "x.y.z": cannot fetch y from a number (column 3)`},
		{name: "not an object", steps: `- set: {a: '1'}`, in: `"text"`,
			err: `step 0 (set): record value is not a JSON object`},
	})
}
