package builtin_test

import (
	"context"
	"runtime"
	"runtime/metrics"
	"strings"
	"testing"
	"time"
)

// heapPeak runs f and returns the most the heap grew over what it was
// before, sampled every millisecond, and how long f took.
func heapPeak(f func()) (grew uint64, took time.Duration) {
	runtime.GC()
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	read := func() uint64 { metrics.Read(sample); return sample[0].Value.Uint64() }
	base := read()
	stop, done := make(chan struct{}), make(chan uint64)
	go func() {
		peak := base
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		for {
			peak = max(peak, read())
			select {
			case <-stop:
				done <- max(peak, read())
				return
			case <-tick.C:
			}
		}
	}()
	start := time.Now()
	f()
	took = time.Since(start)
	close(stop)
	return <-done - base, took
}

// TestBoundedEvaluation runs programs that would take all the memory
// there is: each must fail its record with a clear error, soon, with the
// heap bounded.
func TestBoundedEvaluation(t *testing.T) {
	// jq's bound is on the heap, read every millisecond: a program that
	// doubles a string or an array may grow it a doubling or two past 256
	// MiB before a read sees it (more under the race detector on a busy
	// machine), but not without end: unbounded, these take all the memory.
	const maxHeap = 2 << 30
	for _, c := range []struct {
		name, steps, in, err string
	}{
		{"jq deep recursion", `- jq: 'def f: if . > 0 then [(. - 1) | f] else . end; .n | f'`, `{"n":100000000}`,
			"step 0 (jq): jq: more than 1000000 steps"},
		{"jq endless recursion", `- jq: 'def f: [f]; f'`, `{}`,
			"step 0 (jq): jq: more than 1000000 steps"},
		{"jq endless loop", `- jq: '[range(1e12)] | length'`, `{}`,
			"step 0 (jq): jq: more than 1000000 steps"},
		{"jq smaller budget", `- jq: {program: 'def f: [f]; f', max_steps: 1000}`, `{}`,
			"step 0 (jq): jq: more than 1000 steps"},
		{"jq string doubling", `- jq: 'reduce range(40) as $i ("a"; . + .) | length'`, `{}`,
			"step 0 (jq): jq: memory budget exceeded: the heap grew by more than 256 MiB"},
		{"jq array doubling", `- jq: 'reduce range(40) as $i ([1]; . + .) | length'`, `{}`,
			"step 0 (jq): jq: memory budget exceeded: the heap grew by more than 256 MiB"},
		{"expr string doubling", `- set: {x: 'len(reduce(1..40, #acc + #acc, "a"))'}`, `{}`,
			"memory budget exceeded: a string of 33554432 bytes, more than 16777216"},
		{"expr repeat of a repeat", `- set: {x: 'len(repeat(repeat("a", 100000), 100000))'}`, `{}`,
			"memory budget exceeded: a string of 10000000000 bytes"},
		{"expr replace", `- set: {x: 'len(replace(repeat("a", 100000), "", repeat("b", 100000)))'}`, `{}`,
			"memory budget exceeded: a string of"},
		{"expr join", `- set: {x: 'let s = repeat("a", 100000); len(join(map(1..1000, s), s))'}`, `{}`,
			"memory budget exceeded: a string of"},
		{"expr concatenation of fields", `- set: {x: 'len(reduce(1..40, #acc + #acc, s))'}`, `{"s":"ab"}`,
			"memory budget exceeded: a string of 33554432 bytes"},
		{"expr range", `- set: {x: 'len(map(1..100000000, #))'}`, `{}`,
			"memory budget exceeded"},
	} {
		t.Run(c.name, func(t *testing.T) {
			chain := buildChain(t, c.steps)
			ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
			defer cancel()
			var err error
			grew, took := heapPeak(func() { _, err = chain.Run(ctx, record(t, c.in)) })
			t.Logf("failed in %v, heap grew %d MiB at most: %v", took.Round(time.Millisecond), grew>>20, err)
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Fatalf("got error %v, want %q", err, c.err)
			}
			if grew > maxHeap {
				t.Errorf("the heap grew %d MiB", grew>>20)
			}
			if took > 15*time.Second { // unbounded, they run until the context's end or out of memory
				t.Errorf("took %v", took)
			}
		})
	}
}

// TestBoundsLeaveNormalPrograms: the checks the bounds add change no result.
func TestBoundsLeaveNormalPrograms(t *testing.T) {
	chain := buildChain(t, `- set: {sum: 'a + b', cat: 's + "!" + s', rep: 'repeat(s, 3)', repl: 'replace(s, "b", "xyz")',
    repl2: 'replace(s, "b", "xyz", 1)', joined: 'join(l, "-")', joined2: 'join(l)', fs: 'a + 0.5', mixed: 'a + c'}`)
	got, err := runJSON(t, chain, `{"a":1,"b":2,"c":3,"s":"abb","l":["a","b","c"]}`)
	want := `{"a":1,"b":2,"c":3,"cat":"abb!abb","fs":1.5,"joined":"a-b-c","joined2":"abc","l":["a","b","c"],` +
		`"mixed":4,"rep":"abbabbabb","repl":"axyzxyz","repl2":"axyzb","s":"abb","sum":3}`
	if err != nil || len(got) != 1 || got[0] != want {
		t.Errorf("got %v, %v\nwant %s", got, err, want)
	}
	// A string of the largest size allowed can still be built.
	chain = buildChain(t, `- set: {n: 'len(s + s)'}`)
	got, err = runJSON(t, chain, `{"s":"`+strings.Repeat("a", 8<<20)+`"}`)
	if err != nil || len(got) != 1 || !strings.Contains(got[0], `"n":16777216`) {
		t.Errorf("got %.100v, %v", got, err)
	}
}

// TestJQLongRunWithinBounds: a long run that keeps its memory small is not
// stopped by the heap watch.
func TestJQLongRunWithinBounds(t *testing.T) {
	chain := buildChain(t, `- jq: {program: 'reduce range(50000) as $i (0; . + $i)', max_steps: 2000000}`)
	for range 3 {
		got, err := runJSON(t, chain, `{}`)
		if err != nil || len(got) != 1 || got[0] != "1249975000" {
			t.Fatalf("got %v, %v", got, err)
		}
	}
}
