package engine_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/millrace-dev/millrace/pipeline/config"
	"github.com/millrace-dev/millrace/pipeline/engine"
	"github.com/millrace-dev/millrace/transforms"
)

// benchYAML is test/bench's pipeline.
const benchYAML = `version: 1
kafka: {brokers: ["127.0.0.1:1"]}
admin: {address: "off"}
pipelines:
  - name: bench
    input: {topic: in, group: g}
    transforms:
      - filter: 'amount > 0'
      - set: {total_cents: 'int(amount * 100)'}
      - rename: {user: user_id}
      - drop: [debug]
    output: {topic: out}
    errors: {dead_letter_topic: dlq, retry: {max_retries: 2, initial_interval: 1ms, max_interval: 2ms}}
`

const benchEvent = `{"id":"evt-0000000042","user":"user-01337","amount":129.90,"currency":"EUR","country":"DE","status":"paid","channel":"web","items":3,"debug":{"trace":"9f86d081884c7d65","sampled":false,"host":"worker-07"},"ts":1709283600123}`

// producer records what it is handed; the first fail calls fail.
type producer struct {
	mu    sync.Mutex
	calls int
	fail  int
	got   []*engine.Record
}

func (p *producer) Produce(recs []*engine.Record, done func(error)) {
	p.mu.Lock()
	p.calls++
	failing := p.calls <= p.fail
	if !failing {
		p.got = append(p.got, recs...)
	}
	p.mu.Unlock()
	if failing {
		done(errors.New("broker says no"))
		return
	}
	done(nil)
}

// newEngine builds the engine of the first pipeline of yaml.
func newEngine(t testing.TB, yaml string, prod engine.Producer, mod func(*engine.Config)) *engine.Engine {
	t.Helper()
	cfg, err := config.Parse("p.yaml", []byte(yaml), config.Options{})
	if err != nil {
		t.Fatal(err)
	}
	p := cfg.Pipelines[0]
	parts, err := cfg.Build(p, config.BuildOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var destFields *transforms.Fields
	if f, ok := parts.DestinationFields(); ok {
		destFields = &f
	}
	ec := engine.Config{
		Pipeline: p.Name, InputTopic: p.Input.Topic, Chain: parts.Chain, DeadLetterTopic: p.Errors.DeadLetterTopic,
		Destination: parts.Destination, DestinationFields: destFields,
		Retry:    engine.Retry{MaxRetries: p.Errors.Retry.MaxRetries, InitialInterval: time.Millisecond, MaxInterval: 2 * time.Millisecond, Multiplier: 2},
		Producer: prod,
	}
	if mod != nil {
		mod(&ec)
	}
	e, err := engine.New(ec)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// process runs in through e and waits for its result.
func process(e *engine.Engine, in *engine.Record) engine.Result {
	res := make(chan engine.Result, 1)
	e.Process(in, func(r engine.Result) { res <- r })
	return <-res
}

func list(h transforms.Headers) string {
	var b strings.Builder
	for _, x := range h {
		fmt.Fprintf(&b, "%s=%s ", x.Key, x.Value)
	}
	return b.String()
}

// A dead letter carries its input's key, value and headers byte for byte,
// in order, repeats included, then a traceparent (the input had none),
// then the millrace.* headers.
func TestDeadLetterKeepsTheRecord(t *testing.T) {
	for _, n := range []int{2, 1000} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			prod := &producer{}
			e := newEngine(t, benchYAML, prod, nil)
			var in transforms.Headers
			if n == 2 {
				in = transforms.HeadersOf("dup", "1", "dup", "2")
			} else {
				for i := range n {
					in.Add(fmt.Sprintf("h%04d", i), fmt.Sprint(n-i))
				}
			}
			value := []byte("  {not json \xff")
			rec := &engine.Record{Topic: "in", Partition: 3, Offset: 41, Key: []byte("k\x00"), Value: value, Headers: in.Clone(), Timestamp: time.UnixMilli(1700000000000)}
			res := process(e, rec)
			if !res.Done || !res.Dead || len(res.Outputs) != 1 {
				t.Fatalf("result %+v, want one dead letter", res)
			}
			dl := res.Outputs[0]
			if dl.Topic != "dlq" || string(dl.Key) != "k\x00" || string(dl.Value) != string(value) || !dl.Timestamp.Equal(rec.Timestamp) {
				t.Errorf("dead letter %s key %q value %q ts %v", dl.Topic, dl.Key, dl.Value, dl.Timestamp)
			}
			if got, want := list(dl.Headers[:n]), list(in); got != want {
				t.Errorf("first %d headers:\n got %s\nwant %s", n, got, want)
			}
			if dl.Headers[n].Key != "traceparent" {
				t.Errorf("header %d is %s, want the traceparent the input lacked", n, dl.Headers[n].Key)
			}
			want := map[string]string{engine.HeaderStep: "decode", engine.HeaderStepIndex: "-1", engine.HeaderPipeline: "bench",
				engine.HeaderSourceTopic: "in", engine.HeaderSourcePartition: "3", engine.HeaderSourceOffset: "41", engine.HeaderAttempts: "1"}
			for k, v := range want {
				if got, _ := dl.Headers.Get(k); got != v {
					t.Errorf("%s = %q, want %q", k, got, v)
				}
			}
		})
	}
}

