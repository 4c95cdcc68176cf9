package observe

import (
	"slices"
	"time"
)

// joinPollInterval is how often the poller looks while a pipeline waits
// to start, join its group or for a rebalance to end, so that readiness
// (the "pipeline ready" log line, /readyz, millrace_pipeline_ready)
// follows the join within a second rather than at the next regular poll.
const joinPollInterval = 250 * time.Millisecond

// waitingStates are the states a pipeline leaves by itself, soon.
var waitingStates = []string{StateStarting, StateJoining, StateRebalancing}

// interval is how long the poller waits before its next poll: the
// configured interval, shorter while a pipeline is about to be ready.
func (pl *poller) interval(now time.Time) time.Duration {
	every := pl.o.opts.PollInterval
	for _, p := range pl.o.pipelines() {
		if slices.Contains(waitingStates, p.readiness(now).State) {
			return min(every, joinPollInterval)
		}
	}
	return every
}
