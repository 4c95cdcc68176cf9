package kafka

import (
	"errors"
	"time"
)

// A partition stalls on a record that cannot be written for now: the
// engine settled it as stalled (engine.Result.Stall), because its dead
// letter was refused by the brokers (a dead-letter topic whose
// max.message.bytes is too small, one that is gone with topic creation
// off, no permission to write it). Nothing is dropped and the
// partition's committed offset stays below the record; its other records
// are not handed out (those in flight finish), its fetching is paused,
// and its buffered records stop counting against the stream's buffer, so
// that the other partitions go on; OnStall reports it. The record runs
// again after StallRetryInterval (its lane rewinds, as after any failure,
// but after that longer pause), and once it is done the partition goes
// on. A revocation or the end of the subscription ends the stall too.

var errStalled = errors.New("the record cannot be written for now")

// stallAt stalls e's partition at e, unless the window is gone.
func (s *stream) stallAt(w *window, e *entry, err error) {
	p := e.rec.Partition
	if s.windows[p] != w || w.revoked {
		return
	}
	first := w.stall < 0
	w.stall = e.offset
	w.relimit()
	if first {
		s.stalled++
		s.cl.PauseFetchPartitions(map[string][]int32{s.topic: {p}})
		s.log.Warn("partition stalled: a record cannot be written; the partition's other records wait, the other partitions go on",
			"partition", p, "offset", e.offset, "retry_in", s.cfg.StallRetryInterval.String(), "error", err.Error())
	}
	if s.cfg.OnStall != nil {
		s.cfg.OnStall(p, e.offset, err)
	}
}

// unqueueRewinding takes the records of rewinding lanes out of the
// ready heap: a lane whose next record was queued before it failed
// rewinds only once that record is taken back (next does that as it pops
// it), and a stalled window pops nothing past the stalled record.
func (w *window) unqueueRewinding() {
	kept := w.ready[:0]
	var lanes []*lane
	for _, it := range w.ready {
		e := it.e
		if l := e.lane; l != nil && l.rewind {
			e.state = idle
			l.out--
			l.busy = false
			lanes = append(lanes, l)
			continue
		}
		kept = append(kept, it)
	}
	if len(lanes) == 0 {
		return
	}
	clear(w.ready[len(kept):])
	w.ready = kept
	w.ready.init()
	for _, l := range lanes {
		w.kick(l)
	}
}

// unstallDone ends w's stall once the record it stalled on is done: the
// committable offset passed it.
func (s *stream) unstallDone(w *window, p int32) {
	if w.stall >= 0 && w.commit.Offset > w.stall && s.windows[p] == w {
		s.log.Info("partition goes on: the record it stalled on was written", "partition", p, "offset", w.stall)
		s.unstall(w, p)
	}
}

// unstall ends w's stall, if any: its records are handed out and fetched
// again.
func (s *stream) unstall(w *window, p int32) {
	if w.stall < 0 {
		return
	}
	w.stall = -1
	w.relimit() // a stop's or a pause's limit stays
	s.stalled--
	s.cl.ResumeFetchPartitions(map[string][]int32{s.topic: {p}})
	if s.cfg.OnStall != nil {
		s.cfg.OnStall(p, -1, nil)
	}
}

// unstallAll ends every stall: the subscription ends.
func (s *stream) unstallAll() {
	for p, w := range s.windows {
		s.unstall(w, p)
	}
}

// parked is the records buffered in stalled windows: they do not count
// against maxBuffered, so that a stalled partition does not stop the
// fetching of the others.
func (s *stream) parked() int {
	if s.stalled == 0 {
		return 0
	}
	n := 0
	for _, w := range s.windows {
		if w.stall >= 0 {
			n += w.buffered()
		}
	}
	return n
}

// pause is how long a record of w settled as not done waits before it
// runs again: StallRetryInterval while w is stalled, else
// NackResendSleep.
func (s *stream) pause(w *window) time.Duration {
	if w.stall >= 0 {
		return s.cfg.StallRetryInterval
	}
	return s.cfg.NackResendSleep
}