// An output keeps its input's header order and repeats; the chain runs
// on its own copy of the headers.
func TestOutputsKeepHeaders(t *testing.T) {
	prod := &producer{}
	e := newEngine(t, benchYAML, prod, nil)
	tp := "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
	h := transforms.HeadersOf("dup", "1", "traceparent", tp, "dup", "2", "x", "y")
	rec := &engine.Record{Topic: "in", Key: []byte("k"), Value: []byte(benchEvent), Headers: h.Clone()}
	res := process(e, rec)
	if !res.Done || res.Dead || len(res.Outputs) != 1 {
		t.Fatalf("result %+v", res)
	}
	o := res.Outputs[0]
	if got, want := list(o.Headers), list(h); got != want {
		t.Errorf("output headers %s, want %s", got, want)
	}
	if o.Topic != "out" || string(o.Key) != "k" || !strings.Contains(string(o.Value), `"total_cents":12990`) {
		t.Errorf("output %s %q %s", o.Topic, o.Key, o.Value)
	}
	if got := list(rec.Headers); got != list(h) {
		t.Errorf("input headers changed: %s", got)
	}
}

// A produce that fails is retried with backoff without running the chain
// again; when the retries are spent the record is not done.
func TestProduceRetry(t *testing.T) {
	runs := 0
	count := func(c *engine.Config) {
		c.Chain.Steps = append(c.Chain.Steps, &transforms.Step{Name: "count", Index: len(c.Chain.Steps), Transform: transforms.Func(
			func(_ context.Context, r *transforms.Record) ([]*transforms.Record, error) {
				runs++
				return []*transforms.Record{r}, nil
			})})
	}
	prod := &producer{fail: 2}
	e := newEngine(t, benchYAML, prod, count)
	rec := &engine.Record{Topic: "in", Value: []byte(benchEvent)}
	if res := process(e, rec); !res.Done || len(prod.got) != 1 {
		t.Fatalf("after 2 failures and max_retries 2: %+v, %d written", res, len(prod.got))
	}
	if runs != 1 || rec.Attempts != 1 || prod.calls != 3 {
		t.Errorf("chain ran %d times, attempts %d, produce called %d times; want 1, 1, 3", runs, rec.Attempts, prod.calls)
	}
	prod = &producer{fail: 3}
	e = newEngine(t, benchYAML, prod, nil)
	rec = &engine.Record{Topic: "in", Value: []byte(benchEvent)}
	if res := process(e, rec); res.Done || res.Err == nil || !strings.Contains(res.Err.Error(), "broker says no") {
		t.Errorf("retries spent: %+v, want not done with the produce error", res)
	}
	// Handed out again, the same record counts on.
	prod.fail = 0
	if res := process(e, rec); !res.Done || rec.Attempts != 2 {
		t.Errorf("redelivery: %+v, attempts %d", res, rec.Attempts)
	}
}

// With NoProduceRetry a failed produce settles the record as not done at
// once, the produce tried once: its source processes it again, in order.
func TestNoProduceRetry(t *testing.T) {
	prod := &producer{fail: 1}
	e := newEngine(t, benchYAML, prod, func(c *engine.Config) { c.NoProduceRetry = true })
	rec := &engine.Record{Topic: "in", Value: []byte(benchEvent)}
	if res := process(e, rec); res.Done || res.Err == nil || prod.calls != 1 {
		t.Errorf("result %+v after %d produce calls, want not done after 1", res, prod.calls)
	}
	if res := process(e, rec); !res.Done || rec.Attempts != 2 || len(prod.got) != 1 {
		t.Errorf("processed again: %+v, attempts %d, %d written", res, rec.Attempts, len(prod.got))
	}
}

// Without a dead-letter topic a record that fails halts the pipeline and
// is not done.
func TestHaltWithoutDeadLetterTopic(t *testing.T) {
	var halted error
	e := newEngine(t, benchYAML, &producer{}, func(c *engine.Config) {
		c.DeadLetterTopic = ""
		c.Halt = func(err error) { halted = err }
	})
	res := process(e, &engine.Record{Topic: "in", Value: []byte(`{"amount":"ten"}`)})
	var de *engine.DataError
	if res.Done || !errors.As(res.Err, &de) || de.Step != "filter" || halted == nil {
		t.Errorf("result %+v, halted %v", res, halted)
	}
}

// A filtered record is done with no outputs and nothing produced.
func TestFiltered(t *testing.T) {
	prod := &producer{}
	e := newEngine(t, benchYAML, prod, nil)
	if res := process(e, &engine.Record{Topic: "in", Value: []byte(`{"amount":0}`)}); !res.Done || len(res.Outputs) != 0 || prod.calls != 0 {
		t.Errorf("result %+v, %d produce calls", res, prod.calls)
	}
}

