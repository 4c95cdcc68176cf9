package observe

import (
	"math"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"time"

	dto "github.com/prometheus/client_model/go"
)

// Status is what the status page shows. Every figure is read from the
// metrics /metrics exports, so the page and a scrape agree.
type Status struct {
	Version   string           `json:"version"`
	GoVersion string           `json:"go_version"`
	StartedAt time.Time        `json:"started_at"`
	Now       time.Time        `json:"now"`
	Ready     bool             `json:"ready"`
	Healthy   bool             `json:"healthy"`
	Health    string           `json:"health,omitempty"`
	Pipelines []PipelineStatus `json:"pipelines"`
	Replays   []ReplayStatus   `json:"replays"`
}

// PipelineStatus is one pipeline on the status page.
type PipelineStatus struct {
	Name            string       `json:"name"`
	Readiness                    // ready, state, reason
	Input           Input        `json:"input"`
	Outputs         []string     `json:"outputs"`
	DeadLetterTopic string       `json:"dead_letter_topic,omitempty"`
	Records         Records      `json:"records"`
	OutByTopic      []TopicCount `json:"out_by_topic"`
	Rates           Rates        `json:"rates"`
	Lag             *Lag         `json:"lag"` // null until first polled
	Group           Group        `json:"group"`
	Latency         Histogram    `json:"latency"`
	Steps           []StepStatus `json:"steps"`
	Errors          []ErrorEntry `json:"errors"`
	// Stalled are the input partitions stopped at a record that cannot
	// be written.
	Stalled []Stall `json:"stalled"`
	// Decode and Stop explain the chain's counts (status_chain.go).
	Decode DecodeStatus `json:"decode"`
	Stop   *StopStatus  `json:"stop,omitempty"`
}

// Input is the consumed topic and group.
type Input struct {
	Topic string `json:"topic"`
	Group string `json:"group"`
}

// Records are the pipeline's record counters.
type Records struct {
	In             float64 `json:"in"`
	Out            float64 `json:"out"`
	Filtered       float64 `json:"filtered"`
	DeadLettered   float64 `json:"dead_lettered"`
	FailedAttempts float64 `json:"failed_attempts"`
	InFlight       float64 `json:"in_flight"`
}

// TopicCount is the records written to one output topic.
type TopicCount struct {
	Topic   string  `json:"topic"`
	Records float64 `json:"records"`
}

// Rates are records per second, averaged over the last ten seconds.
type Rates struct {
	InPerSecond  float64 `json:"in_per_second"`
	OutPerSecond float64 `json:"out_per_second"`
}

// Lag is the consumer lag of the input topic.
type Lag struct {
	Total      float64        `json:"total"`
	Partitions []PartitionLag `json:"partitions"`
	UpdatedAt  time.Time      `json:"updated_at"`
}

// PartitionLag is the lag of one partition.
type PartitionLag struct {
	Partition int     `json:"partition"`
	Lag       float64 `json:"lag"`
}

// Group is the consumer group as last polled.
type Group struct {
	State    string `json:"state"`
	Members  int    `json:"members"`
	Assigned int    `json:"assigned_partitions"`
}

// Histogram summarises a histogram: observations, mean and estimated
// quantiles (as Prometheus' histogram_quantile estimates them).
type Histogram struct {
	Count       uint64  `json:"count"`
	MeanSeconds float64 `json:"mean_seconds"`
	P50Seconds  float64 `json:"p50_seconds"`
	P99Seconds  float64 `json:"p99_seconds"`
}

// StepStatus is one transform step with its counts.
type StepStatus struct {
	Index          int       `json:"index"`
	Name           string    `json:"name"`
	In             uint64    `json:"in"`
	Out            float64   `json:"out"`
	FailedAttempts float64   `json:"failed_attempts"`
	Duration       Histogram `json:"duration"`
}

