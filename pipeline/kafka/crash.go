package kafka

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// Poison-pill detection (group mode, MaxCrashes): a record whose
// processing kills the process (a fatal error, the OOM killer) is handed
// out again by the group after every restart, since its offset was never
// committed. The count of starts at a committed offset lives in the
// group's commit metadata of the partition (OffsetCommit's per-partition
// metadata string, "millrace:crashes=N"): no local state, so it works for
// whichever runner of the group gets the partition next, and any commit
// that moves the offset (franz-go's carry the member id as metadata)
// resets it.
//
// On assignment, for each partition with a committed offset O and a
// record at O (the end offset is past O), the count N is read and:
//
//   - N+1 < MaxCrashes: crashes=N+1 is written at O, and the partition
//     runs as usual;
//   - N+1 == MaxCrashes: crashes=N+1 is written at O, and the record at O
//     runs alone (nothing else of the partition in flight); once it is
//     settled, O+1 is committed before anything else is handed out, so
//     that a count of MaxCrashes means the runner died while that record
//     was processed alone;
//   - N >= MaxCrashes: the record at O is given to Poisoned, unprocessed,
//     and the partition goes on after it.
//
// A clean end of the partition (a stop, a revocation) that did not move
// its offset past O writes N back: a stop is no crash.
//
// A partition without a committed offset (a new group, expired offsets)
// would crash-loop on its first record: every start reads it again with
// no count. So O is resolved the way the client's reset offset resolves
// it (groupStart: the log start for "oldest", the end for "newest") and
// committed on assignment, with N = 0 and the rule above. The commit
// happens in OnPartitionsAssigned, which franz-go runs to completion
// before it fetches the group's offsets, so the partition starts exactly
// at O: nothing skipped, nothing read twice. O is committed even with no
// record there yet (no count), which pins the group's start: a runner
// that dies before its first commit does not start again at a later end
// ("newest") and skip the records in between. Such a record's first
// crash is not counted (it was not there at the start), so it needs one
// more than MaxCrashes; a count is never too high. If O cannot be
// resolved, the partition runs without detection.

// crashPrefix starts the commit metadata that holds a crash count.
const crashPrefix = "millrace:crashes="

// crashMetadata is the commit metadata of a crash count.
func crashMetadata(n int) string { return crashPrefix + strconv.Itoa(n) }

// parseCrashes reads a crash count from commit metadata: 0 for any other
// metadata (franz-go's own commits carry the member id).
func parseCrashes(md string) int {
	s, ok := strings.CutPrefix(md, crashPrefix)
	if !ok {
		return 0
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return 0
	}
	return n
}

// crashState is the crash count of a partition's committed offset, read
// on its assignment.
type crashState struct {
	offset  int64 // the committed offset: the record counted
	epoch   int32
	crashes int  // the count read: starts at offset that did not end cleanly
	alone   bool // the record at offset runs alone, then offset+1 is committed at once
	dead    bool // the record at offset goes to Poisoned, unprocessed
	bumped  bool // crashes+1 was written
}

// detectCrashes reports whether the stream counts crashes.
func (s *stream) detectCrashes() bool {
	return s.ranges == nil && s.cfg.MaxCrashes > 0 && s.cfg.Poisoned != nil
}

