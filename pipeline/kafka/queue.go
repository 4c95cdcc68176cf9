package kafka

// queue is a FIFO whose storage is reused as its front is taken off: the
// loop's records to hand out, a partition's records not yet committed,
// a key lane's records not yet acked. A slice resliced at the front
// (q = q[1:]) loses the capacity it passes, so a queue that never empties
// under load took a new array every few pushes: in test/bench's M-key
// scenario the lanes' queues alone were about 280,000 allocations per
// million records.
//
// push moves the items back to the start of the storage when it is full
// and at least half of it is free, and otherwise grows the whole storage
// (append doubles it), so each item is copied O(1) times on average
// however long the queue is, and a queue that keeps a steady length
// stops allocating once it has grown to it.
type queue[T any] struct {
	buf  []T // buf[head:] are the items, oldest first
	head int
}

// items returns the queued items, oldest first; the slice is valid until
// the next push or pop.
func (q *queue[T]) items() []T { return q.buf[q.head:] }

// len is the number of queued items.
func (q *queue[T]) len() int { return len(q.buf) - q.head }

// front returns the oldest item; q must not be empty.
func (q *queue[T]) front() T { return q.buf[q.head] }

// push appends v.
func (q *queue[T]) push(v T) {
	if len(q.buf) == cap(q.buf) && q.head > 0 && q.head >= q.len() {
		n := copy(q.buf, q.buf[q.head:])
		clear(q.buf[n:])
		q.buf, q.head = q.buf[:n], 0
	}
	q.buf = append(q.buf, v)
}

// pop takes the oldest item off; q must not be empty.
func (q *queue[T]) pop() { q.popN(1) }

// popN takes the n oldest items off; q must hold at least n.
func (q *queue[T]) popN(n int) {
	clear(q.buf[q.head : q.head+n]) // the storage must not keep them alive
	q.head += n
	if q.head == len(q.buf) {
		q.buf, q.head = q.buf[:0], 0
	}
}

// keep takes off the items for which f is false, keeping the others in
// their order.
func (q *queue[T]) keep(f func(T) bool) {
	kept := q.buf[:0]
	for _, v := range q.buf[q.head:] {
		if f(v) {
			kept = append(kept, v)
		}
	}
	clear(q.buf[len(kept):])
	q.buf, q.head = kept, 0
}
