package kafka

import "sync"

// ackQueue carries settlements (and the loop's own timed events) from the
// workers, the producer's goroutines and timers to the loop: senders
// append under a lock and wake the loop only when the queue was empty, and
// the loop takes everything queued at once. A channel cost one operation
// (and often one wake-up of the loop) per record. It never blocks a
// sender: what is queued is bounded by the records in flight.
type ackQueue struct {
	mu   sync.Mutex
	evs  []ackEvent
	wake chan struct{} // one token: the queue has events
}

func newAckQueue() *ackQueue { return &ackQueue{wake: make(chan struct{}, 1)} }

func (q *ackQueue) push(ev ackEvent) {
	q.mu.Lock()
	q.evs = append(q.evs, ev)
	first := len(q.evs) == 1
	q.mu.Unlock()
	if first {
		select {
		case q.wake <- struct{}{}:
		default:
		}
	}
}

// take returns every queued event; spare (emptied) takes their place, so
// that two slices serve the loop in turn.
func (q *ackQueue) take(spare []ackEvent) []ackEvent {
	q.mu.Lock()
	evs := q.evs
	q.evs = spare[:0]
	q.mu.Unlock()
	return evs
}
