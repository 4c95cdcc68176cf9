package kafka

import (
	"fmt"
	"hash/maphash"
	"math"

	"github.com/millrace-dev/millrace/pipeline/engine"
	"github.com/millrace-dev/millrace/transforms"
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
	// What the loop and the window read of every record comes first, in
	// one 64-byte line: entries are entrySize bytes, so each starts a line
	// in its slab (TestEntryLayout). The rest is read once or twice.
	rec    *kgo.Record
	offset int64 // rec.Offset, kept here for the ready heap's comparisons
	lane   *lane // nil for a record with no lane (solo)
	// gen counts the runs of the record: a rewind starts a new one, and
	// the settlements and releases of an older run are ignored. first is
	// the gen of its first run: a recycled entry (recycle.go) counts on
	// from its last record's, so that a late event of that one never
	// matches.
	gen int
	// The window, run and record of its hand-out in flight, for Consume's
	// settle function (settler).
	runW     *window
	runGen   int
	runRec   *engine.Record
	state    entryState
	solo     bool // no lane: may always run
	acked    bool
	counted  bool // its first ack was counted (Progress)
	poisoned bool // see crashes

	first int
	// last is the engine record it was last handed out as, for a rewind.
	last *engine.Record
	// Consume's settle function of the entry, made once (settler).
	settle func(engine.Result)
	// in is the record converted early, for Skip, with its Watermill
	// UUID id; nil until it is handed out.
	in *engine.Record
	id string
	// poisoned: the runner died crashes times in a row while this record
	// was in flight (see crash.go); it goes to Poisoned, unprocessed, as a
	// record with no lane.
	crashes int
	// conv is the storage of its engine record (fromKafka), and headers
	// of its headers when they are few, allocated with the entry.
	conv    engine.Record
	headers [4]transforms.Header
	_       [entryPad]byte
}

// entrySize is an entry's size in bytes, a multiple of a cache line, and
// entryPad the padding that makes it so.
const (
	entrySize = 512
	entryPad  = 32
)

// entryState is where a record of a lane is between its hand-outs.
type entryState uint8

const (
	idle     entryState = iota // not handed out, or settled
	queued                     // in the ready heap, its lane's turn taken
	running                    // handed out, its turn not over
	released                   // handed out, its turn over, not settled yet
)

// lane is the records of one key (ordering: key) or of the partition
// (ordering: partition) that are not yet part of the acked prefix of the
// lane, in offset order. One record of a lane has the turn at a time; its
// turn ends when it is released (its outputs handed to the producer, in
// order: see ConcurrentSubscriberConfig.Pipelined) or settled, and then
// the next one may run, up to the window's max in flight. A record
// settled as not done rewinds the lane: once every record of the lane
// still handed out has settled, and after a pause, it and the records
// after it that were handed out run again, in offset order, one at a time
// (each waiting for the settlement of the one before) up to where the
// lane had got; then the lane is pipelined again.
type lane struct {
	key     uint64        // its key's laneKey
	q       queue[*entry] // records not yet acked, in offset order: q[:next] queued or handed out since the last rewind
	next    int
	out     int   // records of q queued or handed out and not settled
	busy    bool  // a record has the turn
	rewind  bool  // a record failed: run q[:next] again
	pausing bool  // the rewind waits for its pause (the loop resumes it)
	careful int64 // records up to this offset run one at a time (after a rewind)
	// room is q's storage while the lane holds few records, as most do
	// under ordering: key, so that queuing them allocates nothing.
	room [2]*entry
}

