package observe

import (
	"slices"

	"github.com/prometheus/client_golang/prometheus"
)

// pipelines is a snapshot of the watched pipelines.
func (o *Observer) pipelines() []*Pipeline {
	o.pipesMu.RLock()
	defer o.pipesMu.RUnlock()
	return slices.Clone(o.pipes)
}

// named is the pipeline of that configured name, or nil.
func (o *Observer) named(name string) *Pipeline {
	o.pipesMu.RLock()
	defer o.pipesMu.RUnlock()
	return o.byName[name]
}

// RemovePipeline stops watching a pipeline a reload removed or is about to
// restart, and drops its series from /metrics: a restarted one starts
// from zero, as after a restart of the runner.
func (o *Observer) RemovePipeline(name string) {
	if o == nil {
		return
	}
	o.pipesMu.Lock()
	p := o.byName[name]
	delete(o.byName, name)
	o.pipes = slices.DeleteFunc(o.pipes, func(q *Pipeline) bool { return q == p })
	o.pipesMu.Unlock()
	if p == nil {
		return
	}
	l := prometheus.Labels{"pipeline": p.label}
	m := o.m
	for _, v := range []interface{ DeletePartialMatch(prometheus.Labels) int }{
		m.in, m.filtered, m.dead, m.pollFailures, m.out, m.failures, m.stepOutputs, m.stepInputs,
		m.stepDuration, m.latency, m.lag, m.ready, m.paused, m.stalled,
	} {
		v.DeletePartialMatch(l)
	}
}

// Reloaded counts a reload of the config: ok, or refused (the file was
// not valid, or changed what a reload cannot), which changes nothing.
func (o *Observer) Reloaded(ok bool) {
	if o == nil {
		return
	}
	result := "ok"
	if !ok {
		result = "failed"
	}
	o.m.reloads.WithLabelValues(result).Inc()
}
