package engine_test

import (
	"bytes"
	"fmt"
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
			if strings.Contains(ex.Config, "\n") {
				continue // a block config; the flow ones are enough
			}
			steps = append(steps, fmt.Sprintf("{%s: %s}", name, ex.Config))
		}
	}
	return steps
}

var (
	fuzzSteps     = exampleSteps()
	fuzzEnginesMu sync.Mutex
	fuzzEngines   = map[string]*engine.Engine{}
)

// fuzzEngine builds (once) the engine of a chain of the steps picked.
func fuzzEngine(t *testing.T, picks []byte, prod engine.Producer) (*engine.Engine, string) {
	var steps []string
	for _, p := range picks {
		steps = append(steps, "      - "+fuzzSteps[int(p)%len(fuzzSteps)])
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

// Random records through random chains of valid steps: the engine never
// panics or hangs, settles every record exactly once as done, and every
// record ends in outputs that are JSON objects Millrace reads back, or in
// a dead letter holding the input byte for byte.
func FuzzEngine(f *testing.F) {
	f.Add([]byte(benchEvent), []byte{0, 1, 2})
	f.Add([]byte(`{"a.b":1,"a":{"c":[1,2,{"d":null}]},"amount":-3,"s":"\xc3\x28"}`), []byte{5, 9, 14})
	f.Add([]byte(`{"n":123456789012345678901234567890,"email":"x@y.z","ts":"2024-03-01T10:00:00Z"}`), []byte{20, 30, 40, 50})
	f.Add([]byte(`[1,2]`), []byte{7})
	f.Add([]byte(`not json`), []byte{3, 4})
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
