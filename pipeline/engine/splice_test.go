package engine_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"math/big"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/millrace-dev/millrace/pipeline/engine"
	"github.com/millrace-dev/millrace/transforms"
	_ "github.com/millrace-dev/millrace/transforms/builtin"
	"github.com/millrace-dev/millrace/transforms/codec"
)

// pipelineYAML is benchYAML's pipeline with other transforms.
func pipelineYAML(steps string) string {
	return `version: 1
kafka: {brokers: ["127.0.0.1:1"]}
admin: {address: "off"}
pipelines:
  - name: p
    input: {topic: in, group: g}
    transforms: ` + steps + `
    output:
      topic: out
      routes: [{when: 'c == 1 || amount == 129.9', topic: big}]
      allowed_topics: ["*"] # the examples' route computes topics
    errors: {dead_letter_topic: dlq}
`
}

// fullPath makes a chain take the full path: a Go step that declares no
// fields (and changes nothing).
func fullPath(c *engine.Config) {
	c.Chain.Steps = append(c.Chain.Steps, &transforms.Step{Name: "pass", Index: len(c.Chain.Steps), Transform: transforms.Func(
		func(_ context.Context, r *transforms.Record) ([]*transforms.Record, error) {
			return []*transforms.Record{r}, nil
		})})
}

// splicedChains qualify for the spliced path.
var splicedChains = []string{
	`[{filter: 'amount > 0'}, {set: {total_cents: 'int(amount * 100)'}}, {rename: {user: user_id}}, {drop: [debug]}]`,
	`[]`,
	`[{set: {meta.source: kafka.topic, b: 'a', n: '1.5'}}, {drop: [c, d.e]}]`,
	`[{rename: {a: b, c: d.x}}, {mask: [e, b.y]}]`,
	`[{keep: [a, c.d]}, {set: {z: 'b'}}]`,
	`[{filter: 'a != 1'}, {keep: [b, amount]}]`,
	`[{key: a}, {route: [{when: 'b == 1', topic: t1}, {when: 'c == nil', topic: t2}]}]`,
	`[{key: {expr: 'string(b) + "-" + string(c)'}}, {route: '"to-" + string(a)'}]`,
	`[{drop: [b], when: 'a == 1'}, {set: {a: 'a + 1'}}]`,
	`[{mask: {a: {keep_last: 2}, b: {pattern: '[0-9]', replacement: '#'}}}]`,
	`[{set: {e: 'd.e * 2'}}, {drop: [d]}]`,
	// Renames and removals at the end, applied by the splice (fold.go),
	// or some of them, or none.
	`[{set: {n: 'a'}}, {rename: {b: b2, e: e2}}, {drop: [z]}]`,
	`[{rename: {a: b, c: e}}, {drop: [d]}]`,
	`[{rename: {a: b}}, {rename: {b: x}}]`,
	`[{keep: [a, b]}, {rename: {a: a2}}]`,
	`[{rename: {b: a, a: b}}]`,
	`[{set: {a: 'c'}}, {mask: [a.x]}, {keep: [a, c, b]}]`,
	`[{filter: 'amount > 0'}, {keep: [amount, a]}, {set: {n: 'amount'}}, {mask: [n]}]`,
}

// spliceSeeds are documents for the chains: the fields they name, nested
// values, odd numbers and spacing, and what the scan declines.
var spliceSeeds = []string{
	`{"id":"evt-0000000042","user":"user-01337","amount":129.90,"currency":"EUR","debug":{"trace":"9f86d081884c7d65","sampled":false},"ts":1709283600123}`,
	` { "z" : 1 , "a" : 1 , "b" : [ 1 , { "x" : "y z" } ] , "c" : { "d" : 2.50 } , "d" : { "e" : 3 } , "e" : "secret" } `,
	`{"a":2,"b":1,"c":null,"amount":1e2,"big":123456789012345678901234567890,"f":0.1000000000000000055511151231257827,"g":-0.0}`,
	`{"a":"x","b":"12345","c":{"d":"<&>\u2028"},"e":12,"n":"\u00e9\ud83d\ude00"}`,
	`{"amount":0,"a":1}`, `{"amount":"ten"}`, `{"a":1,"a":2}`, "{\"a\":\"\xff\"}", `{"\u0061":1}`, `[1]`, `{"a":`, `{}`,
	`{"b":{"y":"k"},"a":"s","d":5}`, `{"c":{"x":"secret","y":1},"a":1,"b":[1.50]}`, `{"amount":1.50,"a":{"x":1}}`, `{"a":1,"d":{"e":"x"}}`, `{"c":1,"b":{"x":1}}`, `{"a":1e400,"b":-1.5e-400}`,
}

