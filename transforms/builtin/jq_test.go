package builtin_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/millrace-dev/millrace/transforms"
	"github.com/millrace-dev/millrace/transforms/codec"
)

func TestJQ(t *testing.T) {
	runCases(t, []runCase{
		{name: "identity", steps: `- jq: '.'`, in: `{"a":1}`, want: []string{`{"a":1}`}},
		{name: "object construction", steps: `- jq: '{id, n: (.items | length)}'`, in: `{"id":"x","items":[1,2,3]}`, want: []string{`{"id":"x","n":3}`}},
		{name: "scalar output", steps: `- jq: '.a'`, in: `{"a":"s"}`, want: []string{`"s"`}},
		{name: "fan out", steps: `- jq: '.l[]'`, in: `{"l":[1,{"b":2},null]}`, want: []string{`1`, `{"b":2}`, `null`}},
		{name: "empty drops", steps: `- jq: 'empty'`, in: `{"a":1}`},
		{name: "select", steps: `- jq: 'select(.a > 1)'`, in: `{"a":1}`},
		{name: "halt keeps the outputs so far", steps: `- jq: '1, 2, halt, 3'`, in: `{}`, want: []string{`1`, `2`}},
		{name: "integer arithmetic stays integer", steps: `- jq: '{a: (.a + 1), b: (.b * 2)}'`, in: `{"a":1,"b":2}`, want: []string{`{"a":2,"b":4}`}},
		{name: "division gives a float", steps: `- jq: '.a / 2'`, in: `{"a":3}`, want: []string{`1.5`}},
		{name: "big integers keep their digits", steps: `- jq: '{n: .n, s: (.n | tostring)}'`, in: `{"n":123456789012345678901234567890}`,
			want: []string{`{"n":123456789012345678901234567890,"s":"123456789012345678901234567890"}`}},
		{name: "big integer arithmetic", steps: `- jq: '.n + 1'`, in: `{"n":123456789012345678901234567890}`, want: []string{`123456789012345678901234567891`}},
		{name: "nan and infinities", steps: `- jq: '[nan, infinite, -infinite]'`, in: `{}`, want: []string{`[null,1.7976931348623157e+308,-1.7976931348623157e+308]`}},
		{name: "non-object input", steps: "- extract: l\n- jq: 'map(. * 10)'", in: `{"l":[1,2]}`, want: []string{`[10,20]`}},
		{name: "env is empty", steps: `- jq: '{e: $ENV, f: env}'`, in: `{}`, want: []string{`{"e":{},"f":{}}`}},
		{name: "error", steps: `- jq: 'error("bad")'`, in: `{}`, err: `step 0 (jq): jq: error: bad`},
		{name: "error with an object", steps: `- jq: 'error({code: 1})'`, in: `{}`, err: `step 0 (jq): jq: error(...) raised with an object, not shown`},
		{name: "halt_error", steps: `- jq: '"stop" | halt_error'`, in: `{}`, err: `step 0 (jq): jq: halt error: stop`},
		{name: "type error", steps: `- jq: '.a.b'`, in: `{"a":5}`, err: `step 0 (jq): jq: expected an object but got: number`},
		// Values never reach an error text (logs, dead-letter headers, the
		// status page): gojq's previews of them are cut to their types.
		{name: "type error hides the value", steps: `- jq: '.email | keys'`, in: `{"email":"ada.secret@example.org"}`,
			err: `step 0 (jq): jq: keys cannot be applied to: string`},
		{name: "two values hidden", steps: `- jq: '.a + .b'`, in: `{"a":"x)\"y","b":{"k":[1,"(s)"]}}`,
			err: `step 0 (jq): jq: cannot add: string and object`},
		{name: "bare previews hidden", steps: `- jq: '.s as $s | .n | split($s)'`, in: `{"n":5,"s":"ada.secret"}`,
			err: `step 0 (jq): jq: split("...") cannot be applied to: number`},
		{name: "error after outputs drops them all", steps: `- jq: '1, error("x")'`, in: `{}`, err: `step 0 (jq): jq: error: x`},
		{name: "too many outputs", steps: `- jq: {program: 'range(5)', max_outputs: 4}`, in: `{}`, err: `step 0 (jq): jq: more than 4 outputs`},
		{name: "as many outputs as allowed", steps: `- jq: {program: 'range(4)', max_outputs: 4}`, in: `{}`, want: []string{`0`, `1`, `2`, `3`}},
		{name: "endless output is bounded", steps: `- jq: 'repeat(1)'`, in: `{}`, err: `step 0 (jq): jq: more than 1000 outputs`},
	})
}

func TestJQMeta(t *testing.T) {
	r := record(t, `{"a":1}`)
	r.Key = []byte("k")
	r.Headers.Set("h", "v")
	r.Source = transforms.Source{Topic: "in", Partition: 2, Offset: 40}
	r.Timestamp = time.UnixMilli(1709283600123)
	outs := runOne(t, `- jq: '$kafka'`, r)
	got, _ := codec.Encode(outs[0].Value)
	want := `{"headers":{"h":"v"},"key":"k","offset":40,"partition":2,"timestamp":1709283600123,"topic":"in"}`
	if string(got) != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	r = record(t, `{}`)
	outs = runOne(t, `- jq: '[$kafka.key, $kafka.timestamp]'`, r)
	if got, _ := codec.Encode(outs[0].Value); string(got) != `[null,null]` {
		t.Errorf("no key and no timestamp: %s", got)
	}
}