// window tracks the records of one partition from poll to commit (group
// mode) or to the end of its range (bounded-range mode). The records of a
// lane run one at a time in offset order (see lane), and at most max run
// or wait for their settlement at once. The committable offset only moves
// over the contiguous prefix of acked records, so it never passes a record
// that is still in flight; in bounded-range mode that prefix is the
// range's progress.
//
// A window is used by one goroutine; it does no locking.
type window struct {
	ordering  Ordering
	max       int
	partition int32 // its partition, so that an event names it without reading the record

	log   queue[*entry]    // every record not yet committed, in offset order
	lanes map[uint64]*lane // lanes with records not yet acked, by laneKey
	// spareLanes are dropped lanes, for newLane.
	spareLanes []*lane
	ready      readyHeap // may be handed out now, oldest first
	inflight   int       // handed out and not settled
	last       int64     // highest offset added, -1 for none
	rewinds    []*lane   // lanes whose rewind waits for its pause, for the loop to resume
	slab       []entry   // entries not used yet (newEntry)
	// drain keeps the entries advance moves the prefix over in drained,
	// for the loop to recycle with their records (recycle.go); free are
	// the recycled ones, for newEntry: the stream's, shared by its windows
	// so that what they keep is the stream's peak, not each partition's.
	drain   bool
	drained []*entry
	free    *[]*entry

	commit    kgo.EpochOffset // next offset to commit; Offset -1 before any ack
	committed int64           // last offset committed to the broker, -1 for none
	revoked   bool            // no more records are handed out
	handed    int64           // highest offset handed out, -1 for none
	limit     int64           // only records up to it are handed out (math.MaxInt64 until a stop, a pause or a stall): relimit
	hold      int64           // finish's part of the limit, math.MaxInt64 for none
	stall     int64           // the offset of the record the partition is stalled on (stall.go), -1 for none

	// group mode's crash detection (crash.go)
	crash     *crashState // the crash count read on assignment, nil for none
	crashSeen bool        // the first record was added: crash applies to it or to none
	gate      int64       // the record at this offset runs alone, -1 for none; the loop lifts it

	// bounded-range mode
	prog   *rangeProgress // the range read, nil in group mode
	end    int64          // the range's exclusive end, -1 in group mode
	ended  bool           // every record below end was taken in
	paused bool           // fetching stopped at the end
}

func newWindow(ordering Ordering, max int) *window {
	return &window{ordering: ordering, max: max, lanes: map[uint64]*lane{}, last: -1,
		commit: kgo.EpochOffset{Epoch: -1, Offset: -1}, committed: -1, handed: -1, limit: math.MaxInt64, hold: math.MaxInt64, end: -1, gate: -1, stall: -1}
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
	e := w.newEntry()
	e.rec, e.offset = r, r.Offset
	w.log.push(e)
	if c := w.crash; c != nil && !w.crashSeen {
		// The first record since the assignment: the counted one, unless
		// that is gone (retention, compaction) or a control record.
		w.crashSeen = true
		switch {
		case r.Offset != c.offset || done:
		case c.dead:
			e.poisoned, e.crashes, e.solo = true, c.crashes, true
			w.ready.push(e)
			return e
		case c.alone:
			w.gate = r.Offset
		}
	}
	if done {
		e.acked = true
		w.advance()
		return e
	}
	var key uint64 // ordering partition: one lane, 0
	switch {
	case w.ordering == OrderNone, w.ordering == OrderKey && r.Key == nil:
		e.solo = true
		w.ready.push(e)
		return e
	case w.ordering == OrderKey:
		key = laneKey(r.Key)
	}
	l := w.lanes[key]
	if l == nil {
		l = w.newLane(key)
		w.lanes[key] = l
	}
	e.lane = l
	l.q.push(e)
	w.kick(l)
	return e
}

// entrySlab is how many entries a window allocates at once: one
// allocation for many records instead of two for each (the entry and its
// engine record, which lives in it). 64 entries are 32 KiB, which Go
// allocates as a large object, page-aligned, so that each entry starts a
// cache line (a smaller object with pointers starts 8 bytes past one,
// after its allocation header; TestEntryLayout checks).
const entrySlab = 64

func (w *window) newEntry() *entry {
	if w.free != nil && len(*w.free) > 0 {
		free := *w.free
		e := free[len(free)-1]
		free[len(free)-1] = nil
		*w.free = free[:len(free)-1]
		return e
	}
	if len(w.slab) == 0 {
		w.slab = make([]entry, entrySlab)
	}
	e := &w.slab[0]
	w.slab = w.slab[1:]
	return e
}

// laneSeed seeds laneKey.
var laneSeed = maphash.MakeSeed()

// laneKey is the lane of a record key: a 64-bit hash, so that a lane
// costs no copy of its key and its map is keyed by an integer. Two keys
// with the same hash (about one pair in 10^19 at a window's few hundred
// keys) share a lane: their records then run one at a time in offset
// order, which is more order than asked for, never less.
func laneKey(key []byte) uint64 { return maphash.Bytes(laneSeed, key) }

// newLane is an empty lane for key: one the window dropped, when it kept
// some.
func (w *window) newLane(key uint64) *lane {
	var l *lane
	if n := len(w.spareLanes); n > 0 {
		l = w.spareLanes[n-1]
		w.spareLanes[n-1] = nil
		w.spareLanes = w.spareLanes[:n-1]
	} else {
		l = new(lane)
	}
	l.key, l.careful = key, -1
	if l.q.buf == nil {
		l.q.buf = l.room[:0]
	}
	return l
}

// maxSpareLanes bounds the lanes a window keeps for newLane: as many as
// the keys of the records it usually holds (polled, not yet acked; about
// 2 × max_in_flight, whose default is 256), so that a steady stream of
// keys allocates no lanes, at 96 bytes a lane.
const maxSpareLanes = 1024