// readCrashes reads the committed offsets of parts with their metadata,
// the partitions' end offsets and, for those without an offset, where
// the group starts, and writes the new counts and starts (see the rule
// above). It runs in OnPartitionsAssigned, before franz-go fetches
// the offsets and hands out any record of parts. A failure is logged:
// the partitions then run without detection, never with a wrong count.
func (s *stream) readCrashes(ctx context.Context, cl *kgo.Client, parts []int32) map[int32]*crashState {
	if !s.detectCrashes() || len(parts) == 0 {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	adm := kadm.NewClient(cl)
	offs, err := adm.FetchOffsets(ctx, s.cfg.Group)
	if err == nil {
		err = offs.Error()
	}
	if err != nil {
		s.log.Warn("crash detection: reading the committed offsets failed; the partitions run without it", "error", err.Error())
		return nil
	}
	ends, err := adm.ListEndOffsets(ctx, s.topic)
	if err == nil {
		err = ends.Error()
	}
	if err != nil {
		s.log.Warn("crash detection: reading the end offsets failed; the partitions run without it", "error", err.Error())
		return nil
	}
	var starts kadm.ListedOffsets // where the group starts on a partition without an offset
	for _, p := range parts {
		if o, ok := offs.Lookup(s.topic, p); !ok || o.At < 0 {
			if starts, err = s.groupStart(ctx, adm, ends); err != nil {
				s.log.Warn("crash detection: reading the start offsets failed; the partitions without a committed offset run without it", "error", err.Error())
			}
			break
		}
	}
	states := map[int32]*crashState{}
	bump := map[int32]kgo.EpochOffset{}
	metas := map[int32]string{}
	for _, p := range parts {
		o, ok := offs.Lookup(s.topic, p)
		if !ok || o.At < 0 {
			// No offset yet: the group starts where the client's reset
			// offset resolves, counted from 0 like a committed offset.
			l, ok := starts.Lookup(s.topic, p)
			if !ok || l.Err != nil || l.Offset < 0 {
				continue // not resolved: the partition runs without detection
			}
			o = kadm.OffsetResponse{Offset: kadm.Offset{Topic: s.topic, Partition: p, At: l.Offset, LeaderEpoch: l.LeaderEpoch}}
			bump[p] = kgo.EpochOffset{Epoch: o.LeaderEpoch, Offset: o.At} // pinned, even with no record there yet
		}
		end, ok := ends.Lookup(s.topic, p)
		if !ok || end.Offset <= o.At {
			continue // no record at the offset yet: nothing is in flight there
		}
		st := &crashState{offset: o.At, epoch: o.LeaderEpoch, crashes: parseCrashes(o.Metadata)}
		switch {
		case st.crashes >= s.cfg.MaxCrashes:
			st.dead = true
		default:
			st.alone = st.crashes+1 == s.cfg.MaxCrashes
			bump[p] = kgo.EpochOffset{Epoch: o.LeaderEpoch, Offset: o.At}
			metas[p] = crashMetadata(st.crashes + 1)
		}
		states[p] = st
	}
	if len(bump) > 0 {
		if err := s.commitMetadata(ctx, cl, bump, metas); err != nil {
			s.log.Warn("crash detection: writing the crash counts failed; the partitions run without it", "error", err.Error())
			for p := range bump {
				delete(states, p)
			}
		} else {
			for p := range bump {
				if st := states[p]; st != nil {
					st.bumped = true
				}
			}
		}
	}
	for p, st := range states {
		if st.dead || st.alone {
			s.log.Warn("the runner died while the record at the committed offset was in flight", "partition", p, "offset", st.offset,
				"crashes", st.crashes, "max_crashes", s.cfg.MaxCrashes, "dead_letter", st.dead, "alone", st.alone)
		}
	}
	return states
}

// commitMetadata commits offsets with per-partition metadata, through
// franz-go's commit (member id, generation, topic id) with its request
// amended just before it is sent.
func (s *stream) commitMetadata(ctx context.Context, cl *kgo.Client, offsets map[int32]kgo.EpochOffset, metas map[int32]string) error {
	ctx = kgo.PreCommitFnContext(ctx, func(req *kmsg.OffsetCommitRequest) error {
		for i := range req.Topics {
			for j := range req.Topics[i].Partitions {
				rp := &req.Topics[i].Partitions[j]
				if md, ok := metas[rp.Partition]; ok {
					rp.Metadata = &md
				}
			}
		}
		return nil
	})
	var failed error
	cl.CommitOffsetsSync(ctx, map[string]map[int32]kgo.EpochOffset{s.topic: offsets},
		func(_ *kgo.Client, _ *kmsg.OffsetCommitRequest, resp *kmsg.OffsetCommitResponse, err error) {
			if err == nil {
				err = commitError(resp)
			}
			failed = err
		})
	return failed
}

// restoreCrashes writes back the count read on assignment for the
// partitions among parts whose offset did not move past the counted
// record: they end cleanly (a stop, a revocation), which is no crash.
func (s *stream) restoreCrashes(parts []int32) {
	offsets := map[int32]kgo.EpochOffset{}
	metas := map[int32]string{}
	for _, p := range parts {
		w := s.windows[p]
		if w == nil || w.crash == nil || !w.crash.bumped || w.commit.Offset > w.crash.offset {
			continue
		}
		offsets[p] = kgo.EpochOffset{Epoch: w.crash.epoch, Offset: w.crash.offset}
		metas[p] = crashMetadata(w.crash.crashes)
		w.crash = nil
	}
	if len(offsets) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.commitMetadata(ctx, s.cl, offsets, metas); err != nil {
		s.log.Warn("crash detection: writing back the crash counts failed; the next start counts this stop as a crash", "error", err.Error())
	}
}

// CrashReason is why a poisoned record (MaxCrashes) is not processed.
func CrashReason(n int) error {
	return fmt.Errorf("the runner died %d times in a row while this record was in flight", n)
}
