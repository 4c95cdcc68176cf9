package observe

import (
	"fmt"
	"strings"
	"time"
)

// Readiness is whether a pipeline is ready, its state, and why not.
type Readiness struct {
	Ready  bool   `json:"ready"`
	State  string `json:"state"`
	Reason string `json:"reason,omitempty"`
}

// Pipeline states, as shown on the status page and in /readyz.
const (
	StateRunning           = "running"
	StateStarting          = "starting"
	StateJoining           = "joining"
	StateRebalancing       = "rebalancing"
	StateBrokerUnreachable = "broker unreachable"
	StateInputUnavailable  = "input unavailable"
	StateDeadLetterMissing = "dead-letter topic unavailable"
	StateStalled           = "partition stalled"
	StateStopped           = "stopped"
	StateStopping          = "stopping"
	StatePaused            = "paused"
)

// readiness says whether the pipeline is ready: consuming, a member of its
// consumer group in a stable state, its brokers answering, and its input
// and dead-letter topics present.
func (p *Pipeline) readiness(now time.Time) Readiness {
	p.mu.Lock()
	failed, ps := p.failed, p.poll
	p.mu.Unlock()
	stalls := p.stalled()
	not := func(state, format string, args ...any) Readiness {
		return Readiness{State: state, Reason: p.hidden.hide(fmt.Sprintf(format, args...))}
	}
	stale := 3*p.o.opts.PollInterval + 10*time.Second
	switch {
	case failed != nil:
		return not(StateStopped, "stopped on an error: %v", failed)
	case p.o.closing.Load():
		return not(StateStopping, "the runner is shutting down")
	case len(stalls) > 0:
		var parts []string
		for _, st := range stalls {
			parts = append(parts, fmt.Sprintf("partition %d at offset %d since %s", st.Partition, st.Offset, st.Since.Format(time.RFC3339)))
		}
		return not(StateStalled, "%s of input topic %s stopped at a record that cannot be written (the other partitions go on; tried again every 10s): %s",
			strings.Join(parts, ", "), p.input, stalls[0].Error)
	case p.paused.Load() != nil:
		pa := p.paused.Load()
		return not(StatePaused, "paused since %s: %s", pa.since.UTC().Format(time.RFC3339), pa.reason)
	case !p.handlerStarted.Load():
		return not(StateStarting, "not consuming yet")
	case !ps.polled:
		return not(StateJoining, "waiting for the first check of consumer group %s", p.group)
	case ps.brokerErr != nil:
		return not(StateBrokerUnreachable, "broker unreachable: %v", ps.brokerErr)
	case now.Sub(ps.okAt) > stale:
		return not(StateBrokerUnreachable, "broker unreachable: no answer since %s", ps.okAt.UTC().Format(time.RFC3339))
	case ps.inputErr != nil:
		return not(StateInputUnavailable, "input topic %s unavailable: %v", p.input, ps.inputErr)
	case ps.groupErr != nil:
		return not(StateRebalancing, "consumer group %s cannot be described: %v", p.group, ps.groupErr)
	case ps.groupState != "Stable" && !ps.joined:
		return not(StateJoining, "not a member of consumer group %s yet (group state %s)", p.group, ps.groupState)
	case ps.groupState != "Stable":
		return not(StateRebalancing, "consumer group %s is rebalancing (group state %s)", p.group, ps.groupState)
	case !ps.joined:
		return not(StateJoining, "not a member of consumer group %s yet (%d other member(s))", p.group, ps.members)
	case ps.deadErr != nil:
		return not(StateDeadLetterMissing, "dead-letter topic %s unavailable: %v", p.deadLetter, ps.deadErr)
	}
	return Readiness{Ready: true, State: StateRunning}
}

// updateReady sets millrace_pipeline_ready for every pipeline, and logs
// when a pipeline becomes ready or stops being ready.
func (o *Observer) updateReady(now time.Time) {
	for _, p := range o.pipelines() {
		r := p.readiness(now)
		v := 0.0
		if r.Ready {
			v = 1
		}
		o.m.ready.WithLabelValues(p.label).Set(v)
		was := p.wasReady.Swap(r.Ready)
		switch {
		case r.Ready && !was:
			o.opts.Logger.Info("pipeline ready", "pipeline", p.label, "group", p.group)
		case !r.Ready && was && r.State != StateStopping:
			o.opts.Logger.Warn("pipeline not ready", "pipeline", p.label, "state", r.State, "reason", r.Reason)
		}
	}
}