// dropLane takes l, whose records are all acked, out of the window, and
// keeps it for a later key. Its acked entries still point to it, but
// nothing reads the lane of an acked entry: their late releases and
// settlements are ignored (release, settle).
//
// l is emptied even when it is not kept: its acked entries keep it
// alive, and entries share their slab (newEntry), so a lane left holding
// entries (in its room, once its queue had outgrown it) chained every
// slab, with the fetched records they point to, to the newest one: a
// Subscribe's memory grew with every record consumed (Consume recycles
// its entries, which cuts the chain).
//
// A kept lane keeps its queue's storage when the queue outgrew the room
// (up to maxLaneStorage records): it is empty, its slots cleared as its
// records were taken off, so it holds no entry.
func (w *window) dropLane(l *lane) {
	delete(w.lanes, l.key)
	grown := l.q.buf[:0]
	*l = lane{}
	if len(w.spareLanes) < maxSpareLanes {
		if c := cap(grown); c > len(l.room) && c <= maxLaneStorage {
			l.q.buf = grown
		}
		w.spareLanes = append(w.spareLanes, l)
	}
}

// maxLaneStorage bounds the queue storage a kept lane keeps: enough for
// the few records a key usually has at once, so that what a window's
// spare lanes hold stays under maxSpareLanes × 160 bytes however bursty
// its keys were once.
const maxLaneStorage = 8

// kick gives the turn of l to its next record, if it may run: no record
// has the turn, the lane is not rewinding, and (up to where a rewind
// runs records one at a time) every record handed out before is settled.
// A rewinding lane whose records have all settled is put on rewinds, for
// the loop to resume after its pause.
func (w *window) kick(l *lane) {
	if l.rewind {
		if l.out == 0 && !l.pausing {
			l.pausing = true
			w.rewinds = append(w.rewinds, l)
		}
		return
	}
	if l.busy || l.next >= l.q.len() {
		return
	}
	e := l.q.items()[l.next]
	if e.offset <= l.careful && l.out > 0 {
		return
	}
	l.next++
	l.out++
	l.busy = true
	e.state = queued
	w.ready.push(e)
}

// next appends the records that may be handed out now to out, and marks
// them in flight.
func (w *window) next(out []*entry) []*entry {
	for len(w.ready) > 0 && w.inflight < w.max {
		if w.ready[0].offset > w.limit {
			break
		}
		if w.gate >= 0 && (w.inflight > 0 || w.ready[0].offset != w.gate) {
			break // the record at gate runs alone, and is committed before the others
		}
		e := w.ready.pop()
		if l := e.lane; l != nil {
			if l.rewind {
				// Queued before its lane failed: it runs again with the
				// rewind.
				e.state = idle
				l.out--
				l.busy = false
				w.kick(l)
				continue
			}
			e.state = running
		}
		out = append(out, e)
		w.inflight++
		w.handed = max(w.handed, e.offset)
	}
	return out
}

// finish limits the window to the records up to the highest one handed
// out (none, if none was): with concurrency, records after a waiting one
// may already be done, and handing out the waiting ones lets the committed
// offset reach them, so that a stop re-processes nothing.
// A stall, which limits it further, keeps its limit (relimit).
func (w *window) finish() {
	w.hold = w.handed
	w.relimit()
}

// unhold lifts finish's limit (a resume): the stall's, if any, stays.
func (w *window) unhold() {
	w.hold = math.MaxInt64
	w.relimit()
}

// relimit sets the limit from what holds the window back: a stop or a
// pause (finish), and a stall. Each sets or lifts its own part; none
// lifts another's.
func (w *window) relimit() {
	w.limit = w.hold
	if w.stall >= 0 {
		w.limit = min(w.limit, w.stall)
	}
}

// finished reports whether nothing up to the limit is in flight or can
// still be handed out. A record abandoned after a nack, and those waiting
// behind it in its lane, stay uncommitted.
func (w *window) finished() bool {
	return w.inflight == 0 && (len(w.ready) == 0 || w.ready[0].offset > w.limit)
}

// release ends the turn of e's run gen in its lane (its outputs are with
// the producer): the next record of the lane may run while e waits for
// its settlement. A release of an older run, or of a record settled
// already, is ignored.
func (w *window) release(e *entry, gen int) {
	if e.gen != gen || e.state != running {
		return
	}
	e.state = released
	e.lane.busy = false
	w.kick(e.lane)
}

// ack settles e as done; see settle.
func (w *window) ack(e *entry) bool { return w.settle(e, e.gen, true) }

