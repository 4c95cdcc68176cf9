package transforms_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/millrace-dev/millrace/transforms"
)

// Chain.Observe sees every application of a step: its time, how many
// records it returned, and its error.
func TestChainObserve(t *testing.T) {
	var n atomic.Int64
	chain := buildChain(t, testRegistry(&n), `
- fanout: {field: items}
- filter: 'item != "b"'
- fail: boom
  when: 'item == "c"'
`)
	type call struct {
		step    string
		index   int
		outputs int
		failed  bool
	}
	var calls []call
	chain.Observe = func(s *transforms.Step, d time.Duration, outputs int, err error) {
		if d < 0 {
			t.Errorf("negative duration %s", d)
		}
		calls = append(calls, call{s.Name, s.Index, outputs, err != nil})
	}
	rec := &transforms.Record{Value: map[string]any{"items": []any{"a", "b", "c"}}}
	if _, err := chain.Run(context.Background(), rec); err == nil {
		t.Fatal("the fail step should fail on item c")
	}
	want := []call{
		{"fanout", 0, 3, false},
		{"filter", 1, 1, false}, {"filter", 1, 0, false}, {"filter", 1, 1, false},
		{"fail", 2, 1, false}, // when is false for "a": passed through
		{"fail", 2, 0, true},
	}
	if len(calls) != len(want) {
		t.Fatalf("calls %+v, want %+v", calls, want)
	}
	for i := range want {
		if calls[i] != want[i] {
			t.Errorf("call %d: %+v, want %+v", i, calls[i], want[i])
		}
	}
}

// Each step's time is its own: the chain reads the clock once between two
// steps, so a slow step is not taken for the one after it.
func TestChainObserveTimesEachStep(t *testing.T) {
	const slow = 50 * time.Millisecond
	pass := transforms.Func(func(_ context.Context, r *transforms.Record) ([]*transforms.Record, error) { return r.One(), nil })
	wait := transforms.Func(func(_ context.Context, r *transforms.Record) ([]*transforms.Record, error) {
		time.Sleep(slow)
		return r.One(), nil
	})
	chain := &transforms.Chain{Steps: []*transforms.Step{
		{Name: "a", Index: 0, Transform: pass},
		{Name: "b", Index: 1, Transform: wait},
		{Name: "c", Index: 2, Transform: pass},
	}}
	var took []time.Duration
	chain.Observe = func(_ *transforms.Step, d time.Duration, _ int, _ error) { took = append(took, d) }
	if _, err := chain.Run(context.Background(), &transforms.Record{Value: map[string]any{}}); err != nil {
		t.Fatal(err)
	}
	if len(took) != 3 || took[0] >= slow || took[1] < slow || took[2] >= slow {
		t.Errorf("steps took %v; want only the second at least %s", took, slow)
	}
}

// With TimeOneIn a run is timed about once in that many, and the first
// always; the steps of the others are observed with a negative time, their
// outputs counted all the same.
func TestChainTimesOneIn(t *testing.T) {
	pass := transforms.Func(func(_ context.Context, r *transforms.Record) ([]*transforms.Record, error) { return r.One(), nil })
	chain := &transforms.Chain{TimeOneIn: 16, Steps: []*transforms.Step{
		{Name: "a", Index: 0, Transform: pass}, {Name: "b", Index: 1, Transform: pass},
	}}
	var calls, timed int
	var first []time.Duration
	chain.Observe = func(_ *transforms.Step, d time.Duration, outputs int, _ error) {
		calls++
		if outputs != 1 {
			t.Errorf("%d outputs, want 1", outputs)
		}
		if len(first) < 2 {
			first = append(first, d)
		}
		if d >= 0 {
			timed++
		}
	}
	const runs = 3200
	for range runs {
		if _, err := chain.Run(context.Background(), &transforms.Record{Value: map[string]any{}}); err != nil {
			t.Fatal(err)
		}
	}
	if calls != 2*runs {
		t.Errorf("%d observations, want one per step and run: %d", calls, 2*runs)
	}
	if first[0] < 0 || first[1] < 0 {
		t.Errorf("the first run was not timed: %v", first)
	}
	// 200 expected; far outside a binomial's spread below 120 or above 300.
	if n := timed / 2; n < 120 || n > 300 {
		t.Errorf("%d of %d runs timed, want about one in 16", n, runs)
	}
}
