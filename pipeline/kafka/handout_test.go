package kafka

import (
	"testing"

	"github.com/millrace-dev/millrace/pipeline/engine"
)

// The hand-out queue gives its records to the workers in order, in batches
// of at most workBatch, and, once it has grown to what is queued at most,
// hands out and queues without allocating: its storage is reused, and so
// are the batches.
func TestHandOutQueueOrderAndAllocations(t *testing.T) {
	s := &stream{}
	w := newWindow(OrderKey, 1)
	next, want := 0, 0 // the sequence numbers queued and taken
	queue := func(n int) {
		for range n {
			s.toSend.push(pending{w: w, gen: next})
			next++
		}
	}
	take := func() {
		b := s.batch()
		if len(b.ps) == 0 || len(b.ps) > workBatch {
			t.Fatalf("a batch of %d records", len(b.ps))
		}
		s.batchTaken()
		for _, p := range b.ps {
			if p.gen != want {
				t.Fatalf("handed out %d, want %d", p.gen, want)
			}
			want++
		}
		b.recycle()
	}
	// The queue never empties: its front moves through its storage.
	queue(workBatch + 7)
	round := func() {
		queue(workBatch)
		take()
	}
	for range 50 {
		round() // the queue's storage grows to its most
	}
	rounds := func() { // AllocsPerRun rounds down: many rounds a run
		for range 50 {
			round()
		}
	}
	if raceEnabled || testing.CoverMode() != "" {
		rounds() // the order, without counting allocations
	} else if allocs := testing.AllocsPerRun(20, rounds); allocs != 0 {
		t.Errorf("%.0f allocations per %d records", allocs, 50*workBatch)
	}
	for s.toSend.len() > 0 {
		take()
	}
	if want != next {
		t.Fatalf("took %d of %d records", want, next)
	}
}

// A batch withdrawn because the queue's front changed is made again from
// the queue: nothing dropped from the queue is handed out.
func TestHandOutUnbatch(t *testing.T) {
	s := &stream{}
	w := newWindow(OrderKey, 1)
	for i := range 5 {
		s.toSend.push(pending{e: &entry{solo: true}, w: w, gen: i, cancel: noCancel})
	}
	if n := len(s.batch().ps); n != 5 {
		t.Fatalf("offered %d, want 5", n)
	}
	s.dropQueued(func(p pending) bool { return p.gen%2 == 0 })
	b := s.batch()
	s.batchTaken()
	var got []int
	for _, p := range b.ps {
		got = append(got, p.gen)
	}
	if len(got) != 2 || got[0] != 1 || got[1] != 3 || s.toSend.len() != 0 {
		t.Fatalf("handed out %v, left %d; want [1 3] and none", got, s.toSend.len())
	}
}

// An entry's settle function is made once and serves each of its
// hand-outs; it settles the run it was handed out for.
func TestSettlerAllocations(t *testing.T) {
	s := &stream{acks: newAckQueue()}
	w := newWindow(OrderKey, 1)
	e := &entry{}
	rec := &engine.Record{}
	if allocs := testing.AllocsPerRun(100, func() { s.settler(pending{e: e, w: w, gen: 2}, rec) }); allocs != 0 && !raceEnabled {
		t.Errorf("%.1f allocations per hand-out", allocs)
	}
	settle := s.settler(pending{e: e, w: w, gen: 3}, rec)
	settle(engine.Result{Done: true})
	evs := s.acks.take(nil)
	if len(evs) != 1 || evs[0].e != e || evs[0].w != w || evs[0].gen != 3 || evs[0].rec != rec || evs[0].nack {
		t.Fatalf("settled %+v, want e's run 3, done", evs)
	}
}
