package kafka

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"unsafe"

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
	got := w.next(nil)
	if o := offsets(got); len(o) != 3 || o[0] != 0 || o[1] != 1 || o[2] != 3 {
		t.Fatalf("first wave %v, want [0 1 3]: one per key, keyless records free", o)
	}
	if w.next(nil) != nil {
		t.Fatal("nothing else may run while a and b are busy")
	}
	w.ack(got[1]) // b@1 done: b@4 may run
	if o := offsets(w.next(nil)); len(o) != 1 || o[0] != 4 {
		t.Fatalf("after acking b@1 got %v, want [4]", o)
	}
	if w.commit.Offset != -1 {
		t.Fatalf("offset 0 is still in flight; commit must not move, got %d", w.commit.Offset)
	}
	w.ack(got[0]) // a@0 done: commit moves to 2 (0 and 1 acked), a@2 may run
	if w.commit.Offset != 2 || w.commit.Epoch != 3 {
		t.Fatalf("commit %+v, want offset 2", w.commit)
	}
	if o := offsets(w.next(nil)); len(o) != 1 || o[0] != 2 {
		t.Fatalf("want a@2 next, got %v", o)
	}
}

func TestWindowPartitionOrderingRunsOneAtATime(t *testing.T) {
	w := newWindow(OrderPartition, 10)
	for i := range 3 {
		w.add(rec(int64(i), "k"+string(rune('0'+i))), false)
	}
	for i := range 3 {
		got := w.next(nil)
		if len(got) != 1 || got[0].rec.Offset != int64(i) {
			t.Fatalf("step %d: got %v", i, offsets(got))
		}
		if w.next(nil) != nil {
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
	if n := len(w.next(nil)); n != 4 {
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
			for _, e := range w.next(nil) {
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
	if got := w.next(nil); got != nil || !w.finished() {
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
	if got := offsets(w.next(nil)); !slices.Equal(got, []int64{5, 7}) {
		t.Fatalf("handed out %v, want [5 7]", got)
	}
	if w.position() != 5 || w.complete() {
		t.Fatalf("position %d complete %v before any ack", w.position(), w.complete())
	}
	w.ack(w.log.front())
	if w.position() != 7 {
		t.Fatalf("position %d, want 7: 5 acked, 6 done on arrival", w.position())
	}
	if w.add(rec(12, "c"), false) != nil || !w.ended {
		t.Fatal("a record past the end was taken, or did not end the range")
	}
	if w.add(rec(13, "c"), false) != nil {
		t.Fatal("took a record after the end")
	}
	w.ack(w.log.front())
	if !w.complete() || w.position() != 10 {
		t.Fatalf("complete %v position %d, want the end 10", w.complete(), w.position())
	}
	empty := newWindow(OrderKey, 10)
	empty.bound(&rangeProgress{Range: Range{Start: 3, End: 3}})
	if !empty.complete() || empty.position() != 3 {
		t.Fatal("an empty range is complete at its start")
	}
}

// releaseNext hands out the one record w lets run, checks it is want,
// and releases it (its process call returned).
func releaseNext(t *testing.T, w *window, want int64) *entry {
	t.Helper()
	got := w.next(nil)
	if o := offsets(got); len(o) != 1 || o[0] != want {
		t.Fatalf("handed out %v, want [%d]", o, want)
	}
	w.release(got[0], got[0].gen)
	return got[0]
}

// With partition ordering, a released record lets the next one of the
// partition run before it is acked: several are handed out at once, in
// offset order, while the committable offset stays at the acked prefix.
func TestWindowPartitionPipelined(t *testing.T) {
	w := newWindow(OrderPartition, 3)
	for i := range 6 {
		w.add(rec(int64(i), "k"), false)
	}
	got := w.next(nil)
	if o := offsets(got); len(o) != 1 || o[0] != 0 {
		t.Fatalf("first hand-out %v, want [0]", o)
	}
	if w.next(nil) != nil {
		t.Fatal("the next record ran before the first was released")
	}
	w.release(got[0], got[0].gen)
	e1 := releaseNext(t, w, 1)
	e2 := releaseNext(t, w, 2)
	if w.next(nil) != nil || w.inflight != 3 {
		t.Fatalf("max in flight 3 passed: %d in flight", w.inflight)
	}
	w.ack(e2)
	w.ack(e1)
	if w.commit.Offset != -1 {
		t.Fatalf("commit %d passes unacked offset 0", w.commit.Offset)
	}
	releaseNext(t, w, 3)
	w.ack(got[0])
	if w.commit.Offset != 3 {
		t.Fatalf("commit %d, want 3", w.commit.Offset)
	}
}

// A record of a pipelined lane settled as not done rewinds the lane: once
// the records handed out after it have settled, it and they run again in
// offset order, one at a time until the lane is back where it was; the
// settlements and releases of the runs from before are ignored.
func TestWindowRewind(t *testing.T) {
	w := newWindow(OrderPartition, 10)
	for i := range 6 {
		w.add(rec(int64(i), "k"), false)
	}
	var es []*entry
	for i := range 4 {
		es = append(es, releaseNext(t, w, int64(i)))
	}
	w.ack(es[0])
	w.settle(es[1], 0, false) // 1 failed
	if w.next(nil) != nil {
		t.Fatal("a rewinding lane handed out a record")
	}
	w.ack(es[3]) // done in its old run: runs again all the same
	if len(w.rewinds) != 0 {
		t.Fatal("rewind scheduled while 2 is in flight")
	}
	w.settle(es[2], 0, false)
	if len(w.rewinds) != 1 || w.next(nil) != nil {
		t.Fatalf("%d rewinds scheduled once all settled, want 1, and nothing handed out during the pause", len(w.rewinds))
	}
	w.resume(w.rewinds[0])
	w.rewinds = w.rewinds[:0]
	r1 := releaseNext(t, w, 1)
	if w.next(nil) != nil {
		t.Fatal("a rewound record ran before the one before it was acked")
	}
	// Late settlements of the first runs change nothing.
	w.ack(&entry{}) // not handed out
	if w.settle(es[2], 0, true) || w.settle(es[3], 0, true) {
		t.Fatal("a settlement of an old run moved the commit")
	}
	w.release(es[2], 0)
	if w.next(nil) != nil {
		t.Fatal("a release of an old run let a record run")
	}
	w.ack(r1)
	r2 := releaseNext(t, w, 2)
	w.ack(r2)
	r3 := releaseNext(t, w, 3)
	w.ack(r3)
	if w.commit.Offset != 4 {
		t.Fatalf("commit %d, want 4", w.commit.Offset)
	}
	// Past where the lane had got, it is pipelined again.
	releaseNext(t, w, 4)
	releaseNext(t, w, 5)
}

// Random releases, acks and failures in random order, with key ordering:
// each key's records start their runs in offset order, a rewind starting
// again from the earliest failed one; the commit never passes an unacked
// record; everything is acked in the end.
//
// Odd seeds add the records a few at a time as the others settle, with
// more keys: lanes then empty, are dropped and serve later keys, with the
// queue storage they grew.
func TestWindowPipelinedRandom(t *testing.T) {
	for seed := range uint64(100) {
		rnd := rand.New(rand.NewPCG(seed, 2))
		w := newWindow(OrderKey, 1+rnd.IntN(8))
		const n = 200
		keys, added := 3, n
		if seed%2 == 1 {
			keys, added = 12, 0
		}
		perKey := map[string]int{}
		add := func(upTo int) {
			for ; added < upTo && added < n; added++ {
				k := string(rune('a' + rnd.IntN(keys)))
				perKey[k]++
				w.add(rec(int64(added), k), false)
			}
		}
		for i := range n {
			if seed%2 == 0 {
				k := string(rune('a' + rnd.IntN(keys)))
				perKey[k]++
				w.add(rec(int64(i), k), false)
			}
		}
		acked := map[int64]bool{}
		started := map[string][]int64{} // per key, the offsets in the order they ran
		var out []*entry
		gens := map[*entry]int{}
		for steps := 0; w.commit.Offset < n; steps++ {
			if steps > 100000 {
				t.Fatalf("seed %d: stalled at commit %d", seed, w.commit.Offset)
			}
			add(added + rnd.IntN(4))
			for _, e := range w.next(nil) {
				k := string(e.rec.Key)
				started[k] = append(started[k], e.offset)
				gens[e] = e.gen
				out = append(out, e)
			}
			for _, l := range w.rewinds {
				w.resume(l)
			}
			w.rewinds = w.rewinds[:0]
			if len(out) == 0 {
				continue
			}
			i := rnd.IntN(len(out))
			e := out[i]
			switch r := rnd.IntN(10); {
			case r < 4:
				w.release(e, gens[e])
				continue
			case r < 9:
				w.settle(e, gens[e], true)
			default:
				w.settle(e, gens[e], false)
			}
			out = append(out[:i], out[i+1:]...)
			if e.acked {
				acked[e.offset] = true
			}
			for off := int64(0); off < w.commit.Offset; off++ {
				if !acked[off] {
					t.Fatalf("seed %d: commit %d passes unacked %d", seed, w.commit.Offset, off)
				}
			}
		}
		for k, offs := range started {
			// Each run of a key starts the key's record after the one
			// before, or goes back (a rewind); it never skips one.
			idx := map[int64]int{}
			for _, o := range slices.Compact(slices.Sorted(slices.Values(offs))) {
				idx[o] = len(idx)
			}
			for i := 1; i < len(offs); i++ {
				if idx[offs[i]] > idx[offs[i-1]]+1 {
					t.Fatalf("seed %d key %s skipped a record: %v", seed, k, offs)
				}
			}
			if len(idx) != perKey[k] {
				t.Fatalf("seed %d key %s: %d records ran, want all", seed, k, len(idx))
			}
		}
	}
}

// BenchmarkWindow runs a window as a stream does in steady state: polls
// of records added at once, each handed out, released and acked in turn,
// the settled prefix's entries recycled for the next records (so the
// garbage of a never-recycled window does not weigh in). Keys are drawn
// at random from 830, a partition's share of test/bench's 10,000 users
// over 12 partitions, so that about a quarter of the records find their
// key's lane in use, as there. One op is one record: add, hand out,
// release, ack.
func BenchmarkWindow(b *testing.B) {
	const poll = 512
	keys := make([][]byte, 830)
	for i := range keys {
		keys[i] = fmt.Appendf(nil, "user-%05d", i*12)
	}
	rnd := rand.New(rand.NewPCG(3, 4))
	recs := make([]kgo.Record, 4*poll)
	var free []*entry
	w := newWindow(OrderKey, 256)
	w.drain, w.free = true, &free
	var ready []*entry
	var inflight queue[*entry] // as the window's own queues: the bench's garbage is not counted
	off := int64(0)
	b.ReportAllocs()
	for b.Loop() {
		if off%poll == 0 {
			// A poll: its records are added at once; the window then
			// hands out what it may.
			for i := range int64(poll) {
				r := &recs[(off+i)%int64(len(recs))]
				*r = kgo.Record{Offset: off + i, Key: keys[rnd.IntN(len(keys))]}
				w.add(r, false)
			}
		}
		off++
		ready = w.next(ready[:0])
		for _, e := range ready {
			w.release(e, e.gen)
			inflight.push(e)
		}
		if inflight.len() > 0 {
			w.ack(inflight.front())
			inflight.pop()
		}
		for i, e := range w.drained {
			gen := e.gen + 1
			*e = entry{gen: gen, first: gen}
			free = append(free, e)
			w.drained[i] = nil
		}
		w.drained = w.drained[:0]
	}
}

// The ready heap pops in offset order, with items taken out between.
func TestReadyHeap(t *testing.T) {
	rnd := rand.New(rand.NewPCG(1, 2))
	var h readyHeap
	var want []int64
	for range 500 {
		off := rnd.Int64N(1000)
		h.push(&entry{offset: off})
		want = append(want, off)
	}
	kept := h[:0]
	for _, it := range h {
		if it.offset%3 != 0 {
			kept = append(kept, it)
		}
	}
	h = kept
	h.init()
	want = slices.DeleteFunc(want, func(o int64) bool { return o%3 == 0 })
	slices.Sort(want)
	var got []int64
	for len(h) > 0 {
		got = append(got, h.pop().offset)
	}
	if !slices.Equal(got, want) {
		t.Errorf("popped %v, want %v", got, want)
	}
}

// A lane whose records are all acked serves a later key; the late release
// of its old key's record (settled before its worker released it) leaves
// the new key's turn alone.
func TestWindowLaneReused(t *testing.T) {
	w := newWindow(OrderKey, 10)
	a := w.add(rec(0, "a"), false)
	w.next(nil)
	gen := a.gen
	w.ack(a) // acked before its release: lane a is dropped
	if len(w.lanes) != 0 || len(w.spareLanes) != 1 {
		t.Fatalf("lanes %d, spare %d after a's only record was acked; want 0 and 1", len(w.lanes), len(w.spareLanes))
	}
	spare := w.spareLanes[0]
	b1 := w.add(rec(1, "b"), false)
	w.add(rec(2, "b"), false)
	if b1.lane != spare || b1.lane.key != laneKey([]byte("b")) {
		t.Fatalf("b's lane is not the dropped one, or keeps its old key %x", b1.lane.key)
	}
	if o := offsets(w.next(nil)); !slices.Equal(o, []int64{1}) {
		t.Fatalf("handed out %v, want b@1 alone", o)
	}
	w.release(a, gen) // late: a is settled
	if o := offsets(w.next(nil)); len(o) != 0 {
		t.Fatalf("a's late release let %v run beside b@1", o)
	}
	w.release(b1, b1.gen)
	if o := offsets(w.next(nil)); !slices.Equal(o, []int64{2}) {
		t.Fatalf("after b@1's release %v, want b@2", o)
	}
}

// A dropped lane holds no entries, whether the window keeps it or not:
// its acked entries still point to it, and entries share a slab, so a lane
// that held on to entries (in its room, once its queue had outgrown it)
// chained every slab, and the fetched records each entry points to, to the
// newest one: a subscription's memory grew with every record it consumed.
func TestWindowDroppedLaneLetsGo(t *testing.T) {
	keys, per := maxSpareLanes+8, 3 // more records than a lane's room
	w := newWindow(OrderKey, keys)
	var es []*entry
	for i := range keys * per {
		es = append(es, w.add(rec(int64(i), fmt.Sprint("k", i%keys)), false))
	}
	for range per {
		out := w.next(nil)
		if len(out) != keys {
			t.Fatalf("handed out %d, want one of each of %d keys", len(out), keys)
		}
		for _, e := range out {
			w.ack(e)
		}
	}
	if len(w.lanes) != 0 || len(w.spareLanes) != maxSpareLanes || w.log.len() != 0 {
		t.Fatalf("lanes %d, spare %d, log %d; want 0, %d, 0", len(w.lanes), len(w.spareLanes), w.log.len(), maxSpareLanes)
	}
	for _, e := range es {
		l := e.lane
		if l.q.len() != 0 || l.room != [2]*entry{} || slices.ContainsFunc(l.q.buf[:cap(l.q.buf)], func(e *entry) bool { return e != nil }) {
			t.Fatalf("the dropped lane of offset %d still holds entries (queue %v, room %v)", e.offset, l.q.buf[:cap(l.q.buf)], l.room)
		}
	}
	// A kept lane keeps its grown storage, empty, for the next key.
	l := w.newLane(laneKey([]byte("new")))
	if cap(l.q.buf) <= len(l.room) {
		t.Fatalf("a kept lane's queue has room for %d records, not its grown storage", cap(l.q.buf))
	}
}

// TestEntryLayout checks what the entry's layout is for: its size is
// entrySize, the fields read for every record lie in its first 64 bytes,
// and a slab's entries each start a cache line.
func TestEntryLayout(t *testing.T) {
	if n := unsafe.Sizeof(entry{}); n != entrySize {
		t.Fatalf("an entry is %d bytes, want entrySize %d: change entryPad by %d", n, entrySize, int(entrySize)-int(n))
	}
	var e entry
	if end := unsafe.Offsetof(e.poisoned) + unsafe.Sizeof(e.poisoned); end > 64 {
		t.Fatalf("the per-record fields end at byte %d, past the first line", end)
	}
	w := newWindow(OrderKey, 8)
	for range 3 {
		if a := uintptr(unsafe.Pointer(w.newEntry())); a%64 != 0 {
			t.Fatalf("an entry starts at %#x, not at a line", a)
		}
	}
}