// FuzzSplicedMatchesFull runs documents through each spliced chain on
// both paths: the same outputs or the same failure, the same key, topic
// and headers; the values equal as parsed JSON with exact numbers, except
// that a member the spliced path copied keeps the input's digits where
// the full path wrote them through float64 (129.90 read, 129.9 written).
func FuzzSplicedMatchesFull(f *testing.F) {
	type pair struct{ spliced, full *engine.Engine }
	var engines []pair
	for _, c := range splicedChains {
		s := newEngine(f, pipelineYAML(c), discard{}, nil)
		if !s.Spliced() {
			f.Fatalf("%s does not take the spliced path", c)
		}
		engines = append(engines, pair{s, newEngine(f, pipelineYAML(c), discard{}, fullPath)})
	}
	for i, s := range spliceSeeds {
		f.Add([]byte(s), uint8(i))
	}
	f.Fuzz(func(t *testing.T, doc []byte, chain uint8) {
		p := engines[int(chain)%len(engines)]
		compareResults(t, splicedChains[int(chain)%len(engines)], doc, p.spliced, p.full)
	})
}

func compareResults(t *testing.T, chain string, doc []byte, spliced, full *engine.Engine) {
	t.Helper()
	run := func(e *engine.Engine) engine.Result {
		h := transforms.HeadersOf("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", "x", "y")
		return process(e, &engine.Record{Topic: "in", Partition: 1, Offset: 7, Key: []byte("k"), Value: doc, Headers: h, Timestamp: time.UnixMilli(1709283600123)})
	}
	got, want := run(spliced), run(full)
	where := fmt.Sprintf("chain %s, input %q", chain, doc)
	if got.Done != want.Done || got.Dead != want.Dead || len(got.Outputs) != len(want.Outputs) {
		t.Fatalf("%s:\nspliced %+v\nfull    %+v", where, got, want)
	}
	for i, g := range got.Outputs {
		w := want.Outputs[i]
		if g.Topic != w.Topic || !bytes.Equal(g.Key, w.Key) || !g.Timestamp.Equal(w.Timestamp) {
			t.Fatalf("%s: output %d to %s key %q ts %v, full path %s %q %v", where, i, g.Topic, g.Key, g.Timestamp, w.Topic, w.Key, w.Timestamp)
		}
		if got.Dead {
			for _, k := range []string{engine.HeaderError, engine.HeaderStep, engine.HeaderStepIndex} {
				if a, _ := g.Headers.Get(k); a != func() string { b, _ := w.Headers.Get(k); return b }() {
					t.Fatalf("%s: dead letter %s %q, full path %q", where, k, a, g.Headers)
				}
			}
			if !bytes.Equal(g.Value, doc) {
				t.Fatalf("%s: dead letter value %q", where, g.Value)
			}
			continue
		}
		if !reflect.DeepEqual(g.Headers, w.Headers) {
			t.Fatalf("%s: headers %v, full path %v", where, g.Headers, w.Headers)
		}
		if err := sameJSON(g.Value, w.Value, doc); err != nil {
			t.Fatalf("%s:\nspliced %s\nfull    %s\n%v", where, g.Value, w.Value, err)
		}
	}
}

// parse reads JSON with encoding/json, numbers as their text.
func parse(b []byte) (any, error) {
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return nil, err
	}
	if d.More() {
		return nil, fmt.Errorf("data after the value")
	}
	return v, nil
}

// sameJSON compares the spliced output with the full path's: both objects
// with the same keys; each member equal exactly, or equal to the input's
// member exactly where the full path's is that member through Decode's
// number policy.
func sameJSON(spliced, full, input []byte) error {
	s, err := parse(spliced)
	if err != nil {
		return fmt.Errorf("spliced output: %v", err)
	}
	f, err := parse(full)
	if err != nil {
		return fmt.Errorf("full output: %v", err)
	}
	in, _ := parse(input)
	sm, ok1 := s.(map[string]any)
	fm, ok2 := f.(map[string]any)
	im, _ := in.(map[string]any)
	if !ok1 || !ok2 {
		return fmt.Errorf("not objects")
	}
	if a, b := slices.Sorted(maps.Keys(sm)), slices.Sorted(maps.Keys(fm)); !slices.Equal(a, b) {
		return fmt.Errorf("keys %q, full path %q", a, b)
	}
	for k, sv := range sm {
		if exactEqual(sv, fm[k]) {
			continue
		}
		if iv, ok := im[k]; ok && exactEqual(sv, iv) && policyEqual(fm[k], iv) {
			continue
		}
		// A member renamed by the splice (fold.go) is copied as read too,
		// under its new name: some member of the input holds its value.
		if _, ok := im[k]; !ok && slices.ContainsFunc(slices.Collect(maps.Values(im)), func(iv any) bool {
			return exactEqual(sv, iv) && policyEqual(fm[k], iv)
		}) {
			continue
		}
		return fmt.Errorf("member %q differs", k)
	}
	return nil
}

