package kafka

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// Bounded-range mode: partitions read by assignment, each over a range
// fixed in advance, with progress instead of commits.

// Range is the part of one partition a bounded subscriber reads: the
// records from offset Start up to, not including, End.
type Range struct {
	Partition int32 `json:"partition"`
	Start     int64 `json:"start"`
	End       int64 `json:"end"`
}

func validateRanges(rs []Range) error {
	seen := map[int32]bool{}
	for _, r := range rs {
		if seen[r.Partition] {
			return fmt.Errorf("concurrent subscriber: partition %d given twice", r.Partition)
		}
		seen[r.Partition] = true
		if r.Start < 0 || r.End < 0 {
			return fmt.Errorf("concurrent subscriber: partition %d: negative offset in [%d, %d)", r.Partition, r.Start, r.End)
		}
	}
	return nil
}

// Progress is how far a bounded subscriber got in one Range.
type Progress struct {
	Partition int32 `json:"partition"`
	Start     int64 `json:"start"`
	End       int64 `json:"end"`
	// Next is the first offset not done: every record in [Start, Next)
	// was settled done, skipped, or is a control record (a transaction
	// marker). It is the partition window's contiguous settled prefix, what
	// group mode would commit; a read resumed from here misses nothing.
	Next int64 `json:"next"`
	// Delivered counts records handed out (not again after a record
	// settled as not done), Acked those settled done, Skipped those Skip
	// skipped. Control records count in none of them.
	Delivered int64 `json:"delivered"`
	Acked     int64 `json:"acked"`
	Skipped   int64 `json:"skipped"`
	// Complete: Next reached End.
	Complete bool `json:"complete"`
}

// ranges is a bounded subscriber's progress: written by its loop, read by
// Progress, Done and Err from any goroutine.
type ranges struct {
	parts []*rangeProgress // by partition
	done  chan struct{}    // closed when every range is complete
	once  sync.Once

	mu  sync.Mutex
	err error // the fetch error that ended the read
}

// rangeProgress is one range's Progress, kept in atomics.
type rangeProgress struct {
	Range
	next, delivered, acked, skipped atomic.Int64
	complete                        atomic.Bool
}

// counter names one of a range's counts.
type counter int

const (
	countDelivered counter = iota
	countAcked
	countSkipped
)

// count adds one to a count; a group-mode window has no range (nil).
func (p *rangeProgress) count(c counter) {
	if p != nil {
		[...]*atomic.Int64{&p.delivered, &p.acked, &p.skipped}[c].Add(1)
	}
}

func newRanges(rs []Range) *ranges {
	g := &ranges{done: make(chan struct{})}
	for _, r := range rs {
		p := &rangeProgress{Range: r}
		p.next.Store(r.Start)
		p.complete.Store(r.Start >= r.End)
		g.parts = append(g.parts, p)
	}
	slices.SortFunc(g.parts, func(a, b *rangeProgress) int { return int(a.Partition - b.Partition) })
	return g
}

// Progress reports each range of a bounded subscriber, by partition; nil
// in group mode. Before the read starts each is at its Start.
func (s *ConcurrentSubscriber) Progress() []Progress {
	if s.ranges == nil {
		return nil
	}
	out := make([]Progress, len(s.ranges.parts))
	for i, p := range s.ranges.parts {
		out[i] = Progress{
			Partition: p.Partition, Start: p.Start, End: p.End, Next: p.next.Load(),
			Delivered: p.delivered.Load(), Acked: p.acked.Load(), Skipped: p.skipped.Load(),
			Complete: p.complete.Load(),
		}
	}
	return out
}

// Done is closed once every range of a bounded subscriber is complete:
// every record in it settled done or skipped. It is never closed in group
// mode, nor after a read that ended early (see Err).
func (s *ConcurrentSubscriber) Done() <-chan struct{} {
	if s.ranges == nil {
		return nil
	}
	return s.ranges.done
}

// Err is the fetch error that ended a bounded read early: an offset of a
// range that is gone (deleted by retention, kerr.OffsetOutOfRange, or
// truncated, *kgo.ErrDataLoss) or a topic or partition that is
// (kerr.UnknownTopicOrPartition). Nil while none did, and in group mode,
// where the group resets to Start and the client retries.
func (s *ConcurrentSubscriber) Err() error {
	if s.ranges == nil {
		return nil
	}
	s.ranges.mu.Lock()
	defer s.ranges.mu.Unlock()
	return s.ranges.err
}

// fatal reports whether a fetch error ends a bounded read: the data asked
// for is gone or was never there. franz-go retries the others itself.
func fatal(err error) bool {
	var dl *kgo.ErrDataLoss
	return errors.Is(err, kerr.OffsetOutOfRange) || errors.As(err, &dl) || errors.Is(err, kerr.UnknownTopicOrPartition)
}

// boundedOpts are the client options of a bounded read: the ranges'
// partitions by assignment from their starts, no reset (an offset deleted
// under the read is an error, never a silent jump), and control records
// kept, so that a range whose last offset is a transaction marker
// completes. It makes the stream's windows, one per range.
func (s *stream) boundedOpts() []kgo.Opt {
	assign := map[int32]kgo.Offset{}
	for _, p := range s.ranges.parts {
		w := newWindow(s.cfg.Ordering, s.cfg.MaxInFlight)
		w.partition, w.drain, w.free = p.Partition, s.recycles, &s.freeEntries
		w.bound(p)
		s.windows[p.Partition] = w
		if !w.ended {
			assign[p.Partition] = kgo.NewOffset().At(p.Start)
			s.incomplete++
		}
	}
	opts := []kgo.Opt{kgo.ConsumeResetOffset(kgo.NoResetOffset()), kgo.KeepControlRecords()}
	if len(assign) > 0 {
		opts = append(opts, kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{s.topic: assign}))
	}
	return opts
}

// track publishes a bounded window's position after it changed, stops
// fetching its partition once its end was reached, and counts it complete.
func (s *stream) track(w *window) {
	p := w.prog
	if p == nil {
		return
	}
	if w.ended && !w.paused {
		w.paused = true
		s.cl.PauseFetchPartitions(map[string][]int32{s.topic: {p.Partition}})
	}
	p.next.Store(w.position())
	if w.complete() && !p.complete.Load() {
		p.complete.Store(true)
		s.incomplete--
	}
}

// complete closes Done: every range was read and settled.
func (g *ranges) complete() { g.once.Do(func() { close(g.done) }) }

// fail keeps the first error that ended the read.
func (g *ranges) fail(err error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.err == nil {
		g.err = err
	}
}
