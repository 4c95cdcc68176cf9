package engine_test

import (
	"bytes"
	"fmt"
	"runtime/metrics"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/millrace-dev/millrace/pipeline/config"
	"github.com/millrace-dev/millrace/pipeline/engine"
	"github.com/millrace-dev/millrace/transforms"
	"github.com/millrace-dev/millrace/transforms/codec"
)

// exampleSteps are the configs of every example in every built-in's spec,
// as chain steps: valid steps of every kind, to build random chains of.
func exampleSteps() []string {
	var steps []string
	for _, name := range transforms.Default.Names() {
		reg, _ := transforms.Default.Lookup(name)
		for _, ex := range reg.Spec.Examples {
			config := strings.TrimRight(ex.Config, "\n")
			if !strings.Contains(config, "\n") {
				steps = append(steps, fmt.Sprintf("{%s: %s}", name, config))
				continue
			}
			// A block config, indented under the step's name.
			steps = append(steps, name+":\n"+indent(config, "          "))
		}
	}
	return steps
}

func indent(text, by string) string {
	return by + strings.ReplaceAll(text, "\n", "\n"+by)
}

// runawaySteps are valid steps that would take without bound, on any
// record, time or memory were it not for the evaluators' limits (a jq
// program's steps and heap, an expression's memory budget and string
// size): a record they run on must end in its dead letter, with the
// process's memory bounded. Picks from 0xF0 on choose them.
var runawaySteps = []string{
	`{jq: {program: 'def f: [f]; f', max_steps: 20000}}`,
	`{jq: {program: 'def f: if . > 0 then [(. - 1) | f] else . end; 100000000 | f', max_steps: 20000}}`,
	`{jq: {program: '[range(1e9)]', max_steps: 20000}}`,
	`{set: {x: 'len(reduce(1..40, #acc + #acc, "a"))'}}`,
	`{set: {x: 'repeat("ab", 1000000000)'}}`,
}

// fuzzStep is the step a pick chooses.
func fuzzStep(p byte) string {
	if p >= 0xF0 {
		return runawaySteps[int(p-0xF0)%len(runawaySteps)]
	}
	return fuzzSteps[int(p)%len(fuzzSteps)]
}

// maxFuzzMemory bounds the memory the runtime holds after a record: a
// record that a limit failed to stop would take gigabytes.
const maxFuzzMemory = 1 << 30

var (
	fuzzSteps     = exampleSteps()
	fuzzEnginesMu sync.Mutex
	fuzzEngines   = map[string]*engine.Engine{}
)

// fuzzEngine builds (once) the engine of a chain of the steps picked.
func fuzzEngine(t *testing.T, picks []byte, prod engine.Producer) (*engine.Engine, string) {
	var steps []string
	for _, p := range picks {
		steps = append(steps, "      - "+fuzzStep(p))
	}
	chain := strings.Join(steps, "\n")
	fuzzEnginesMu.Lock()
	defer fuzzEnginesMu.Unlock()
	if e, ok := fuzzEngines[chain]; ok {
		return e, chain
	}
	yaml := `version: 1
kafka: {brokers: ["127.0.0.1:1"]}
admin: {address: "off"}
pipelines:
  - name: fuzz
    input: {topic: in}
    transforms:
` + chain + `
    output: {topic: out, allowed_topics: ["*"]}
    errors: {dead_letter_topic: dlq}
    timeout: 1s
`
	cfg, err := config.Parse("p.yaml", []byte(yaml), config.Options{LookupEnv: func(string) (string, bool) { return "k", true }})
	if err != nil {
		if slices.ContainsFunc(picks, func(p byte) bool { return p >= 0xF0 }) {
			t.Fatalf("a runaway step does not load: %v", err)
		}
		return nil, chain // a step that needs more than the line it is written on
	}
	p := cfg.Pipelines[0]
	parts, err := cfg.Build(p, config.BuildOptions{})
	if err != nil {
		t.Fatal(err)
	}
	e, err := engine.New(engine.Config{Pipeline: p.Name, InputTopic: "in", Chain: parts.Chain, DeadLetterTopic: "dlq",
		Destination: parts.Destination, Timeout: time.Second, Producer: prod})
	if err != nil {
		t.Fatal(err)
	}
	fuzzEngines[chain] = e
	return e, chain
}