// settle settles run gen of e, handed out: done marks it acked and moves
// the committable offset over the acked prefix; not done rewinds e's lane
// (see lane). A settlement of an older run is ignored. It reports whether
// the committable offset moved. (A solo record settled as not done is
// handed out again by the loop, not here.)
func (w *window) settle(e *entry, gen int, done bool) bool {
	if e.acked || e.gen != gen {
		return false
	}
	l := e.lane
	if l == nil {
		e.acked = true
		w.inflight--
		return w.advance()
	}
	if e.state != running && e.state != released {
		return false
	}
	if e.state == running {
		l.busy = false
	}
	e.state = idle
	w.inflight--
	l.out--
	if !done {
		l.rewind = true
		w.kick(l)
		return false
	}
	e.acked = true
	for l.q.len() > 0 && l.q.front().acked {
		l.q.pop()
		l.next--
	}
	if l.q.len() == 0 && l.out == 0 {
		w.dropLane(l)
	} else {
		w.kick(l)
	}
	return w.advance()
}

// abandon takes back e, handed out but never given to a worker (a stop,
// a revocation): it stays uncommitted, and its lane hands out nothing
// more.
func (w *window) abandon(e *entry) {
	w.inflight--
	l := e.lane
	if l == nil {
		return
	}
	e.state = idle
	l.out--
	l.busy = false
	l.rewind, l.pausing = true, true // never resumed
}

// resume starts the rewind of l after its pause: the records it had
// handed out run again, from its first one not acked, in offset order and
// one at a time up to where it had got, each as a new run.
func (w *window) resume(l *lane) {
	if !l.rewind || !l.pausing || l.out > 0 {
		return
	}
	q := l.q.items()
	for _, e := range q[:l.next] {
		e.gen++
		e.acked = false
	}
	if l.next > 0 {
		l.careful = max(l.careful, q[l.next-1].offset)
	}
	l.next = 0
	l.rewind, l.pausing = false, false
	w.kick(l)
}

// advance moves the committable offset over the acked prefix and reports
// whether it moved.
func (w *window) advance() bool {
	var last *entry
	for w.log.len() > 0 && w.log.front().acked {
		last = w.log.front()
		w.log.pop()
		if w.drain {
			w.drained = append(w.drained, last)
		}
	}
	if last == nil {
		return false
	}
	w.commit = kgo.EpochOffset{Epoch: last.rec.LeaderEpoch, Offset: last.offset + 1}
	return true
}

// complete reports whether a bounded window's range is done: every record
// below its end was taken in and settled.
func (w *window) complete() bool { return w.ended && w.log.len() == 0 }

// position is a bounded window's first offset not done: its end once
// complete, else the end of its settled prefix.
func (w *window) position() int64 {
	if w.complete() {
		return w.end
	}
	return w.commit.Offset
}

// buffered is the number of records added and not yet acked.
func (w *window) buffered() int { return w.log.len() }

// dirty reports whether there is an offset to commit that was not yet.
func (w *window) dirty() bool { return w.commit.Offset > w.committed }

// readyHeap orders ready records by offset, oldest first, so that a
// record released by an ack does not overtake older ready records and the
// committable prefix grows as early as it can. It is a binary heap of its
// own rather than container/heap: each item keeps its record's offset
// beside it, so comparisons read no entry (a cache miss each), and the
// sifts make no interface calls; container/heap's were a fifth of the
// window's time (BenchmarkWindow).
type readyHeap []readyItem

type readyItem struct {
	offset int64
	e      *entry
}

func (h *readyHeap) push(e *entry) {
	*h = append(*h, readyItem{e.offset, e})
	h.up(len(*h) - 1)
}

// pop takes the oldest record.
func (h *readyHeap) pop() *entry {
	old := *h
	n := len(old) - 1
	e := old[0].e
	old[0] = old[n]
	old[n] = readyItem{}
	*h = old[:n]
	h.down(0)
	return e
}

// init orders the heap after items were taken out of it.
func (h readyHeap) init() {
	for i := len(h)/2 - 1; i >= 0; i-- {
		h.down(i)
	}
}

func (h readyHeap) up(i int) {
	for i > 0 {
		parent := (i - 1) / 2
		if h[parent].offset <= h[i].offset {
			return
		}
		h[parent], h[i] = h[i], h[parent]
		i = parent
	}
}

func (h readyHeap) down(i int) {
	for {
		least, l := i, 2*i+1
		if l < len(h) && h[l].offset < h[least].offset {
			least = l
		}
		if r := l + 1; r < len(h) && h[r].offset < h[least].offset {
			least = r
		}
		if least == i {
			return
		}
		h[i], h[least] = h[least], h[i]
		i = least
	}
}
