package observe

import "time"

// pause is why and since when a pipeline is paused.
type pause struct {
	reason string
	since  time.Time
}

// Paused records that the pipeline stopped fetching, and why: /readyz and
// the status page show state "paused" with the reason and the time, and
// millrace_pipeline_paused is 1. A pipeline already paused keeps its first
// reason.
func (p *Pipeline) Paused(reason string) {
	if p == nil {
		return
	}
	if p.paused.CompareAndSwap(nil, &pause{reason: reason, since: time.Now()}) {
		p.o.m.paused.WithLabelValues(p.label).Set(1)
	}
}

// Resumed records that the pipeline fetches again.
func (p *Pipeline) Resumed() {
	if p == nil {
		return
	}
	p.paused.Store(nil)
	p.o.m.paused.WithLabelValues(p.label).Set(0)
}
