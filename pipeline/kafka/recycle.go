package kafka

import (
	"sync"

	"github.com/twmb/franz-go/pkg/kgo"
)

// fetchPool lends franz-go the memory fetched records live in: the slices
// batches are decompressed into and the slices of kgo.Records
// (kgo.WithPools). A record goes back (kgo.Record.Recycle) when nothing
// can read it again: once its offset is part of its partition's settled
// prefix, or at once when the loop does not take it. Each fetched record
// was about a fifth of a record's garbage, so of the collector's work.
//
// Only Consume with RecycleRecords uses it: its process function keeps
// nothing of a settled record (key, value, header values), as the
// runner's engine and producer do not. A record still in flight when its
// partition is revoked is never recycled; the collector takes it.
type fetchPool struct {
	mu    sync.Mutex
	bytes freeList[byte]
	recs  freeList[kgo.Record]
}

// The free lists keep at most this much, so that a burst of large batches
// does not hold its memory for good. A sync.Pool would do, but the
// collector empties it every other cycle, which at this rate of garbage
// is a few times a second: most gets missed. With batches of 1 MB, more
// is out at once than this holds, and three times as much halved what
// the pool misses but took a 1M drain's peak RSS past 256 MiB.
const (
	maxFreeBytes   = 16 << 20
	maxFreeRecords = 32 << 10
)

// GetDecompressBytes is a slice to decompress a batch into: the smallest
// one given back that holds four times the compressed size (JSON
// compresses about that well), else the largest. franz-go grows a slice
// that is too small and gives back the grown one, so the free slices grow
// to the batches' sizes.
func (p *fetchPool) GetDecompressBytes(compressed []byte, _ kgo.CompressionCodecType) []byte {
	p.mu.Lock()
	defer p.mu.Unlock()
	want := 4 * len(compressed)
	if b := p.bytes.fit(want, true); b != nil {
		return b
	}
	return make([]byte, 0, want)
}

func (p *fetchPool) PutDecompressBytes(b []byte) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.bytes.push(b, maxFreeBytes)
}

// GetRecords is a slice of n records: the smallest one given back that is
// large enough.
func (p *fetchPool) GetRecords(n int) []kgo.Record {
	p.mu.Lock()
	defer p.mu.Unlock()
	if r := p.recs.fit(n, false); r != nil {
		return r[:n]
	}
	return make([]kgo.Record, n)
}

func (p *fetchPool) PutRecords(r []kgo.Record) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.recs.push(r, maxFreeRecords)
}

// freeList is the slices given back, held while their capacities add up
// to a bound. Batches differ in size, so a slice is taken by its fit, not
// by the order it came back in: taking the last one and dropping it when
// it was too small missed the pool for most batches.
type freeList[E any] struct {
	free [][]E
	held int
}

// fit takes the smallest slice of capacity n or more; when there is none
// and orLargest, the largest one; else nil.
func (l *freeList[E]) fit(n int, orLargest bool) []E {
	best, largest := -1, -1
	for i, s := range l.free {
		c := cap(s)
		if c >= n && (best < 0 || c < cap(l.free[best])) {
			best = i
		}
		if largest < 0 || c > cap(l.free[largest]) {
			largest = i
		}
	}
	if best < 0 && orLargest {
		best = largest
	}
	if best < 0 {
		return nil
	}
	s := l.free[best]
	last := len(l.free) - 1
	l.free[best] = l.free[last]
	l.free[last] = nil
	l.free = l.free[:last]
	l.held -= cap(s)
	return s
}

// push keeps s unless that would hold more than bound.
func (l *freeList[E]) push(s []E, bound int) {
	if l.held+cap(s) <= bound {
		l.free = append(l.free, s)
		l.held += cap(s)
	}
}

// recycle gives r back to the pool if the stream lends its records.
func (s *stream) recycle(r *kgo.Record) {
	if s.recycles {
		r.Recycle()
	}
}

// recycleDrained gives back the records w's settled prefix moved over,
// and keeps their entries for w's next records. The loop calls it once it
// is done with what moved the prefix: nothing reads those records after
// that, and an event still on its way for an entry (the release of a
// record settled before its worker said so) carries an older gen than
// the entry's next record gets.
func (s *stream) recycleDrained(w *window) {
	for i, e := range w.drained {
		e.rec.Recycle()
		gen, settle := e.gen+1, e.settle
		*e = entry{gen: gen, first: gen, settle: settle}
		if w.free != nil && len(*w.free) < s.maxBuffered()+pollMax {
			*w.free = append(*w.free, e)
		}
		w.drained[i] = nil
	}
	w.drained = w.drained[:0]
}
