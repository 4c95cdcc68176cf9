package builtin_test

import "testing"

func TestMask(t *testing.T) {
	runCases(t, []runCase{
		{name: "list form", steps: `- mask: [a, b.c]`, in: `{"a":"x","b":{"c":{"d":1}},"e":"y"}`, want: []string{`{"a":"****","b":{"c":"****"},"e":"y"}`}},
		{name: "fixed text on any type", steps: `- mask: {a: "[x]", b: "[x]", c: "[x]"}`, in: `{"a":1,"b":[1],"c":true}`,
			want: []string{`{"a":"[x]","b":"[x]","c":"[x]"}`}},
		{name: "empty options are the default", steps: `- mask: {a: {}}`, in: `{"a":"secret"}`, want: []string{`{"a":"****"}`}},
		{name: "with option", steps: `- mask: {a: {with: ""}}`, in: `{"a":"secret"}`, want: []string{`{"a":""}`}},
		{name: "missing and null", steps: `- mask: {a: {keep_last: 2}, b: x}`, in: `{"a":null}`, want: []string{`{"a":null}`}},
		{name: "keep last", steps: `- mask: {a: {keep_last: 4}}`, in: `{"a":"4111111111111111"}`, want: []string{`{"a":"************1111"}`}},
		{name: "keep first", steps: `- mask: {a: {keep_first: 2}}`, in: `{"a":"DE89370400440532013000"}`, want: []string{`{"a":"DE********************"}`}},
		{name: "keep both", steps: `- mask: {a: {keep_first: 1, keep_last: 4, char: "x"}}`, in: `{"a":"ada@example.com"}`,
			want: []string{`{"a":"axxxxxxxxxx.com"}`}},
		{name: "keep zero", steps: `- mask: {a: {keep_last: 0}}`, in: `{"a":"abc"}`, want: []string{`{"a":"***"}`}},
		{name: "short value masked whole", steps: `- mask: {a: {keep_last: 4}}`, in: `{"a":"1234"}`, want: []string{`{"a":"****"}`}},
		{name: "short value with both", steps: `- mask: {a: {keep_first: 2, keep_last: 2}}`, in: `{"a":"abcd"}`, want: []string{`{"a":"****"}`}},
		{name: "empty string", steps: `- mask: {a: {keep_last: 2}}`, in: `{"a":""}`, want: []string{`{"a":""}`}},
		{name: "characters not bytes", steps: `- mask: {a: {keep_last: 2, char: "•"}}`, in: `{"a":"żółw!"}`, want: []string{`{"a":"•••w!"}`}},
		{name: "number becomes text", steps: `- mask: {a: {keep_last: 4}}`, in: `{"a":4111111111111111}`, want: []string{`{"a":"************1111"}`}},
		{name: "big number", steps: `- mask: {a: {keep_last: 2}}`, in: `{"a":123456789012345678901234567890}`,
			want: []string{`{"a":"****************************90"}`}},
		{name: "regex", steps: `- mask: {e: {pattern: '[0-9]', replacement: '#'}}`, in: `{"e":"call 555-0100"}`, want: []string{`{"e":"call ###-####"}`}},
		{name: "regex group", steps: `- mask: {e: {pattern: '^(.)[^@]*@', replacement: '$1***@'}}`, in: `{"e":"ada@example.com"}`,
			want: []string{`{"e":"a***@example.com"}`}},
		{name: "regex default replacement", steps: `- mask: {e: {pattern: 'secret'}}`, in: `{"e":"my secret"}`, want: []string{`{"e":"my ****"}`}},
		{name: "regex no match", steps: `- mask: {e: {pattern: 'x'}}`, in: `{"e":"abc"}`, want: []string{`{"e":"abc"}`}},
		{name: "regex on a number", steps: `- mask: {e: {pattern: '^\d{3}'}}`, in: `{"e":12345}`, want: []string{`{"e":"****45"}`}},
		{name: "partial on a boolean", steps: `- mask: {a: {keep_last: 1}}`, in: `{"a":true}`,
			err: `step 0 (mask): field a is a boolean; keep_first/keep_last masks apply to strings and numbers`},
		{name: "regex on a list", steps: `- mask: {a: {pattern: x}}`, in: `{"a":["x"]}`,
			err: `step 0 (mask): field a is a list; pattern masks apply to strings and numbers`},
		{name: "not an object", steps: `- mask: [a]`, in: `"a"`, err: `step 0 (mask): record value is not a JSON object`},
	})
}

func TestMaskConfigErrors(t *testing.T) {
	configErrors(t, []configCase{
		{`- mask: {a: {with: x, keep_last: 2}}`, "steps.yaml:1:13: mask options mix modes (give one of with, keep_first/keep_last or pattern)"},
		{`- mask: {a: {pattern: x, keep_last: 2}}`, "steps.yaml:1:13: mask options mix modes (give one of with, keep_first/keep_last or pattern)"},
		{`- mask: {a: {keep_last: -1}}`, "steps.yaml:1:25: must not be negative"},
		{`- mask: {a: {keep_last: 2, char: "**"}}`, "steps.yaml:1:34: char must be one character"},
		{`- mask: {a: {char: "#"}}`, "steps.yaml:1:20: char applies to keep_first and keep_last"},
		{`- mask: {a: {replacement: "#"}}`, "steps.yaml:1:27: replacement applies to pattern (add pattern: <regular expression>)"},
		{`- mask: {a: {pattern: "a(b"}}`, "steps.yaml:1:23: invalid pattern \"a(b\": error parsing regexp: missing closing ): `a(b` (patterns use Go's RE2 syntax)"},
		{`- mask: {a: {keep_lats: 2}}`, `steps.yaml:1:14: unknown key "keep_lats" (did you mean "keep_last"?)`},
		{`- mask: {a: [x]}`, "steps.yaml:1:13: expected a string or a mapping, got a list"},
		{`- mask: {}`, "steps.yaml:1:9: expected at least 1 entry, got 0"},
		// Every entry is checked.
		{"- mask:\n    a: {keep_last: -1}\n    b: {pattern: '('}", "steps.yaml:2:20: must not be negative\n" +
			"steps.yaml:3:18: invalid pattern \"(\": error parsing regexp: missing closing ): `(` (patterns use Go's RE2 syntax)"},
	})
}

// In a config file ${...} is an environment variable, so a braced group is
// written $${1}.
func TestMaskBracedGroupInConfig(t *testing.T) {
	chain, err := tryBuildWithEnv(`- mask: {e: {pattern: '(\w)\w*', replacement: '$${1}_'}}`)
	if err != nil {
		t.Fatal(err)
	}
	got, err := runJSON(t, chain, `{"e":"ada lovelace"}`)
	if err != nil || got[0] != `{"e":"a_ l_"}` {
		t.Errorf("got %v, %v", got, err)
	}
}
