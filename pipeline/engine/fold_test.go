package engine_test

import (
	"testing"
	"time"

	"github.com/millrace-dev/millrace/pipeline/engine"
	"github.com/millrace-dev/millrace/transforms"
)

// Renames and removals of top-level fields at the end of a chain are
// applied by the splice when nothing else names those fields: the steps
// are not run, but they are observed as applied, untimed.
func TestFold(t *testing.T) {
	for _, c := range []struct {
		steps  string
		folded int
	}{
		{`[{filter: 'amount > 0'}, {set: {total_cents: 'int(amount * 100)'}}, {rename: {user: user_id}}, {drop: [debug]}]`, 2},
		{`[{set: {n: 'a'}}, {rename: {b: b2, e: e2}}, {drop: [z]}]`, 2},
		{`[{rename: {a: b, c: e}}, {drop: [d]}]`, 1},         // the route reads c
		{`[{rename: {a: b}}, {rename: {b: x}}]`, 0},          // b twice
		{`[{rename: {b: a, a: b}}]`, 0},                      // a swap is two renames of the same names
		{`[{keep: [a, b]}, {rename: {a: a2}}]`, 0},           // keep removes what the rename would move
		{`[{rename: {a: b}}, {set: {x: 'b'}}]`, 0},           // not at the end
		{`[{rename: {a: b}, when: 'amount > 1'}]`, 0},        // a `when` decides per record
		{`[{rename: {a: n.b}}, {drop: [d.e]}]`, 0},           // nested paths
		{`[{set: {z: '1'}}, {drop: [z]}]`, 0},                // z is set before
		{`[{filter: 'user != ""'}, {rename: {user: u}}]`, 0}, // the filter reads user
	} {
		e := newEngine(t, pipelineYAML(c.steps), discard{}, nil)
		if !e.Spliced() || e.Folded() != c.folded {
			t.Errorf("%s: spliced %v, %d steps folded, want %d", c.steps, e.Spliced(), e.Folded(), c.folded)
		}
	}

	type seen struct {
		step  string
		timed bool
	}
	var runs []seen
	e := newEngine(t, benchYAML, discard{}, func(c *engine.Config) {
		c.Observer = stepRecorder{f: func(s *transforms.Step, d time.Duration, outs int, err error) {
			runs = append(runs, seen{s.Name, d >= 0})
			if outs != 1 || err != nil {
				t.Errorf("step %s observed with %d outputs, error %v", s.Name, outs, err)
			}
		}}
	})
	res := process(e, &engine.Record{Topic: "in", Value: []byte(benchEvent)})
	want := `{"id":"evt-0000000042","amount":129.9,"currency":"EUR","country":"DE","status":"paid","channel":"web","items":3,"ts":1709283600123,"total_cents":12990,"user_id":"user-01337"}`
	if len(res.Outputs) != 1 || string(res.Outputs[0].Value) != want {
		t.Fatalf("got %+v, want %s", res, want)
	}
	if len(runs) != 4 || runs[2] != (seen{"rename", false}) || runs[3] != (seen{"drop", false}) || runs[0].step != "filter" {
		t.Errorf("steps observed: %+v", runs)
	}
}

// stepRecorder is an Observer that hears only the steps.
type stepRecorder struct {
	engine.NoObserver
	f func(*transforms.Step, time.Duration, int, error)
}

func (r stepRecorder) StepObserver() func(*transforms.Step, time.Duration, int, error) { return r.f }
