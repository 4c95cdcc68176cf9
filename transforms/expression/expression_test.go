package expression_test

import (
	"errors"
	"regexp"
	"testing"
	"time"

	"github.com/millrace-dev/millrace/transforms"
	_ "github.com/millrace-dev/millrace/transforms/builtin"
	"github.com/millrace-dev/millrace/transforms/codec"
	"github.com/millrace-dev/millrace/transforms/expression"
	"github.com/millrace-dev/millrace/transforms/transformstest"
)

// env builds steps with the built-ins and this package's compiler: the
// tests show expressions where configs use them.
var env = transformstest.Env{Exprs: expression.Compiler{}}

func buildChain(t *testing.T, steps string) *transforms.Chain {
	t.Helper()
	return env.MustChain(t, steps)
}

var record = transformstest.Record

func kafkaRecord(t *testing.T, js string) *transforms.Record {
	r := record(t, js)
	r.Key = []byte("order-7")
	r.Headers = transforms.HeadersOf("trace-id", "t-1", "tenant", "acme")
	r.Timestamp = time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	r.Source = transforms.Source{Topic: "orders", Partition: 3, Offset: 1234, Timestamp: r.Timestamp}
	return r
}

func TestKafkaMetadata(t *testing.T) {
	chain := buildChain(t, `
- set:
    key: kafka.key
    trace: 'kafka.headers["trace-id"]'
    tenant: kafka.headers.tenant
    missing_header: 'kafka.headers["nope"]'
    topic: kafka.topic
    partition: kafka.partition
    offset: kafka.offset + 1
    year: kafka.timestamp.Year()
    ts: kafka.timestamp
- filter: 'kafka.partition == 3 && kafka.topic == "orders"'
`)
	r := kafkaRecord(t, `{"id":1}`)
	outs, err := chain.Run(t.Context(), r)
	if err != nil || len(outs) != 1 {
		t.Fatalf("Run = %v, %v", outs, err)
	}
	got, _ := codec.Encode(outs[0].Value)
	want := `{"id":1,"key":"order-7","missing_header":"","offset":1235,"partition":3,"tenant":"acme","topic":"orders","trace":"t-1","ts":"2024-01-02T03:04:05Z","year":2024}`
	if string(got) != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

// The metadata variable hides a JSON field of the same name only while an
// expression runs; the field is back afterwards, and no field appears when
// there was none.
func TestKafkaFieldRestored(t *testing.T) {
	chain := buildChain(t, `
- set: {seen: kafka.topic}
- filter: 'kafka.topic == "orders"'
`)
	outs, err := chain.Run(t.Context(), kafkaRecord(t, `{"kafka":{"mine":true}}`))
	if err != nil || len(outs) != 1 {
		t.Fatalf("Run = %v, %v", outs, err)
	}
	got, _ := codec.Encode(outs[0].Value)
	if want := `{"kafka":{"mine":true},"seen":"orders"}`; string(got) != want {
		t.Errorf("got %s, want %s", got, want)
	}

	outs, err = chain.Run(t.Context(), kafkaRecord(t, `{}`))
	if err != nil || len(outs) != 1 {
		t.Fatalf("Run = %v, %v", outs, err)
	}
	if _, ok := outs[0].Value.(map[string]any)[expression.MetaVar]; ok {
		t.Errorf("metadata left in the record: %v", outs[0].Value)
	}

	// Also after a failing expression.
	bad := buildChain(t, `- filter: 'x.y > 1'`)
	r := kafkaRecord(t, `{"kafka":"mine","x":1}`)
	if _, err := bad.Run(t.Context(), r); err == nil {
		t.Fatal("want an error")
	}
	if got := r.Value.(map[string]any)["kafka"]; got != "mine" {
		t.Errorf("kafka field after a failure = %#v", got)
	}
}

func TestExprFunctions(t *testing.T) {
	chain := buildChain(t, `
- set:
    sha256: sha256(s)
    sha1: sha1(s)
    md5: md5(s)
    empty: sha256("")
    id1: uuid()
    id2: uuid()
    at: now()
    upper: upper(s)
`)
	before := time.Now()
	outs, err := chain.Run(t.Context(), record(t, `{"s":"abc"}`))
	after := time.Now()
	if err != nil {
		t.Fatal(err)
	}
	m := outs[0].Value.(map[string]any)
	for k, want := range map[string]string{
		"sha256": "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
		"sha1":   "a9993e364706816aba3e25717850c26c9cd0d89d",
		"md5":    "900150983cd24fb0d6963f7d28e17f72",
		"empty":  "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
		"upper":  "ABC",
	} {
		if m[k] != want {
			t.Errorf("%s = %v, want %s", k, m[k], want)
		}
	}
	uuidRE := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	id1, _ := m["id1"].(string)
	id2, _ := m["id2"].(string)
	if !uuidRE.MatchString(id1) || !uuidRE.MatchString(id2) || id1 == id2 {
		t.Errorf("uuid() gave %q and %q", id1, id2)
	}
	at, ok := m["at"].(time.Time)
	if !ok || at.Before(before) || at.After(after) {
		t.Errorf("now() = %v, want a time between %v and %v", m["at"], before, after)
	}
}

func TestExprCompileErrors(t *testing.T) {
	for _, tc := range []struct{ steps, want string }{
		{`- set: {h: 'sha256(5)'}`, `steps.yaml:1:20: invalid expression "sha256(5)": cannot use int as argument (type string) to call sha256 ` + hint},
		{`- set: {h: 'md5("a", "b")'}`, `steps.yaml:1:13: invalid expression "md5(\"a\", \"b\")": too many arguments to call md5 ` + hint},
		{`- set: {x: 'upper(5)'}`, `steps.yaml:1:19: invalid expression "upper(5)": cannot use int as argument (type string) to call upper ` + hint},
		{`- set: {x: 'nosuchfn(1)'}`, `steps.yaml:1:13: invalid expression "nosuchfn(1)": unknown function nosuchfn ` + hint},
		{`- set: {h: 'sha265(s)'}`, `steps.yaml:1:13: invalid expression "sha265(s)": unknown function sha265, did you mean sha256? ` + hint},
		{`- filter: 's != "" && lenn(s) > 1'`, `steps.yaml:1:23: invalid expression "s != \"\" && lenn(s) > 1": unknown function lenn, did you mean len? ` + hint},
		{"- filter: |\n    a > 1 &&\n      uper(s) == \"X\"\n", `steps.yaml:1:11: invalid expression "a > 1 &&\n  uper(s) == \"X\"\n": unknown function uper, did you mean upper? ` + hint},
		{`- filter: '1 + 1'`, `steps.yaml:1:11: invalid expression "1 + 1": expected bool, but got int ` + hint},
		{`- filter: kafka.partition`, `steps.yaml:1:11: invalid expression "kafka.partition": expected bool, but got int ` + hint},
		{`- set: {x: kafka.nope}`, `steps.yaml:1:18: invalid expression "kafka.nope": type expression.Meta has no field nope ` + hint},
	} {
		_, err := env.Chain(tc.steps)
		if err == nil || err.Error() != tc.want {
			t.Errorf("%s:\ngot  %v\nwant %s", tc.steps, err, tc.want)
		}
	}
}

const hint = "(see docs/expressions.md for the syntax, fields and functions)"

func TestExprRuntimeErrors(t *testing.T) {
	for _, tc := range []struct{ expr, in, want string }{
		{`sha256(n)`, `{"n":5}`, `expression "sha256(n)": expected string, got number (column 1)`},
		// Integers beyond 64 bits are json.Number.
		{`n > 5`, `{"n":123456789012345678901234567890}`, `expression "n > 5": invalid operation: json.Number > int (column 3)`},
	} {
		p, err := expression.Compile(tc.expr)
		if err != nil {
			t.Fatal(err)
		}
		_, err = p.Eval(record(t, tc.in))
		var ee *expression.Error
		if !errors.As(err, &ee) || err.Error() != tc.want {
			t.Errorf("%s on %s: got %v, want %s", tc.expr, tc.in, err, tc.want)
		}
	}
}

func TestProgram(t *testing.T) {
	p, err := expression.Compile(`a * 2`)
	if err != nil {
		t.Fatal(err)
	}
	if p.Source() != "a * 2" {
		t.Errorf("Source = %q", p.Source())
	}
	got, err := p.Eval(record(t, `{"a":21}`))
	if err != nil || got != 42 {
		t.Errorf("Eval = %v, %v", got, err)
	}
	_, err = p.EvalBool(record(t, `{"a":21}`))
	var ee *expression.Error
	if !errors.As(err, &ee) || err.Error() != `expression "a * 2": expected a boolean, got a number` {
		t.Errorf("EvalBool of a number: %v", err)
	}
	if _, err := p.Eval(record(t, `[1]`)); !errors.Is(err, transforms.ErrNotObject) {
		t.Errorf("Eval of a list: %v", err)
	}
	b, err := expression.CompileBool(`a > 1`)
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := b.EvalBool(record(t, `{"a":2}`)); !ok || err != nil {
		t.Errorf("EvalBool = %v, %v", ok, err)
	}
	if _, err := expression.CompileBool(`a +`); err == nil {
		t.Error("CompileBool accepted a broken expression")
	}
	n, _ := expression.Compile(`missing`)
	if ok, err := n.EvalBool(record(t, `{}`)); ok || err != nil {
		t.Errorf("nil counts as false, got %v, %v", ok, err)
	}
}

// A program too big to be a reasonable config is refused at load.
func TestExprMaxNodes(t *testing.T) {
	src := "1"
	for range 6000 {
		src += " + 1"
	}
	if _, err := expression.Compile(src); err == nil {
		t.Error("a 6000-node expression compiled")
	}
}

// A program that fails on a field the record lacks says which field, at
// its column, instead of Go's words for a nil.
func TestMissingFieldError(t *testing.T) {
	for _, c := range []struct{ src, in, want string }{
		{`not (lower(user_agent) contains "bot")`, `{"ip":"10.0.0.1"}`, `expression "not (lower(user_agent) contains \"bot\")": field user_agent is missing or null (column 12)`},
		{`amount > 0`, `{}`, `expression "amount > 0": field amount is missing or null (column 1)`},
		{`amount > 0`, `{"amount":null}`, `expression "amount > 0": field amount is missing or null (column 1)`},
		{`a.b.c + 1`, `{"a":{"x":1}}`, `expression "a.b.c + 1": field a.b is missing or null (column 3)`},
		{`upper(name) + x`, `{"x":"y"}`, `expression "upper(name) + x": field name is missing or null (column 7)`},
		{`let v = name; upper(v)`, `{}`, `expression "let v = name; upper(v)": field name is missing or null (column 9)`},
		// No field missing: Go's nil is said as null.
		{`upper(kafka.key)`, `{}`, ``},
	} {
		p, err := expression.Compile(c.src)
		if err != nil {
			t.Fatal(err)
		}
		v, err := codec.Decode([]byte(c.in))
		if err != nil {
			t.Fatal(err)
		}
		_, err = p.Eval(&transforms.Record{Value: v})
		got := ""
		if err != nil {
			got = err.Error()
		}
		if got != c.want {
			t.Errorf("%s on %s:\n got %s\nwant %s", c.src, c.in, got, c.want)
		}
	}
}
