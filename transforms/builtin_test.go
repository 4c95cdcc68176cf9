package transforms_test

import (
	"errors"
	"testing"

	"github.com/millrace-dev/millrace/transforms"
)

func TestFilter(t *testing.T) {
	runCases(t, []runCase{
		{name: "true keeps", steps: `- filter: 'amount > 0'`, in: `{"amount":1}`, want: []string{`{"amount":1}`}},
		{name: "false drops", steps: `- filter: 'amount > 0'`, in: `{"amount":0}`},
		{name: "null drops", steps: `- filter: 'flag'`, in: `{"flag":null}`},
		{name: "missing field drops", steps: `- filter: 'flag'`, in: `{}`},
		{name: "nested path", steps: `- filter: 'customer.address.country == "DE"'`, in: `{"customer":{"address":{"country":"DE"}}}`,
			want: []string{`{"customer":{"address":{"country":"DE"}}}`}},
		{name: "nested path false", steps: `- filter: 'customer.address.country == "DE"'`, in: `{"customer":{"address":{"country":"FR"}}}`},
		{name: "functions", steps: `- filter: 'len(items) >= 2 && lower(name) startsWith "a"'`, in: `{"items":[1,2],"name":"Ada"}`,
			want: []string{`{"items":[1,2],"name":"Ada"}`}},
		{name: "in operator", steps: `- filter: 'status in ["new", "paid"]'`, in: `{"status":"paid"}`, want: []string{`{"status":"paid"}`}},
		{name: "non-boolean result fails", steps: `- filter: 'flag'`, in: `{"flag":"yes"}`,
			err: `step 0 (filter): expression "flag": invalid operation: bool(string) (column 1)`},
		{name: "missing operand fails", steps: `- filter: 'amount > 0'`, in: `{"total":1}`,
			err: `step 0 (filter): expression "amount > 0": invalid operation: <nil> > int (column 8)`},
		{name: "not an object", steps: `- filter: 'true'`, in: `[1,2]`,
			err: `step 0 (filter): record value is not a JSON object`},
	})
}

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
			err: `step 0 (set): bad: expression "x.y.z": cannot fetch y from int (column 3)`},
		{name: "not an object", steps: `- set: {a: '1'}`, in: `"text"`,
			err: `step 0 (set): record value is not a JSON object`},
	})
}

func TestRename(t *testing.T) {
	runCases(t, []runCase{
		{name: "flat", steps: `- rename: {a: b}`, in: `{"a":1}`, want: []string{`{"b":1}`}},
		{name: "onto nested path", steps: `- rename: {email: contact.email}`, in: `{"email":"e","contact":{"phone":"p"}}`,
			want: []string{`{"contact":{"email":"e","phone":"p"}}`}},
		{name: "creates parents", steps: `- rename: {a: x.y.z}`, in: `{"a":[1]}`, want: []string{`{"x":{"y":{"z":[1]}}}`}},
		{name: "out of nested", steps: `- rename: {user.id: user_id}`, in: `{"user":{"id":7,"n":"a"}}`,
			want: []string{`{"user":{"n":"a"},"user_id":7}`}},
		{name: "moves objects", steps: `- rename: {a: b}`, in: `{"a":{"c":1}}`, want: []string{`{"b":{"c":1}}`}},
		{name: "replaces target", steps: `- rename: {a: b}`, in: `{"a":1,"b":2}`, want: []string{`{"b":1}`}},
		{name: "null is a value", steps: `- rename: {a: b}`, in: `{"a":null}`, want: []string{`{"b":null}`}},
		{name: "missing is skipped", steps: `- rename: {nope: b, x.y: z}`, in: `{"x":1}`, want: []string{`{"x":1}`}},
		{name: "in order", steps: `- rename: {a: b, b: c}`, in: `{"a":1}`, want: []string{`{"c":1}`}},
		{name: "swap needs a temporary", steps: `- rename: {a: t, b: a, t: b}`, in: `{"a":1,"b":2}`, want: []string{`{"a":2,"b":1}`}},
		{name: "onto a scalar parent", steps: `- rename: {a: b.c}`, in: `{"a":1,"b":2}`,
			err: `step 0 (rename): field b is not an object`},
		{name: "not an object", steps: `- rename: {a: b}`, in: `null`,
			err: `step 0 (rename): record value is not a JSON object`},
	})
}

func TestDrop(t *testing.T) {
	runCases(t, []runCase{
		{name: "flat", steps: `- drop: [a]`, in: `{"a":1,"b":2}`, want: []string{`{"b":2}`}},
		{name: "nested", steps: `- drop: [a.b.c]`, in: `{"a":{"b":{"c":1,"d":2}}}`, want: []string{`{"a":{"b":{"d":2}}}`}},
		{name: "whole object", steps: `- drop: [a]`, in: `{"a":{"b":1}}`, want: []string{`{}`}},
		{name: "missing", steps: `- drop: [nope, a.nope, x.y.z]`, in: `{"a":{}}`, want: []string{`{"a":{}}`}},
		{name: "parent not an object", steps: `- drop: [a.b]`, in: `{"a":5}`, want: []string{`{"a":5}`}},
		{name: "parent is a list", steps: `- drop: [a.0]`, in: `{"a":[1]}`, want: []string{`{"a":[1]}`}},
		{name: "several", steps: `- drop: [a, b, c.d]`, in: `{"a":1,"b":2,"c":{"d":3},"e":4}`, want: []string{`{"c":{},"e":4}`}},
		{name: "not an object", steps: `- drop: [a]`, in: `1`,
			err: `step 0 (drop): record value is not a JSON object`},
	})
}

func TestNotObjectUnwraps(t *testing.T) {
	chain := buildChain(t, transforms.Default, `- drop: [a]`)
	_, err := chain.Run(t.Context(), record(t, `[]`))
	if !errors.Is(err, transforms.ErrNotObject) {
		t.Fatalf("got %v, want ErrNotObject", err)
	}
}

func TestPathHelpers(t *testing.T) {
	obj := map[string]any{"a": map[string]any{"b": 1}, "s": "x"}
	if v, ok := transforms.Get(obj, "a.b"); !ok || v != 1 {
		t.Errorf("Get(a.b) = %v, %v", v, ok)
	}
	if v, ok := transforms.Get(obj, "s.x"); ok || v != nil {
		t.Errorf("Get through a string = %v, %v", v, ok)
	}
	if _, ok := transforms.Get(obj, "a.c"); ok {
		t.Error("Get(a.c) found a missing field")
	}
	err := transforms.Set(obj, "s.x", 1)
	var pe *transforms.PathError
	if !errors.As(err, &pe) || pe.Path != "s" || err.Error() != "field s is not an object" {
		t.Errorf("Set through a string: %v", err)
	}
	if v, ok := transforms.Delete(obj, "a.b"); !ok || v != 1 {
		t.Errorf("Delete(a.b) = %v, %v", v, ok)
	}
	if _, ok := transforms.Delete(obj, "a.b"); ok {
		t.Error("second Delete found the field")
	}
	if _, ok := transforms.Delete(obj, "s.x"); ok {
		t.Error("Delete through a string found a field")
	}
}