// exactEqual compares parsed JSON, numbers by their exact value.
func exactEqual(a, b any) bool {
	switch a := a.(type) {
	case json.Number:
		b, ok := b.(json.Number)
		if !ok {
			return false
		}
		if a == b {
			return true // the same text, which big.Rat may refuse (an exponent too large for it)
		}
		x, ok1 := new(big.Rat).SetString(string(a))
		y, ok2 := new(big.Rat).SetString(string(b))
		return ok1 && ok2 && x.Cmp(y) == 0
	case map[string]any:
		b, ok := b.(map[string]any)
		if !ok || len(a) != len(b) {
			return false
		}
		for k, x := range a {
			if y, ok := b[k]; !ok || !exactEqual(x, y) {
				return false
			}
		}
		return true
	case []any:
		b, ok := b.([]any)
		if !ok || len(a) != len(b) {
			return false
		}
		for i := range a {
			if !exactEqual(a[i], b[i]) {
				return false
			}
		}
		return true
	}
	return a == b
}

// policyEqual reports whether full is in through Decode's number policy:
// in decoded and encoded again (integers exact, other numbers through
// float64), compared exactly.
func policyEqual(full, in any) bool {
	b, err := json.Marshal(in)
	if err != nil {
		return false
	}
	v, err := codec.Decode(b)
	if err != nil {
		return false
	}
	if b, err = codec.Encode(v); err != nil {
		return false
	}
	again, err := parse(b)
	return err == nil && exactEqual(full, again)
}

// Every spec example of the transforms that declare their fields runs
// through the spliced path, to the outputs it documents and to those of
// the full path.
func TestSplicedExamples(t *testing.T) {
	n := 0
	for _, name := range transforms.Default.Names() {
		reg, _ := transforms.Default.Lookup(name)
		for _, ex := range reg.Spec.Examples {
			steps := "\n      - " + name + ": " + ex.Config
			spliced := newEngine(t, pipelineYAML(steps), discard{}, nil)
			if !spliced.Spliced() {
				continue
			}
			n++
			t.Run(name+"/"+ex.Title, func(t *testing.T) {
				full := newEngine(t, pipelineYAML(steps), discard{}, fullPath)
				compareResults(t, steps, []byte(ex.Input), spliced, full)
				var h transforms.Headers
				for _, k := range slices.Sorted(maps.Keys(ex.InputHeaders)) {
					h.Add(k, ex.InputHeaders[k])
				}
				res := process(spliced, &engine.Record{Value: []byte(ex.Input), Headers: h}) // no topic, as the examples run
				if ex.Error != "" {
					if msg, _ := res.Outputs[0].Headers.Get(engine.HeaderError); !res.Dead || !strings.Contains(msg, ex.Error) {
						t.Fatalf("want a dead letter with %q, got %+v", ex.Error, res)
					}
					return
				}
				if res.Dead || len(res.Outputs) != len(ex.Output) {
					t.Fatalf("want %d outputs, got %+v", len(ex.Output), res)
				}
				for i, o := range res.Outputs {
					got, _ := codec.Decode(o.Value)
					want, _ := codec.Decode([]byte(ex.Output[i]))
					if !reflect.DeepEqual(got, want) {
						t.Errorf("output %s, want %s", o.Value, ex.Output[i])
					}
					if ex.Key != "" && string(o.Key) != ex.Key || ex.Topic != "" && o.Topic != ex.Topic {
						t.Errorf("key %q topic %s, want %q %s", o.Key, o.Topic, ex.Key, ex.Topic)
					}
				}
			})
		}
	}
	if n < 25 {
		t.Errorf("%d examples took the spliced path; the eight transforms have more", n)
	}
}

// The spliced path writes the input's members in their order, as read,
// and the fields the chain adds after them, sorted.
func TestSplicedOrder(t *testing.T) {
	e := newEngine(t, benchYAML, discard{}, nil)
	if !e.Spliced() {
		t.Fatal("the bench chain takes the full path")
	}
	res := process(e, &engine.Record{Topic: "in", Value: []byte(benchEvent)})
	want := `{"id":"evt-0000000042","amount":129.9,"currency":"EUR","country":"DE","status":"paid","channel":"web","items":3,"ts":1709283600123,"total_cents":12990,"user_id":"user-01337"}`
	if len(res.Outputs) != 1 || string(res.Outputs[0].Value) != want {
		t.Errorf("got  %s\nwant %s", res.Outputs[0].Value, want)
	}
	// Declined documents take the full path: sorted keys, repeats resolved.
	res = process(e, &engine.Record{Topic: "in", Value: []byte(`{"z":1,"amount":1,"amount":2}`)})
	if want := `{"amount":2,"total_cents":200,"z":1}`; len(res.Outputs) != 1 || string(res.Outputs[0].Value) != want {
		t.Errorf("repeated key: %+v, want %s", res, want)
	}
}

// An engine that is not told what its Destination reads takes the full
// path.
func TestSplicedNeedsDestinationFields(t *testing.T) {
	e := newEngine(t, benchYAML, discard{}, func(c *engine.Config) { c.DestinationFields = nil })
	if e.Spliced() {
		t.Error("spliced without the destination's fields")
	}
}
