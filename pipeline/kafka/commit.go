package kafka

import (
	"context"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

type commitResult struct {
	failed map[int32]int64 // offsets whose commit failed, by partition
}

// commit sends the acked offsets that moved since the last commit. The loop
// keeps one asynchronous commit in flight and sends the next as soon as it
// returns, so the committed offsets trail the acks by about one round trip:
// after a crash, what is consumed again is little more than what was in
// flight. Bounded-range mode commits nothing: its prefix is its Progress.
func (s *stream) commit(sync bool) error {
	if s.ranges != nil {
		return nil
	}
	// A synchronous commit (the last one) sends every partition's offset,
	// not only those that moved, so that it carries what an asynchronous
	// commit still in flight, or one that failed, carried.
	offsets := map[int32]kgo.EpochOffset{}
	for p, w := range s.windows {
		if w.dirty() || (sync && w.commit.Offset >= 0) {
			offsets[p] = w.commit
			w.committed = w.commit.Offset
		}
	}
	if len(offsets) == 0 {
		return nil
	}
	req := map[string]map[int32]kgo.EpochOffset{s.topic: offsets}
	if sync {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		var failed error
		s.cl.CommitOffsetsSync(ctx, req, func(_ *kgo.Client, _ *kmsg.OffsetCommitRequest, resp *kmsg.OffsetCommitResponse, err error) {
			if err == nil {
				err = commitError(resp)
			}
			if err != nil {
				failed = err
				s.log.Warn("offset commit failed", "error", err.Error())
			}
		})
		return failed
	}
	s.committing = true
	s.lastCommit = time.Now()
	s.cl.CommitOffsets(context.Background(), req, func(_ *kgo.Client, _ *kmsg.OffsetCommitRequest, resp *kmsg.OffsetCommitResponse, err error) {
		res := commitResult{}
		if err == nil {
			err = commitError(resp)
		}
		if err != nil {
			s.log.Warn("offset commit failed; retrying", "error", err.Error())
			res.failed = map[int32]int64{}
			for p, o := range offsets {
				res.failed[p] = o.Offset
			}
		}
		select {
		case s.committed <- res:
		case <-s.done:
		}
	})
	return nil
}

// onCommitted takes the outcome of an asynchronous commit: the offsets
// whose commit failed are committed again, after RetryInterval rather than
// at once, since the broker may be gone for a while.
func (s *stream) onCommitted(res commitResult) {
	s.committing = false
	if len(res.failed) > 0 {
		s.lastCommit = time.Now().Add(s.cfg.RetryInterval)
	}
	for p, off := range res.failed {
		if w := s.windows[p]; w != nil && w.committed == off {
			w.committed = -1 // commit again
		}
	}
}

// commitError returns the first partition error of a commit response.
func commitError(resp *kmsg.OffsetCommitResponse) error {
	if resp == nil {
		return nil
	}
	for _, t := range resp.Topics {
		for _, p := range t.Partitions {
			if err := kerr.ErrorForCode(p.ErrorCode); err != nil {
				return fmt.Errorf("partition %d: %w", p.Partition, err)
			}
		}
	}
	return nil
}

// commitSync commits the given revoked partitions now (group mode only).
func (s *stream) commitSync(parts []int32) {
	offsets := map[int32]kgo.EpochOffset{}
	for _, p := range parts {
		if w := s.windows[p]; w != nil && w.commit.Offset >= 0 {
			offsets[p] = w.commit
			w.committed = w.commit.Offset
		}
	}
	if len(offsets) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s.cl.CommitOffsetsSync(ctx, map[string]map[int32]kgo.EpochOffset{s.topic: offsets},
		func(_ *kgo.Client, _ *kmsg.OffsetCommitRequest, _ *kmsg.OffsetCommitResponse, err error) {
			if err != nil {
				s.log.Warn("offset commit on revoke failed", "error", err.Error())
			}
		})
}
