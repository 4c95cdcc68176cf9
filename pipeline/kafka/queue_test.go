package kafka

import (
	"math/rand/v2"
	"strconv"
	"testing"
)

// TestQueueOrder pushes, pops and filters at random against a slice kept
// as the reference: the items stay in push order, and what is taken off
// is no longer held by the storage.
func TestQueueOrder(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var q queue[*entry]
	var want []*entry
	for i := range 20000 {
		switch op := rng.IntN(100); {
		case op < 40 && len(want) > 0:
			if e := q.front(); e != want[0] {
				t.Fatalf("step %d: front is offset %d, want %d", i, e.offset, want[0].offset)
			}
			q.pop()
			want = want[1:]
		case op < 48 && len(want) > 0:
			n := 1 + rng.IntN(len(want))
			q.popN(n)
			want = want[n:]
		case op < 50:
			odd := func(e *entry) bool { return e.offset%2 == 1 }
			q.keep(odd)
			kept := []*entry{}
			for _, e := range want {
				if odd(e) {
					kept = append(kept, e)
				}
			}
			want = kept
		default:
			e := &entry{offset: int64(i)}
			q.push(e)
			want = append(want, e)
		}
		if q.len() != len(want) {
			t.Fatalf("step %d: len %d, want %d", i, q.len(), len(want))
		}
		for _, kept := range q.buf[:q.head] {
			if kept != nil {
				t.Fatalf("step %d: the storage still holds offset %d, taken off", i, kept.offset)
			}
		}
		for _, kept := range q.buf[len(q.buf):cap(q.buf)] {
			if kept != nil {
				t.Fatalf("step %d: the storage past the queue still holds offset %d", i, kept.offset)
			}
		}
	}
	for i, e := range q.items() {
		if e != want[i] {
			t.Fatalf("item %d is offset %d, want %d", i, e.offset, want[i].offset)
		}
	}
}

// TestQueueReusesStorage is why queue exists: a queue that keeps a
// steady number of items, never empty, allocates nothing once it has
// grown to them, whether it holds two items or a thousand.
func TestQueueReusesStorage(t *testing.T) {
	for _, depth := range []int{2, 3, 1000} {
		var q queue[*entry]
		e := &entry{}
		for range depth {
			q.push(e)
		}
		allocs := testing.AllocsPerRun(10000, func() {
			q.push(e)
			q.pop()
		})
		if allocs != 0 {
			t.Errorf("depth %d: %.2f allocations per push and pop, want 0", depth, allocs)
		}
		if q.len() != depth {
			t.Errorf("depth %d: len %d after the runs", depth, q.len())
		}
	}
}

// TestQueueBurstsReuseStorage is the loop's queue of records to hand
// out: bursts of pushes (polls) and of pops (batches taken) of uneven
// sizes. Once the storage has grown to twice the longest queue, it is
// never replaced.
func TestQueueBurstsReuseStorage(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	var q queue[pending]
	burst := func() {
		for range rng.IntN(600 - q.len()) {
			q.push(pending{gen: 1})
		}
		if n := q.len(); n > 0 {
			q.popN(1 + rng.IntN(n))
		}
	}
	for range 1000 {
		burst()
	}
	if allocs := testing.AllocsPerRun(1000, burst); allocs != 0 {
		t.Errorf("%.3f allocations per burst, want 0 (storage %d)", allocs, cap(q.buf))
	}
}

// BenchmarkQueueDeep is a long queue under a steady push and pop (a hot
// key's lane, a partition's log under load): each push must not copy the
// queue, so ns/op stays flat as the depth grows.
func BenchmarkQueueDeep(b *testing.B) {
	for _, depth := range []int{10, 1000, 100000} {
		b.Run("depth="+strconv.Itoa(depth), func(b *testing.B) {
			var q queue[*entry]
			e := &entry{}
			for range depth {
				q.push(e)
			}
			for b.Loop() {
				q.push(e)
				q.pop()
			}
		})
	}
}