// sink is a producer that acknowledges at once.
type sink struct{}

func (sink) Produce(_ []*engine.Record, done func(error)) { done(nil) }

// Random records through random chains of valid steps, runaway ones
// among them: the engine never panics or hangs, settles every record
// exactly once as done, holds no more than maxFuzzMemory, and every record
// ends in outputs that are JSON objects Millrace reads back (none when a
// runaway step ran on it), or in a dead letter holding the input byte for
// byte.
func FuzzEngine(f *testing.F) {
	f.Add([]byte(benchEvent), []byte{0, 1, 2})
	f.Add([]byte(`{"a.b":1,"a":{"c":[1,2,{"d":null}]},"amount":-3,"s":"\xc3\x28"}`), []byte{5, 9, 14})
	f.Add([]byte(`{"n":123456789012345678901234567890,"email":"x@y.z","ts":"2024-03-01T10:00:00Z"}`), []byte{20, 30, 40, 50})
	f.Add([]byte(`[1,2]`), []byte{7})
	f.Add([]byte(`not json`), []byte{3, 4})
	for i := range runawaySteps {
		f.Add([]byte(benchEvent), []byte{0xF0 + byte(i)})
	}
	f.Add([]byte(`{"n":5}`), []byte{1, 0xF1, 2})
	f.Fuzz(func(t *testing.T, value, picks []byte) {
		if len(picks) == 0 || len(picks) > 4 || len(value) > 1<<16 {
			return
		}
		e, chain := fuzzEngine(t, picks, sink{})
		if e == nil {
			return
		}
		in := &engine.Record{Topic: "in", Key: []byte("k"), Value: bytes.Clone(value)}
		var results []engine.Result
		var mu sync.Mutex
		done := make(chan struct{})
		e.Process(in, func(r engine.Result) {
			mu.Lock()
			results = append(results, r)
			mu.Unlock()
			close(done)
		})
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatalf("not settled within 10s: chain\n%s", chain)
		}
		mu.Lock()
		defer mu.Unlock()
		if m := memoryHeld(); m > maxFuzzMemory {
			t.Fatalf("the runtime holds %d MiB after the record; chain\n%s", m>>20, chain)
		}
		if len(results) != 1 || !results[0].Done {
			t.Fatalf("settled %d times: %+v; chain\n%s", len(results), results, chain)
		}
		r := results[0]
		if r.Dead {
			if len(r.Outputs) != 1 || r.Outputs[0].Topic != "dlq" || !bytes.Equal(r.Outputs[0].Value, value) {
				t.Fatalf("dead letter %+v does not hold the input; chain\n%s", r.Outputs, chain)
			}
			return
		}
		if len(r.Outputs) > 0 && slices.ContainsFunc(picks, func(p byte) bool { return p >= 0xF0 }) {
			t.Fatalf("a runaway step let the record through: %d outputs; chain\n%s", len(r.Outputs), chain)
		}
		for _, o := range r.Outputs {
			v, err := codec.Decode(o.Value)
			if err != nil {
				t.Fatalf("output %q does not decode: %v; chain\n%s", o.Value, err, chain)
			}
			if _, ok := v.(map[string]any); !ok {
				t.Fatalf("output %q is not an object; chain\n%s", o.Value, chain)
			}
		}
	})
}

// memoryHeld is the memory the Go runtime holds from the system, live
// and garbage alike.
func memoryHeld() uint64 {
	sample := []metrics.Sample{{Name: "/memory/classes/total:bytes"}}
	metrics.Read(sample)
	return sample[0].Value.Uint64()
}