// BenchmarkProcess is the engine's share of one record of test/bench's
// pipeline, without Kafka: middleware, decode, chain, encode, with works
// reused as `run` has them. Compare runs with -benchmem; the end-to-end
// figures are test/bench's.
func BenchmarkProcess(b *testing.B) {
	e := newEngine(b, benchYAML, discard{}, reuseWork)
	payload := []byte(benchEvent)
	h := transforms.HeadersOf("source", "bench")
	b.ReportAllocs()
	i := int64(0)
	for b.Loop() {
		i++
		rec := &engine.Record{Topic: "in", Offset: i, Key: []byte("user-01337"), Value: payload, Headers: h.Clone(), Timestamp: time.UnixMilli(1709283600123)}
		e.Process(rec, func(r engine.Result) {
			if !r.Done || len(r.Outputs) != 1 {
				b.Fatalf("%+v", r)
			}
		})
	}
}

func reuseWork(c *engine.Config) { c.ReuseWork = true }

type discard struct{}

func (discard) Produce(_ []*engine.Record, done func(error)) { done(nil) }

// DeadLetter sends a record to the dead-letter topic without running the
// chain (a value that would fail it is kept as is), with step crash and
// the reason; without a dead-letter topic it halts, not done.
func TestDeadLetterUnprocessed(t *testing.T) {
	prod := &producer{}
	e := newEngine(t, benchYAML, prod, nil)
	value := []byte(`{"amount":"ten"}`)
	rec := &engine.Record{Topic: "in", Partition: 1, Offset: 7, Key: []byte("k"), Value: value, Headers: transforms.HeadersOf("a", "1")}
	res := make(chan engine.Result, 1)
	e.DeadLetter(rec, errors.New("the runner died 3 times in a row while this record was in flight"), func(r engine.Result) { res <- r })
	r := <-res
	if !r.Done || !r.Dead || len(r.Outputs) != 1 {
		t.Fatalf("result %+v, want one dead letter", r)
	}
	dl := r.Outputs[0]
	if dl.Topic != "dlq" || string(dl.Value) != string(value) || string(dl.Key) != "k" || dl.Headers[0].Key != "a" {
		t.Errorf("dead letter %s %q %q %s", dl.Topic, dl.Key, dl.Value, list(dl.Headers))
	}
	want := map[string]string{engine.HeaderStep: engine.StepCrash, engine.HeaderStepIndex: "-1", engine.HeaderSourceOffset: "7",
		engine.HeaderError: "the runner died 3 times in a row while this record was in flight", engine.HeaderAttempts: "0"}
	for k, v := range want {
		if got, _ := dl.Headers.Get(k); got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}

	var halted error
	e = newEngine(t, benchYAML, &producer{}, func(c *engine.Config) {
		c.DeadLetterTopic = ""
		c.Halt = func(err error) { halted = err }
	})
	e.DeadLetter(&engine.Record{Topic: "in", Offset: 7, Value: value}, errors.New("died"), func(r engine.Result) { res <- r })
	if r := <-res; r.Done || halted == nil || !strings.Contains(halted.Error(), "offset 7") {
		t.Errorf("without a dead-letter topic: result %+v, halted %v", r, halted)
	}
}

// The spliced record path of test/bench's chain stays within a budget of
// allocations per record (38 at first, 13, and 8 with works reused as
// `run` has them; 11 and 6 since renames and drops at the chain's end are
// done on the bytes; one spare each): garbage is a good part of a record's
// CPU, through the collector. A change that adds some shows here, not
// only in the benchmark's noise.
func TestProcessAllocations(t *testing.T) {
	if testing.CoverMode() != "" || raceEnabled {
		t.Skip("instrumented builds allocate more")
	}
	for _, c := range []struct {
		name   string
		mod    func(*engine.Config)
		budget int
	}{{"fresh", nil, 12}, {"reused", reuseWork, 7}} {
		t.Run(c.name, func(t *testing.T) {
			e := newEngine(t, benchYAML, discard{}, c.mod)
			payload := []byte(benchEvent)
			h := transforms.HeadersOf("source", "bench")
			recs := make([]engine.Record, 0, 200)
			allocs := testing.AllocsPerRun(100, func() {
				recs = append(recs[:0], engine.Record{Topic: "in", Key: []byte("user-01337"), Value: payload, Headers: append(make(transforms.Headers, 0, 4), h...)})
				e.Process(&recs[0], func(r engine.Result) {
					if !r.Done || len(r.Outputs) != 1 {
						t.Fatalf("%+v", r)
					}
				})
			})
			if allocs > float64(c.budget) {
				t.Errorf("%.0f allocations per record, more than %d", allocs, c.budget)
			}
			t.Logf("%.0f allocations per record (the record and its headers included)", allocs)
		})
	}
}
