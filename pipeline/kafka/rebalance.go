package kafka

import (
	"context"
	"slices"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// Group mode: the consumer group assigns the topic's partitions, and
// takes them back.

// groupOpts are the client options of group mode: the topic through the
// group, from Start where the group has no offset, commits left to the
// loop, and the rebalance callbacks, which hand each change to the loop
// and wait until it is handled.
func (s *stream) groupOpts() []kgo.Opt {
	start := kgo.NewOffset().AtStart()
	if s.cfg.Start == "newest" {
		start = kgo.NewOffset().AtEnd()
	}
	return []kgo.Opt{
		kgo.ConsumeTopics(s.topic),
		kgo.ConsumeResetOffset(start),
		kgo.ConsumerGroup(s.cfg.Group),
		kgo.DisableAutoCommit(),
		kgo.SessionTimeout(s.cfg.SessionTimeout),
		kgo.HeartbeatInterval(s.cfg.SessionTimeout / 4),
		kgo.OnPartitionsAssigned(s.onAssigned),
		kgo.OnPartitionsRevoked(s.onRevoked),
		kgo.OnPartitionsLost(s.onLost),
	}
}

type rebalanceKind int

const (
	assigned rebalanceKind = iota
	revoked
	lost
)

type rebalanceEvent struct {
	kind    rebalanceKind
	parts   []int32
	crashes map[int32]*crashState // assigned: the crash counts read (crash.go)
	done    chan struct{}
}

type revokeWait struct {
	parts    []int32
	deadline time.Time
	done     chan struct{}
}

func (s *stream) onAssigned(ctx context.Context, cl *kgo.Client, m map[string][]int32) {
	crashes := s.readCrashes(ctx, cl, m[s.topic])
	s.send(rebalanceEvent{kind: assigned, parts: m[s.topic], crashes: crashes})
}

func (s *stream) onRevoked(_ context.Context, _ *kgo.Client, m map[string][]int32) {
	s.send(rebalanceEvent{kind: revoked, parts: m[s.topic]})
}

func (s *stream) onLost(_ context.Context, _ *kgo.Client, m map[string][]int32) {
	s.send(rebalanceEvent{kind: lost, parts: m[s.topic]})
}

// send hands a rebalance to the loop and waits until the loop handled it;
// it returns at once when the loop is gone.
func (s *stream) send(ev rebalanceEvent) {
	ev.done = make(chan struct{})
	select {
	case s.rebalance <- ev:
	case <-s.done:
		return
	}
	select {
	case <-ev.done:
	case <-s.done:
	}
}

func (s *stream) onRebalance(ev rebalanceEvent) {
	switch ev.kind {
	case assigned:
		for _, p := range ev.parts {
			if s.windows[p] == nil {
				w := newWindow(s.cfg.Ordering, s.cfg.MaxInFlight)
				w.partition, w.drain, w.free = p, s.recycles, &s.freeEntries
				w.crash = ev.crashes[p]
				s.windows[p] = w
				if s.paused {
					w.finish() // nothing is handed out until Resume
				}
			}
		}
		close(ev.done)
	case lost:
		for _, p := range ev.parts {
			s.drop(p)
		}
		close(ev.done)
	case revoked:
		for _, p := range ev.parts {
			if w := s.windows[p]; w != nil {
				w.revoked = true
			}
		}
		s.unqueue(ev.parts)
		wait := min(s.cfg.ShutdownTimeout, 20*time.Second)
		s.revokes = append(s.revokes, &revokeWait{parts: ev.parts, deadline: time.Now().Add(wait), done: ev.done})
	}
}

// finishRevokes commits and releases revoked partitions whose in-flight
// records are done (or whose wait timed out).
func (s *stream) finishRevokes(force bool) {
	kept := s.revokes[:0]
	for _, rw := range s.revokes {
		busy := false
		for _, p := range rw.parts {
			if w := s.windows[p]; w != nil && w.inflight > 0 {
				busy = true
			}
		}
		if busy && !force && time.Now().Before(rw.deadline) {
			kept = append(kept, rw)
			continue
		}
		s.commitSync(rw.parts)
		if s.detectCrashes() {
			var idle []int32
			for _, p := range rw.parts {
				if w := s.windows[p]; w != nil && w.inflight == 0 {
					idle = append(idle, p)
				}
			}
			s.restoreCrashes(idle)
		}
		for _, p := range rw.parts {
			s.drop(p)
		}
		close(rw.done)
	}
	s.revokes = kept
}

func (s *stream) drop(p int32) {
	if w := s.windows[p]; w != nil {
		s.unstall(w, p)
		s.buffered -= w.buffered()
		delete(s.windows, p)
	}
	s.unqueue([]int32{p})
}

// unqueue removes messages of the partitions that were not handed out yet.
func (s *stream) unqueue(parts []int32) {
	s.dropQueued(func(p pending) bool { return slices.Contains(parts, p.e.rec.Partition) })
}
