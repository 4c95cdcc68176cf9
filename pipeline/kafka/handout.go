package kafka

import "sync"

// The loop's queue of records to hand out (stream.toSend) and the batches
// the workers take from it. A batch is a copy in storage of its own, from
// a pool, so that the queue's storage is the loop's alone and is reused;
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

// enqueue appends p to the queue. A queue that reached the end of its
// storage with its front handed out moves back to the start of the
// storage rather than growing.
func (s *stream) enqueue(p pending) {
	switch q := s.toSend; {
	case len(q) == 0:
		s.toSend = s.sendRoom[:0]
	case len(q) == cap(q) && 2*len(q) <= cap(s.sendRoom):
		// The queue is the storage's end: its start is free.
		n := copy(s.sendRoom[:len(q)], q)
		clear(q)
		s.toSend = s.sendRoom[:n]
	}
	grow := len(s.toSend) == cap(s.toSend)
	s.toSend = append(s.toSend, p)
	if grow {
		s.sendRoom = s.toSend[:0] // new storage, starting at the queue
	}
}

// batch is the batch the loop offers the workers: a copy of the queue's
// first records, kept until it is taken or the queue's front changes
// (unbatch).
func (s *stream) batch() *handOuts {
	if s.offered == nil {
		b := handOutPool.Get().(*handOuts)
		b.ps = b.room[:copy(b.room[:], s.toSend)]
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
	for _, p := range s.toSend[:n] {
		s.delivered(p)
	}
	clear(s.toSend[:n])
	s.toSend = s.toSend[n:]
}

// unbatch withdraws the offered batch: the queue's front changed.
func (s *stream) unbatch() {
	if s.offered != nil {
		s.offered.recycle()
		s.offered = nil
	}
}
