package builtin

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/millrace-dev/millrace/transforms"
	"github.com/millrace-dev/millrace/transforms/codec"
	"github.com/millrace-dev/millrace/transforms/expression"
	"github.com/millrace-dev/millrace/transforms/transformstest"
)

var env = transformstest.Env{Exprs: expression.Compiler{}}

// newTestDedupe builds a dedupe step from its YAML config with a clock the
// test moves.
func newTestDedupe(t *testing.T, config string) (*dedupe, *time.Time) {
	t.Helper()
	d := env.MustChain(t, "- dedupe: "+config).Steps[0].Transform.(*dedupe)
	now := time.Date(2024, 3, 1, 10, 0, 0, 0, time.UTC)
	d.now = func() time.Time { return now }
	return d, &now
}

// passes runs a record with the JSON value through d.
func passes(t *testing.T, d *dedupe, js string, src transforms.Source) bool {
	t.Helper()
	v, err := codec.Decode([]byte(js))
	if err != nil {
		t.Fatal(err)
	}
	outs, err := d.Apply(context.Background(), &transforms.Record{Value: v, Source: src})
	if err != nil {
		t.Fatal(err)
	}
	return len(outs) == 1
}

// The spec declares window and max_entries' defaults once; the decoder
// applies them.
func TestDedupeDefaults(t *testing.T) {
	d, _ := newTestDedupe(t, `{key: id}`)
	if d.window != 10*time.Minute || d.max != 100000 {
		t.Errorf("window %s, max_entries %d; want the spec's defaults 10m and 100000", d.window, d.max)
	}
	d, _ = newTestDedupe(t, `{key: id, window: 1h}`)
	if d.window != time.Hour || d.max != 100000 {
		t.Errorf("window %s, max_entries %d", d.window, d.max)
	}
}

func TestDedupeWindow(t *testing.T) {
	d, now := newTestDedupe(t, `{key: id, window: 10m}`)
	var none transforms.Source
	for i, tc := range []struct {
		advance time.Duration
		in      string
		want    bool
	}{
		{0, `{"id":"a"}`, true},
		{0, `{"id":"a"}`, false},
		{time.Minute, `{"id":"b"}`, true},
		{8 * time.Minute, `{"id":"a"}`, false}, // 9m after the first a
		{59 * time.Second, `{"id":"a"}`, false},
		{time.Second, `{"id":"a"}`, true}, // 10m: forgotten, and seen anew
		{0, `{"id":"b"}`, false},          // 9m after the first b
		{time.Minute, `{"id":"b"}`, true}, // repeats did not extend b's window
		{0, `{"id":1}`, true},             // a number differs from its text
		{0, `{"id":"1"}`, true},
		{0, `{"id":1}`, false},
		{0, `{"id":{"x":1,"y":2}}`, true},
		{0, `{"id":{"y":2,"x":1}}`, false},
		{0, `{}`, true}, // null keys always pass
		{0, `{}`, true},
	} {
		*now = now.Add(tc.advance)
		if got := passes(t, d, tc.in, none); got != tc.want {
			t.Errorf("%d: %s passed %v, want %v", i, tc.in, got, tc.want)
		}
	}
}

func TestDedupeMaxEntries(t *testing.T) {
	d, _ := newTestDedupe(t, `{key: id, max_entries: 3}`)
	for _, id := range []string{"a", "b", "c", "d"} {
		if !passes(t, d, `{"id":"`+id+`"}`, transforms.Source{}) {
			t.Fatalf("first %s dropped", id)
		}
	}
	if d.order.Len() != 3 || len(d.seen) != 3 {
		t.Fatalf("remembers %d/%d keys, want 3", d.order.Len(), len(d.seen))
	}
	// a was forgotten to make room for d; b, c and d are remembered.
	if !passes(t, d, `{"id":"a"}`, transforms.Source{}) {
		t.Error("the oldest key was not forgotten")
	}
	for _, id := range []string{"c", "d", "a"} {
		if passes(t, d, `{"id":"`+id+`"}`, transforms.Source{}) {
			t.Errorf("repeat of %s passed", id)
		}
	}
}

// A retry of the record that first had a key must not be dropped as its own
// duplicate; another record with the key is.
func TestDedupeRetryPasses(t *testing.T) {
	d, _ := newTestDedupe(t, `{key: id}`)
	first := transforms.Source{Topic: "in", Partition: 1, Offset: 7}
	if !passes(t, d, `{"id":"a"}`, first) || !passes(t, d, `{"id":"a"}`, first) {
		t.Error("a retry of the first record was dropped")
	}
	for _, src := range []transforms.Source{{Topic: "in", Partition: 1, Offset: 8}, {Topic: "in", Partition: 2, Offset: 7}, {Topic: "other", Partition: 1, Offset: 7}} {
		if passes(t, d, `{"id":"a"}`, src) {
			t.Errorf("repeat from %+v passed", src)
		}
	}
}

func TestDedupeConcurrent(t *testing.T) {
	d, _ := newTestDedupe(t, `{key: id, max_entries: 50}`)
	var passed atomic.Int64
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 200 {
				v, _ := codec.Decode(fmt.Appendf(nil, `{"id":%d}`, (i+g)%100))
				outs, err := d.Apply(context.Background(), &transforms.Record{Value: v})
				if err != nil {
					t.Error(err)
					return
				}
				passed.Add(int64(len(outs)))
			}
		})
	}
	wg.Wait()
	if d.order.Len() > 50 || len(d.seen) != d.order.Len() {
		t.Errorf("remembers %d keys in the list and %d in the map, at most 50", d.order.Len(), len(d.seen))
	}
	if passed.Load() < 100 {
		t.Errorf("only %d records passed; every key passes at least once", passed.Load())
	}
}

func TestDedupeConfigErrors(t *testing.T) {
	for _, tc := range []struct{ steps, want string }{
		{`- dedupe: {key: id, window: 0s}`, "steps.yaml:1:29: window must be positive"},
		{`- dedupe: {key: id, max_entries: 0}`, "steps.yaml:1:34: max_entries must be at least 1"},
		{`- dedupe: {key: 'id +', window: -1m, max_entries: -1}`, `steps.yaml:1:21: invalid expression "id +": unexpected token EOF (see docs/expressions.md for the syntax, fields and functions)` + "\n" +
			"steps.yaml:1:33: window must be positive\nsteps.yaml:1:51: max_entries must be at least 1"},
		{`- dedupe: {window: 1m}`, "steps.yaml:1:11: missing required key \"key\" (add key: event_id)"},
		{`- dedupe: {key: id, window: 10}`, `steps.yaml:1:29: expected a duration such as 100ms or 5s, got "10" (use a number with a unit: ms, s, m or h)`},
		{`- dedupe: event_id`, "steps.yaml:1:11: expected a mapping, got a string"},
	} {
		if _, err := env.Chain(tc.steps); err == nil || err.Error() != tc.want {
			t.Errorf("%s:\ngot  %v\nwant %s", tc.steps, err, tc.want)
		}
	}
}
