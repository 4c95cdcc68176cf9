package kafka

import "sync"

// The batches the workers take from the loop's queue of records to hand
// out (stream.toSend). A batch is a copy in storage of its own, from a
// pool, so that the queue's storage is the loop's alone and is reused;
// batches that were slices of the queue's front made the queue grow into a
// new array every few polls, a fifth of the bytes a record allocated.

// handOuts is a batch of queued records for a worker (Consume).
type handOuts struct {
	ps   []pending
	room [workBatch]pending
}

var handOutPool = sync.Pool{New: func() any { return new(handOuts) }}

// recycle gives b back to the pool once nothing reads it: the worker's
// when its records' lanes need no release (not Pipelined), else the loop's
// once it has released them.
func (b *handOuts) recycle() {
	clear(b.ps)
	b.ps = nil
	handOutPool.Put(b)
}

// batch is the batch the loop offers the workers: a copy of the queue's
// first records, kept until it is taken or the queue's front changes
// (unbatch).
func (s *stream) batch() *handOuts {
	if s.offered == nil {
		b := handOutPool.Get().(*handOuts)
		b.ps = b.room[:copy(b.room[:], s.toSend.items())]
		s.offered, s.offeredLen = b, len(b.ps)
	}
	return s.offered
}

// batchTaken takes the offered batch's records off the queue: a worker
// has the batch, and may already be done with it, so the records are
// counted from the queue's copies.
func (s *stream) batchTaken() {
	n := s.offeredLen
	s.offered = nil
	for _, p := range s.toSend.items()[:n] {
		s.delivered(p)
	}
	s.toSend.popN(n)
}

// unbatch withdraws the offered batch: the queue's front changed.
func (s *stream) unbatch() {
	if s.offered != nil {
		s.offered.recycle()
		s.offered = nil
	}
}
