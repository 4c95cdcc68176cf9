package kafka

import (
	"container/heap"
	"fmt"
	"math"

	"github.com/millrace-dev/millrace/pipeline/engine"
	"github.com/twmb/franz-go/pkg/kgo"
)

// Ordering says which records of a partition may be processed at once.
type Ordering int

const (
	// OrderKey processes records with the same key one at a time, in offset
	// order; records with different keys (or no key) run concurrently.
	OrderKey Ordering = iota
	// OrderPartition processes one record of a partition at a time.
	OrderPartition
	// OrderNone processes up to the window concurrently, in no order.
	OrderNone
)

// ParseOrdering reads "key", "partition" or "none".
func ParseOrdering(s string) (Ordering, error) {
	switch s {
	case "key", "":
		return OrderKey, nil
	case "partition":
		return OrderPartition, nil
	case "none":
		return OrderNone, nil
	}
	return 0, fmt.Errorf("unknown ordering %q: use key, partition or none", s)
}

func (o Ordering) String() string {
	return [...]string{"key", "partition", "none"}[o]
}

// entry is one polled record of a partition.
type entry struct {
	rec    *kgo.Record
	offset int64  // rec.Offset, kept here for the ready heap's comparisons
	lane   string // records of one lane run one at a time
	solo   bool   // no lane: may always run
	acked  bool
	// in is the record converted early, for Skip, with its Watermill
	// UUID id; nil until it is handed out.
	in *engine.Record
	id string
}

// window tracks the records of one partition from poll to commit (group
// mode) or to the end of its range (bounded-range mode). Records wait in
// their lane until the one before them is acked, and at most max run at
// once. The committable offset only moves over the contiguous prefix of
// acked records, so it never passes a record that is still in flight; in
// bounded-range mode that prefix is the range's progress.
//
// A window is used by one goroutine; it does no locking.
type window struct {
	ordering Ordering
	max      int

	log      []*entry            // every record not yet committed, in offset order
	lanes    map[string][]*entry // per lane, records waiting behind the running one
	ready    readyHeap           // may be handed out now, oldest first
	inflight int
	last     int64 // highest offset added, -1 for none

	commit    kgo.EpochOffset // next offset to commit; Offset -1 before any ack
	committed int64           // last offset committed to the broker, -1 for none
	revoked   bool            // no more records are handed out
	handed    int64           // highest offset handed out, -1 for none
	limit     int64           // only records up to it are handed out (math.MaxInt64 until a stop)

	// bounded-range mode
	prog   *rangeProgress // the range read, nil in group mode
	end    int64          // the range's exclusive end, -1 in group mode
	ended  bool           // every record below end was taken in
	paused bool           // fetching stopped at the end
}

func newWindow(ordering Ordering, max int) *window {
	return &window{ordering: ordering, max: max, lanes: map[string][]*entry{}, last: -1,
		commit: kgo.EpochOffset{Epoch: -1, Offset: -1}, committed: -1, handed: -1, limit: math.MaxInt64, end: -1}
}

// bound makes w read the range of p: records from its start, none at or
// after its end, the settled prefix starting at its start.
func (w *window) bound(p *rangeProgress) {
	w.prog, w.end = p, p.End
	w.last = p.Start - 1
	w.commit.Offset = p.Start
	w.ended = p.Start >= p.End
}

// add appends a polled record and returns its entry, or nil for a record
// not taken: at or below the last added offset (stale fetches after a
// rebalance), or at or after a range's end. A done record (a control
// record, one that is skipped) is settled on arrival: it is never handed
// out, and the prefix moves over it once the records before it are done.
func (w *window) add(r *kgo.Record, done bool) *entry {
	if r.Offset <= w.last || w.ended {
		return nil
	}
	if w.end >= 0 && r.Offset >= w.end {
		w.ended = true // offsets up to the end are gone (compaction)
		return nil
	}
	w.last = r.Offset
	w.ended = w.end >= 0 && r.Offset >= w.end-1
	e := &entry{rec: r, offset: r.Offset}
	w.log = append(w.log, e)
	if done {
		e.acked = true
		w.advance()
		return e
	}
	switch {
	case w.ordering == OrderNone, w.ordering == OrderKey && r.Key == nil:
		e.solo = true
	case w.ordering == OrderKey:
		e.lane = string(r.Key)
	}
	if e.solo {
		heap.Push(&w.ready, e)
		return e
	}
	q := w.lanes[e.lane]
	w.lanes[e.lane] = append(q, e)
	if len(q) == 0 {
		heap.Push(&w.ready, e)
	}
	return e
}

// next returns the records that may be handed out now, and marks them in
// flight.
func (w *window) next() []*entry {
	var out []*entry
	for len(w.ready) > 0 && w.inflight < w.max {
		if w.ready[0].rec.Offset > w.limit {
			break
		}
		e := heap.Pop(&w.ready).(*entry)
		out = append(out, e)
		w.inflight++
		w.handed = max(w.handed, e.rec.Offset)
	}
	return out
}

// finish limits the window to the records up to the highest one handed
// out (none, if none was): with concurrency, records after a waiting one
// may already be done, and handing out the waiting ones lets the committed
// offset reach them, so that a stop re-processes nothing.
func (w *window) finish() { w.limit = w.handed }

// finished reports whether nothing up to the limit is in flight or can
// still be handed out. A record abandoned after a nack, and those waiting
// behind it in its lane, stay uncommitted.
func (w *window) finished() bool {
	return w.inflight == 0 && (len(w.ready) == 0 || w.ready[0].rec.Offset > w.limit)
}

// ack marks e done, lets the next record of its lane run, and moves the
// committable offset over the acked prefix. It reports whether the
// committable offset moved.
func (w *window) ack(e *entry) bool {
	if e.acked {
		return false
	}
	e.acked = true
	w.inflight--
	if !e.solo {
		q := w.lanes[e.lane][1:]
		if len(q) == 0 {
			delete(w.lanes, e.lane)
		} else {
			w.lanes[e.lane] = q
			heap.Push(&w.ready, q[0])
		}
	}
	return w.advance()
}

// advance moves the committable offset over the acked prefix and reports
// whether it moved.
func (w *window) advance() bool {
	moved := false
	for len(w.log) > 0 && w.log[0].acked {
		r := w.log[0].rec
		w.commit = kgo.EpochOffset{Epoch: r.LeaderEpoch, Offset: r.Offset + 1}
		w.log[0] = nil
		w.log = w.log[1:]
		moved = true
	}
	return moved
}

// complete reports whether a bounded window's range is done: every record
// below its end was taken in and settled.
func (w *window) complete() bool { return w.ended && len(w.log) == 0 }

// position is a bounded window's first offset not done: its end once
// complete, else the end of its settled prefix.
func (w *window) position() int64 {
	if w.complete() {
		return w.end
	}
	return w.commit.Offset
}

// buffered is the number of records added and not yet acked.
func (w *window) buffered() int { return len(w.log) }

// dirty reports whether there is an offset to commit that was not yet.
func (w *window) dirty() bool { return w.commit.Offset > w.committed }

// readyHeap orders ready records by offset (container/heap), so that a
// record released by an ack does not overtake older ready records and the
// committable prefix grows as early as it can.
type readyHeap []*entry

func (h readyHeap) Len() int           { return len(h) }
func (h readyHeap) Less(i, j int) bool { return h[i].offset < h[j].offset }
func (h readyHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *readyHeap) Push(x any)        { *h = append(*h, x.(*entry)) }
func (h *readyHeap) Pop() any {
	old := *h
	e := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	return e
}
