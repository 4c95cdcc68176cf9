package cli

import (
	"time"

	"github.com/millrace-dev/millrace/pipeline/observe"
	"github.com/millrace-dev/millrace/pipeline/replay"
)

// runningReplays lists, for the status page, the replays running in the
// runner's working directory (where `replay` keeps its checkpoints by
// default).
func runningReplays(now time.Time) []observe.ReplayStatus {
	return replay.Running(replay.DefaultCheckpointDir, now)
}
