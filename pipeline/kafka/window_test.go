package kafka

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"
)

func rec(off int64, key string) *kgo.Record {
	r := &kgo.Record{Offset: off, LeaderEpoch: 3}
	if key != "" {
		r.Key = []byte(key)
	}
	return r
}

func offsets(es []*entry) []int64 {
	var out []int64
	for _, e := range es {
		out = append(out, e.rec.Offset)
	}
	return out
}

func TestWindowKeyOrdering(t *testing.T) {
	w := newWindow(OrderKey, 10)
	for i, k := range []string{"a", "b", "a", "", "b", "a"} {
		w.add(rec(int64(i), k), false)
	}
	got := w.next()
	if o := offsets(got); len(o) != 3 || o[0] != 0 || o[1] != 1 || o[2] != 3 {
		t.Fatalf("first wave %v, want [0 1 3]: one per key, keyless records free", o)
	}
	if w.next() != nil {
		t.Fatal("nothing else may run while a and b are busy")
	}
	w.ack(got[1]) // b@1 done: b@4 may run
	if o := offsets(w.next()); len(o) != 1 || o[0] != 4 {
		t.Fatalf("after acking b@1 got %v, want [4]", o)
	}
	if w.commit.Offset != -1 {
		t.Fatalf("offset 0 is still in flight; commit must not move, got %d", w.commit.Offset)
	}
	w.ack(got[0]) // a@0 done: commit moves to 2 (0 and 1 acked), a@2 may run
	if w.commit.Offset != 2 || w.commit.Epoch != 3 {
		t.Fatalf("commit %+v, want offset 2", w.commit)
	}
	if o := offsets(w.next()); len(o) != 1 || o[0] != 2 {
		t.Fatalf("want a@2 next, got %v", o)
	}
}

func TestWindowPartitionOrderingRunsOneAtATime(t *testing.T) {
	w := newWindow(OrderPartition, 10)
	for i := range 3 {
		w.add(rec(int64(i), "k"+string(rune('0'+i))), false)
	}
	for i := range 3 {
		got := w.next()
		if len(got) != 1 || got[0].rec.Offset != int64(i) {
			t.Fatalf("step %d: got %v", i, offsets(got))
		}
		if w.next() != nil {
			t.Fatal("a second record ran concurrently")
		}
		w.ack(got[0])
	}
	if w.commit.Offset != 3 {
		t.Fatalf("commit %d, want 3", w.commit.Offset)
	}
}

func TestWindowBoundsInFlight(t *testing.T) {
	w := newWindow(OrderNone, 4)
	for i := range 10 {
		w.add(rec(int64(i), "k"), false)
	}
	if n := len(w.next()); n != 4 {
		t.Fatalf("%d in flight, window is 4", n)
	}
	w.add(rec(5, "stale"), false) // at or below the last offset: ignored
	if w.buffered() != 10 {
		t.Fatalf("buffered %d", w.buffered())
	}
}

// Random acks in random order: the committed offset is always the end of
// the acked prefix, never past an unacked record, and per-key order holds.
func TestWindowCommitNeverPassesUnacked(t *testing.T) {
	for seed := range uint64(50) {
		rnd := rand.New(rand.NewPCG(seed, 1))
		w := newWindow(OrderKey, 1+rnd.IntN(8))
		const n = 300
		for i := range n {
			w.add(rec(int64(i*2), string(rune('a'+rnd.IntN(5)))), false) // gaps, as after compaction
		}
		acked := map[int64]bool{}
		lastByKey := map[string]int64{}
		var running []*entry
		for len(acked) < n {
			for _, e := range w.next() {
				k := string(e.rec.Key)
				if prev, ok := lastByKey[k]; ok && prev > e.rec.Offset {
					t.Fatalf("seed %d: key %s ran %d after %d", seed, k, e.rec.Offset, prev)
				}
				lastByKey[k] = e.rec.Offset
				running = append(running, e)
			}
			if len(running) == 0 {
				t.Fatalf("seed %d: stalled with %d acked", seed, len(acked))
			}
			i := rnd.IntN(len(running))
			e := running[i]
			running = append(running[:i], running[i+1:]...)
			w.ack(e)
			acked[e.rec.Offset] = true
			// Every offset below the commit point is acked.
			for off := int64(0); off < w.commit.Offset; off += 2 {
				if !acked[off] {
					t.Fatalf("seed %d: commit %d passes unacked %d", seed, w.commit.Offset, off)
				}
			}
		}
		if w.commit.Offset != 2*(n-1)+1 {
			t.Fatalf("seed %d: final commit %d", seed, w.commit.Offset)
		}
	}
}

// A stop before anything was handed out hands out nothing more: the
// window is finished at once, whatever it holds.
func TestWindowFinishBeforeHandOut(t *testing.T) {
	w := newWindow(OrderNone, 1)
	w.add(rec(0, ""), false)
	w.add(rec(1, ""), false)
	w.finish()
	if got := w.next(); got != nil || !w.finished() {
		t.Fatalf("handed out %v after a stop with none handed out before", offsets(got))
	}
}

// A bounded window takes the records of its range only; records done on
// arrival (control records, skipped ones) are never handed out but the
// prefix moves over them; it is complete once every record up to its end
// was taken in and settled, also when the last offsets are gone (a record
// past the end shows that).
func TestWindowBoundedRange(t *testing.T) {
	w := newWindow(OrderKey, 10)
	w.bound(&rangeProgress{Range: Range{Start: 5, End: 10}})
	if w.add(rec(4, "a"), false) != nil {
		t.Error("took a record before the start")
	}
	w.add(rec(5, "a"), false)
	w.add(rec(6, "a"), true) // done on arrival, behind 5
	w.add(rec(7, "b"), false)
	if got := offsets(w.next()); !slices.Equal(got, []int64{5, 7}) {
		t.Fatalf("handed out %v, want [5 7]", got)
	}
	if w.position() != 5 || w.complete() {
		t.Fatalf("position %d complete %v before any ack", w.position(), w.complete())
	}
	w.ack(w.log[0])
	if w.position() != 7 {
		t.Fatalf("position %d, want 7: 5 acked, 6 done on arrival", w.position())
	}
	if w.add(rec(12, "c"), false) != nil || !w.ended {
		t.Fatal("a record past the end was taken, or did not end the range")
	}
	if w.add(rec(13, "c"), false) != nil {
		t.Fatal("took a record after the end")
	}
	w.ack(w.log[0])
	if !w.complete() || w.position() != 10 {
		t.Fatalf("complete %v position %d, want the end 10", w.complete(), w.position())
	}
	empty := newWindow(OrderKey, 10)
	empty.bound(&rangeProgress{Range: Range{Start: 3, End: 3}})
	if !empty.complete() || empty.position() != 3 {
		t.Fatal("an empty range is complete at its start")
	}
}
