package builtin_test

import "testing"

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
