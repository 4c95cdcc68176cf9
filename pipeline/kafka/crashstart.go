package kafka

import (
	"context"

	"github.com/twmb/franz-go/pkg/kadm"
)

// groupStart resolves the offsets a group without a committed offset
// starts at, the way the client's reset offset (groupOpts) resolves them:
// the log start for "oldest", the end (ends, already listed) for
// "newest". Crash detection commits them on assignment, so that the
// first record a new group reads is counted like any other, and the
// client's offset fetch, which follows the assignment callback, starts
// exactly there.
func (s *stream) groupStart(ctx context.Context, adm *kadm.Client, ends kadm.ListedOffsets) (kadm.ListedOffsets, error) {
	if s.cfg.Start == "newest" {
		return ends, nil
	}
	starts, err := adm.ListStartOffsets(ctx, s.topic)
	if err == nil {
		err = starts.Error()
	}
	return starts, err
}
