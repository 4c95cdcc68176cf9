package builtin

import (
	"context"
	"fmt"
	"runtime/metrics"
	"sync"
	"sync/atomic"
	"time"
)

// defaultJQSteps is jq's default max_steps: a million steps take some 0.1
// to 0.3 s and, for the programs that grow fastest (`def f: [f]; f`), some
// 60 MB of heap.
const defaultJQSteps = 1_000_000

// jqHeapGrowth is how much the heap may grow while one jq run is under
// way. gojq has no memory limit, and one step can double a string
// (`reduce range(40) as $i ("a"; . + .)`), so the step budget alone does
// not bound memory. The heap is the process's (its objects, garbage not
// yet collected included), read every millisecond while a run longer than
// jqWatchAfter steps is under way: other work that makes the heap grow by
// 256 MiB during one run fails it too, which a runner whose live heap is
// well under 256 MiB, with the default GOGC, does not do.
const (
	jqHeapGrowth = 256 << 20
	jqWatchAfter = 64
)

// jqSteps is the context a jq run gets: gojq calls Done before every
// instruction of its machine, so counting the calls counts the steps, and
// past a budget Done is a closed channel and Err says why. It is used by
// the goroutine that runs the program only (and close after the run), so
// it needs no lock.
type jqSteps struct {
	context.Context
	max, steps int
	heap       uint64 // the lowest heap seen since watching began
	watching   bool
	err        error
}

// errJQSteps is the error of a run past its step budget.
type errJQSteps struct{ max int }

func (e errJQSteps) Error() string {
	return fmt.Sprintf("more than %d steps (max_steps bounds the time and memory one record may take)", e.max)
}

var errJQHeap = fmt.Errorf("memory budget exceeded: the heap grew by more than %d MiB during the run", jqHeapGrowth>>20)

var closedDone = func() chan struct{} { c := make(chan struct{}); close(c); return c }()

func newJQSteps(ctx context.Context, max int) *jqSteps {
	return &jqSteps{Context: ctx, max: max}
}

func (c *jqSteps) Done() <-chan struct{} {
	if c.err != nil {
		return closedDone
	}
	c.steps++
	if c.steps > c.max {
		c.err = errJQSteps{c.max}
		return closedDone
	}
	// Most runs take fewer steps and never watch the heap.
	if c.steps >= jqWatchAfter {
		if !c.watching {
			c.watching = true
			c.heap = heapWatch.acquire()
		}
		switch h := heapWatch.heap.Load(); {
		case h < c.heap:
			c.heap = h
		case h-c.heap > jqHeapGrowth:
			c.err = errJQHeap
			return closedDone
		}
	}
	return c.Context.Done()
}

func (c *jqSteps) Err() error {
	if c.err != nil {
		return c.err
	}
	return c.Context.Err()
}

// close ends the run's watch of the heap.
func (c *jqSteps) close() {
	if c.watching {
		c.watching = false
		heapWatch.release()
	}
}

// heapWatch reads the heap every millisecond while some run watches it,
// and for a second after the last one, so that a run after another does
// not start it again.
var heapWatch watcher

type watcher struct {
	mu      sync.Mutex
	runs    atomic.Int64
	running bool
	heap    atomic.Uint64
}

const heapMetric = "/memory/classes/heap/objects:bytes"

func readHeap() uint64 {
	s := [1]metrics.Sample{{Name: heapMetric}}
	metrics.Read(s[:])
	return s[0].Value.Uint64()
}

// acquire starts a watch and returns the heap now.
func (w *watcher) acquire() uint64 {
	w.runs.Add(1)
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.running {
		w.running = true
		w.heap.Store(readHeap())
		go w.watch()
	}
	return w.heap.Load()
}

func (w *watcher) release() { w.runs.Add(-1) }

func (w *watcher) watch() {
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	for idle := 0; ; {
		<-tick.C
		w.heap.Store(readHeap())
		if w.runs.Load() > 0 {
			idle = 0
			continue
		}
		if idle++; idle >= 1000 {
			w.mu.Lock()
			if w.runs.Load() == 0 {
				w.running = false
				w.mu.Unlock()
				return
			}
			w.mu.Unlock()
			idle = 0
		}
	}
}