// Status gathers the status of every pipeline.
func (o *Observer) Status(now time.Time) (Status, error) {
	fams, err := o.own.Gather()
	if err != nil {
		return Status{}, err
	}
	f := index(fams)
	healthy, why := o.Health(now)
	ready, rs := o.Ready(now)
	st := Status{
		Version: o.opts.Version, GoVersion: runtime.Version(),
		StartedAt: o.started.UTC(), Now: now.UTC(),
		Ready: ready, Healthy: healthy, Health: why,
		Pipelines: []PipelineStatus{},
		Replays:   o.runningReplays(now),
	}
	for _, p := range o.pipelines() {
		l := p.label
		ps := PipelineStatus{
			Name:            l,
			Readiness:       rs[l],
			Input:           Input{Topic: p.input, Group: p.group},
			Outputs:         p.outputs,
			DeadLetterTopic: p.deadLetter,
			Records: Records{
				In:             f.sum(MetricRecordsIn, "pipeline", l),
				Out:            f.sum(MetricRecordsOut, "pipeline", l),
				Filtered:       f.sum(MetricFiltered, "pipeline", l),
				DeadLettered:   f.sum(MetricDeadLettered, "pipeline", l),
				FailedAttempts: f.sum(MetricFailures, "pipeline", l),
				InFlight:       f.sum(MetricInFlight, "pipeline", l),
			},
			OutByTopic: []TopicCount{},
			Latency:    f.histogram(MetricLatency, "pipeline", l),
			Steps:      []StepStatus{},
			Errors:     p.recentErrors(),
			Stalled:    p.stalled(),
		}
		ps.Rates.InPerSecond, ps.Rates.OutPerSecond = o.rates(l)
		for _, m := range f.match(MetricRecordsOut, "pipeline", l) {
			ps.OutByTopic = append(ps.OutByTopic, TopicCount{Topic: m.labels["topic"], Records: m.value})
		}
		sort.Slice(ps.OutByTopic, func(i, j int) bool { return ps.OutByTopic[i].Topic < ps.OutByTopic[j].Topic })
		p.mu.Lock()
		poll := p.poll
		p.mu.Unlock()
		ps.Group = Group{State: poll.groupState, Members: poll.members, Assigned: poll.assigned}
		if !poll.lagAt.IsZero() {
			lag := &Lag{Partitions: []PartitionLag{}, UpdatedAt: poll.lagAt.UTC()}
			for _, m := range f.match(MetricConsumerLag, "pipeline", l) {
				part, _ := strconv.Atoi(m.labels["partition"])
				lag.Partitions = append(lag.Partitions, PartitionLag{Partition: part, Lag: m.value})
				lag.Total += m.value
			}
			sort.Slice(lag.Partitions, func(i, j int) bool { return lag.Partitions[i].Partition < lag.Partitions[j].Partition })
			ps.Lag = lag
		}
		for _, s := range p.steps {
			idx := strconv.Itoa(s.Index)
			d := f.histogram(MetricStepDuration, "pipeline", l, "step", s.Name, "index", idx)
			ps.Steps = append(ps.Steps, StepStatus{
				Index: s.Index, Name: s.Name,
				In:             uint64(f.sum(MetricStepInputs, "pipeline", l, "step", s.Name, "index", idx)),
				Out:            f.sum(MetricStepOutputs, "pipeline", l, "step", s.Name, "index", idx),
				FailedAttempts: f.sum(MetricFailures, "pipeline", l, "step", s.Name, "index", idx),
				Duration:       d,
			})
		}
		ps.explainChain(f)
		st.Pipelines = append(st.Pipelines, ps)
	}
	return st, nil
}

// families indexes gathered metrics by name.
type families map[string]*dto.MetricFamily

type sample struct {
	labels map[string]string
	value  float64
	hist   *dto.Histogram
}

func index(fams []*dto.MetricFamily) families {
	f := families{}
	for _, mf := range fams {
		f[mf.GetName()] = mf
	}
	return f
}

// match returns the samples of a metric whose labels include the given
// name/value pairs.
func (f families) match(name string, kv ...string) []sample {
	mf := f[name]
	if mf == nil {
		return nil
	}
	var out []sample
	for _, m := range mf.GetMetric() {
		labels := map[string]string{}
		for _, lp := range m.GetLabel() {
			labels[lp.GetName()] = lp.GetValue()
		}
		ok := true
		for i := 0; i+1 < len(kv); i += 2 {
			if labels[kv[i]] != kv[i+1] {
				ok = false
				break
			}
		}
		if !ok {
			continue
		}
		s := sample{labels: labels}
		switch {
		case m.Counter != nil:
			s.value = m.Counter.GetValue()
		case m.Gauge != nil:
			s.value = m.Gauge.GetValue()
		case m.Histogram != nil:
			s.hist = m.Histogram
			s.value = float64(m.Histogram.GetSampleCount())
		}
		out = append(out, s)
	}
	return out
}

// sum adds up the matching samples of a counter or gauge.
func (f families) sum(name string, kv ...string) float64 {
	var t float64
	for _, s := range f.match(name, kv...) {
		t += s.value
	}
	return t
}

// histogram merges the matching samples of a histogram.
func (f families) histogram(name string, kv ...string) Histogram {
	var count uint64
	var sum float64
	cum := map[float64]uint64{}
	for _, s := range f.match(name, kv...) {
		if s.hist == nil {
			continue
		}
		count += s.hist.GetSampleCount()
		sum += s.hist.GetSampleSum()
		for _, b := range s.hist.GetBucket() {
			cum[b.GetUpperBound()] += b.GetCumulativeCount()
		}
	}
	h := Histogram{Count: count}
	if count == 0 {
		return h
	}
	h.MeanSeconds = sum / float64(count)
	h.P50Seconds = quantile(0.5, cum, count)
	h.P99Seconds = quantile(0.99, cum, count)
	return h
}

// quantile estimates a quantile from cumulative bucket counts with linear
// interpolation inside the bucket, as histogram_quantile does. Beyond the
// last bucket it returns that bucket's upper bound.
func quantile(q float64, cum map[float64]uint64, count uint64) float64 {
	bounds := make([]float64, 0, len(cum))
	for b := range cum {
		bounds = append(bounds, b)
	}
	slices.Sort(bounds)
	rank := q * float64(count)
	lower, below := 0.0, uint64(0)
	for _, b := range bounds {
		c := cum[b]
		if float64(c) >= rank && c > below {
			if math.IsInf(b, 1) {
				return lower
			}
			return lower + (b-lower)*(rank-float64(below))/float64(c-below)
		}
		lower, below = b, c
	}
	return lower
}