// Values that expressions put into a record (a time, []string) reach jq as
// their JSON.
func TestJQAfterSet(t *testing.T) {
	chain := buildChain(t, `
- set: {t: 'date("2024-03-01T10:00:00Z")', l: 'split("a,b", ",")'}
- jq: '{t, l}'
`)
	got, err := runJSON(t, chain, `{}`)
	if err != nil || len(got) != 1 || got[0] != `{"l":["a","b"],"t":"2024-03-01T10:00:00Z"}` {
		t.Errorf("got %v, %v", got, err)
	}
}

// Outputs do not share parts: a later step that changes one changes only it.
func TestJQOutputsAreIndependent(t *testing.T) {
	chain := buildChain(t, `
- jq: '{a: .x, b: .x}, .'
- set: {a.changed: 'true'}
`)
	got, err := runJSON(t, chain, `{"x":{"v":1},"a":{}}`)
	want := []string{`{"a":{"changed":true,"v":1},"b":{"v":1}}`, `{"a":{"changed":true},"x":{"v":1}}`}
	if err != nil || strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("got  %v, %v\nwant %v", got, err, want)
	}
}

func TestJQFanOutCopiesRecords(t *testing.T) {
	r := record(t, `{"l":[1,2]}`)
	r.Key = []byte("k")
	r.Headers.Set("h", "v")
	outs := runOne(t, `- jq: '.l[]'`, r)
	if len(outs) != 2 {
		t.Fatalf("got %d outputs", len(outs))
	}
	outs[0].Headers.Set("h", "changed")
	outs[0].Key[0] = 'x'
	if string(outs[1].Key) != "k" || outs[1].Headers.Map()["h"] != "v" {
		t.Errorf("outputs share key or headers: %q %v", outs[1].Key, outs[1].Headers)
	}
}

func TestJQTimeout(t *testing.T) {
	// max_steps far above what 20 ms can run: the deadline must be what stops it.
	chain := buildChain(t, `- jq: {program: 'last(range(1e12))', timeout: 20ms, max_steps: 2000000000}`)
	start := time.Now()
	_, err := chain.Run(t.Context(), record(t, `{}`))
	if err == nil || err.Error() != "step 0 (jq): jq: context deadline exceeded" {
		t.Errorf("got %v", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("the timeout took %v", d)
	}
	// Without a timeout of its own, the context's deadline applies.
	chain = buildChain(t, `- jq: {program: 'last(range(1e12))', max_steps: 2000000000}`)
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Millisecond)
	defer cancel()
	if _, err := chain.Run(ctx, record(t, `{}`)); err == nil || !strings.Contains(err.Error(), "context deadline exceeded") {
		t.Errorf("got %v", err)
	}
}

func TestJQConfigErrors(t *testing.T) {
	t.Setenv("MILLRACE_TEST_JQ", ".a | {")
	const hint = " (the jq manual describes the language)"
	configErrors(t, []configCase{
		{`- jq: '.a | {'`, `steps.yaml:1:14: invalid jq program: unexpected EOF` + hint},
		{`- jq: 'input'`, `steps.yaml:1:7: invalid jq program: input(s)/0 is not allowed` + hint},
		{`- jq: '.a | }'`, `steps.yaml:1:13: invalid jq program: unexpected token "}"` + hint},
		{`- jq: ".a | }"`, `steps.yaml:1:13: invalid jq program: unexpected token "}"` + hint},
		{`- jq: .a | }`, `steps.yaml:1:12: invalid jq program: unexpected token "}"` + hint},
		{`- jq: '.a | foo'`, `steps.yaml:1:7: invalid jq program: function not defined: foo/0` + hint},
		{`- jq: '$nope'`, `steps.yaml:1:7: invalid jq program: variable not defined: $nope` + hint},
		{"- jq: |\n    .a\n    | }\n", `steps.yaml:1:7: invalid jq program: unexpected token "}" (line 2, column 3 of the program)` + hint},
		{`- jq: {program: '.a | }', timeout: 1s}`, `steps.yaml:1:23: invalid jq program: unexpected token "}"` + hint},
		{`- jq: {program: '.', timeout: 0s}`, "steps.yaml:1:31: timeout must be positive"},
		{`- jq: {program: '.', max_outputs: 0}`, "steps.yaml:1:35: max_outputs must be at least 1"},
		{`- jq: {program: '.', max_steps: 0}`, "steps.yaml:1:33: max_steps must be at least 1"},
		{`- jq: {timeout: 1s}`, "steps.yaml:1:7: missing required key \"program\" (add program: '.payload')"},
	})
	_, err := tryBuildWithEnv(`- jq: '${MILLRACE_TEST_JQ}'`)
	if err == nil || err.Error() != "steps.yaml:1:7: invalid jq program from the environment; its text is not shown" {
		t.Errorf("program from the environment: %v", err)
	}
}

// A whole number computed as a float is an int afterwards, as if the record
// had been written and read again.
func TestJQWholeFloatsAreInts(t *testing.T) {
	outs := runOne(t, `- jq: '{a: (.x * 2), b: (.x / 3), c: (1e300 * 10)}'`, record(t, `{"x":1.5}`))
	m := outs[0].Value.(map[string]any)
	if _, ok := m["a"].(int); !ok {
		t.Errorf("3.0 is %T", m["a"])
	}
	if _, ok := m["b"].(float64); !ok {
		t.Errorf("0.5 is %T", m["b"])
	}
	if _, ok := m["c"].(float64); !ok {
		t.Errorf("1e301 is %T", m["c"])
	}
}
