package observe

import (
	"fmt"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/millrace-dev/millrace/pipeline/config"
	"github.com/millrace-dev/millrace/transforms"
	"github.com/prometheus/client_golang/prometheus"
)

// Pipeline is one watched pipeline. Its methods are the runner's hooks;
// each does nothing on a nil *Pipeline.
type Pipeline struct {
	o     *Observer
	cfg   *config.Pipeline
	name  string // configured name
	label string // shown name: the configured one, unless it came from the environment

	input, group, deadLetter string // shown names
	outputs                  []string
	shownTopic               map[string]string // configured topic -> shown name, for topics that came from the environment
	hidden                   hiddenNames       // names from the environment, for the texts shown (hidden.go)
	steps                    []stepInfo
	clientID                 string
	wedgeLimit               time.Duration

	in, filtered, dead prometheus.Counter
	out, failures      *prometheus.CounterVec
	latency            prometheus.Observer
	stepDuration       []prometheus.Observer
	stepOutputs        []prometheus.Counter
	stepInputs         []prometheus.Counter

	handlerStarted atomic.Bool
	wasReady       atomic.Bool // as last logged
	member         atomic.Pointer[GroupMember]
	paused         atomic.Pointer[pause] // nil while not paused
	inFlight       atomic.Int64
	lastProgress   atomic.Int64 // Unix nanoseconds: a record started after none was in flight
	// finished counts the records End saw, so that a record finishing
	// reads no clock (a reading costs up to 100 ns on some virtual
	// machines): noteProgress notes when the count last moved.
	finished atomic.Uint64
	progress progressSeen // under mu

	topicLabels     sync.Map // output topics named in metrics: shown name -> its counter
	topicLabelCount int      // their number, under mu

	mu     sync.Mutex
	failed error // the error the pipeline stopped on
	stalls map[int32]Stall
	errs   []ErrorEntry
	poll   pollState
}

type stepInfo struct {
	Name  string
	Index int
}

// GroupMember is implemented by subscribers that know their consumer group
// member id ("" while not joined). Readiness then looks for exactly that
// member in the group; without it, for any member with the runner's client
// id.
type GroupMember interface {
	GroupMemberID() string
}

// maxErrors is how many recent errors a pipeline keeps for the status page.
const maxErrors = 10

// maxErrorText bounds an error message kept for the status page.
const maxErrorText = 500

// Redacted stands for a name that came from the environment.
const Redacted = "(from environment)"

func newPipeline(o *Observer, cp *config.Pipeline, index int) *Pipeline {
	shown := func(path, value string) string {
		if cp.FromEnv[path] {
			return Redacted
		}
		return value
	}
	p := &Pipeline{
		o:          o,
		cfg:        cp,
		name:       cp.Name,
		label:      cp.Name,
		input:      shown("input.topic", cp.Input.Topic),
		group:      shown("input.group", cp.Input.Group),
		deadLetter: shown("errors.dead_letter_topic", cp.Errors.DeadLetterTopic),
		shownTopic: map[string]string{},
		clientID:   o.opts.ClientID,
	}
	if cp.FromEnv["name"] {
		p.label = fmt.Sprintf("pipelines[%d]", index)
		p.hidden.add(cp.Name, p.label)
	}
	if p.input == Redacted {
		p.hidden.add(cp.Input.Topic, Redacted)
	}
	if p.group == Redacted {
		p.hidden.add(cp.Input.Group, Redacted)
	}
	outPaths := []string{"output.topic"}
	for i := range cp.Output.Routes {
		outPaths = append(outPaths, fmt.Sprintf("output.routes[%d].topic", i))
	}
	for i, t := range cp.Output.Topics() {
		s := shown(outPaths[i], t)
		if s == Redacted {
			s = fmt.Sprintf("%s.%s", p.label, outPaths[i])
			p.shownTopic[t] = s
		}
		if !slices.Contains(p.outputs, s) {
			p.outputs = append(p.outputs, s)
		}
	}
	if p.deadLetter == Redacted {
		p.shownTopic[cp.Errors.DeadLetterTopic] = p.label + ".errors.dead_letter_topic"
	}
	for t, shown := range p.shownTopic {
		p.hidden.add(t, shown)
	}
	r := cp.Errors.Retry
	p.wedgeLimit = cp.Timeout*time.Duration(r.MaxRetries+1) + r.MaxInterval*time.Duration(r.MaxRetries) + time.Minute

	m := o.m
	p.in = m.in.WithLabelValues(p.label)
	p.filtered = m.filtered.WithLabelValues(p.label)
	p.dead = m.dead.WithLabelValues(p.label)
	p.out = m.out.MustCurryWith(prometheus.Labels{"pipeline": p.label})
	p.failures = m.failures.MustCurryWith(prometheus.Labels{"pipeline": p.label})
	p.latency = m.latency.WithLabelValues(p.label)
	m.ready.WithLabelValues(p.label).Set(0)
	m.stalled.WithLabelValues(p.label).Set(0)
	m.paused.WithLabelValues(p.label).Set(0)
	for _, t := range p.outputs {
		// Exported as zero before the first record; always named, not
		// counted among maxTopicLabels.
		p.topicLabels.Store(t, p.out.WithLabelValues(t))
	}
	for _, s := range cp.Steps {
		idx := strconv.Itoa(s.Index)
		p.steps = append(p.steps, stepInfo{Name: s.Name, Index: s.Index})
		p.stepDuration = append(p.stepDuration, m.stepDuration.WithLabelValues(p.label, s.Name, idx))
		p.stepOutputs = append(p.stepOutputs, m.stepOutputs.WithLabelValues(p.label, s.Name, idx))
		p.stepInputs = append(p.stepInputs, m.stepInputs.WithLabelValues(p.label, s.Name, idx))
		m.failures.WithLabelValues(p.label, s.Name, idx) // export zero before the first failure
	}
	p.lastProgress.Store(time.Now().UnixNano())
	return p
}

// The configured names, for requests to the brokers (never shown).
func (p *Pipeline) topicName() string      { return p.cfg.Input.Topic }
func (p *Pipeline) groupName() string      { return p.cfg.Input.Group }
func (p *Pipeline) deadLetterName() string { return p.cfg.Errors.DeadLetterTopic }

// Label is the pipeline's name as shown in metrics and on the admin server.
func (p *Pipeline) Label() string { return p.label }

// Begin marks an input record entering the pipeline's middleware.
func (p *Pipeline) Begin() {
	if p == nil {
		return
	}
	if p.inFlight.Add(1) == 1 {
		p.lastProgress.Store(time.Now().UnixNano())
	}
}

// End marks an input record leaving the pipeline's middleware; done says
// it is finished (acked: written, filtered or dead-lettered), which counts
// it in. A record that failed comes again and is counted when it finishes.
func (p *Pipeline) End(done bool) {
	if p == nil {
		return
	}
	if done {
		p.in.Inc()
	}
	p.finished.Add(1)
	p.inFlight.Add(-1)
}

// Filtered counts an input record the chain dropped.
func (p *Pipeline) Filtered() {
	if p != nil {
		p.filtered.Inc()
	}
}

// Out counts an output record acknowledged on topic.
func (p *Pipeline) Out(topic string) {
	if p == nil {
		return
	}
	if s, ok := p.shownTopic[topic]; ok {
		topic = s
	}
	p.outCounter(topic).Inc()
}

// maxTopicLabels bounds the output topics, besides those of output.topic
// and output.routes, that a pipeline's metrics name: with
// output.allowed_topics patterns, records may pick among many topics, and
// every label value is a series Prometheus keeps.
const maxTopicLabels = 100

// OtherTopics is the label of the output topics beyond maxTopicLabels.
const OtherTopics = "(other)"

// outCounter is the counter of output records on topic (a shown name):
// its own, or OtherTopics' once maxTopicLabels others were named. Named
// topics' counters are kept, so that counting a record makes no label
// lookup.
func (p *Pipeline) outCounter(topic string) prometheus.Counter {
	if c, ok := p.topicLabels.Load(topic); ok {
		return c.(prometheus.Counter)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if c, ok := p.topicLabels.Load(topic); ok {
		return c.(prometheus.Counter)
	}
	if topic == OtherTopics || p.topicLabelCount >= maxTopicLabels {
		return p.out.WithLabelValues(OtherTopics)
	}
	p.topicLabelCount++
	c := p.out.WithLabelValues(topic)
	p.topicLabels.Store(topic, c)
	return c
}

// Delivered observes the end-to-end latency of an input record whose
// outputs were all acknowledged; ts is its Kafka timestamp (zero: unknown).
func (p *Pipeline) Delivered(ts time.Time) {
	if p == nil || ts.IsZero() {
		return
	}
	p.latency.Observe(max(time.Since(ts).Seconds(), 0))
}

// DeadLettered counts an input record written to the dead-letter topic.
func (p *Pipeline) DeadLettered() {
	if p != nil {
		p.dead.Inc()
	}
}

// ErrorEntry is a recent failure of a pipeline, for the status page.
type ErrorEntry struct {
	Time  time.Time `json:"time"`
	Step  string    `json:"step"`
	Index int       `json:"index"`
	// Key is the record's key, quoted and cut to maxKeyText ("" when the
	// record has none).
	Key       string `json:"key,omitempty"`
	Partition string `json:"partition,omitempty"`
	Offset    string `json:"offset,omitempty"`
	Error     string `json:"error"`
}

// Failed counts a failed attempt at a record and keeps it among the recent
// errors. step is a transform name (index its position) or one of the Step
// constants (index -1).
func (p *Pipeline) Failed(step string, index int, key []byte, partition int32, offset int64, err error) {
	if p == nil || err == nil {
		return
	}
	p.failures.WithLabelValues(step, strconv.Itoa(index)).Inc()
	p.remember(ErrorEntry{Time: time.Now().UTC(), Step: step, Index: index, Key: shownKey(key),
		Partition: strconv.Itoa(int(partition)), Offset: strconv.FormatInt(offset, 10), Error: err.Error()})
}

// Stall is an input partition stopped at a record that cannot be written.
type Stall struct {
	Partition int32     `json:"partition"`
	Offset    int64     `json:"offset"`
	Since     time.Time `json:"since"`
	Error     string    `json:"error"`
}

// Stalled records that an input partition stopped at offset because of
// err (its record cannot be written: its dead letter was refused), or,
// with err nil, that it goes on again.
func (p *Pipeline) Stalled(partition int32, offset int64, err error) {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if err == nil {
		delete(p.stalls, partition)
	} else {
		if p.stalls == nil {
			p.stalls = map[int32]Stall{}
		}
		st, ok := p.stalls[partition]
		if !ok || st.Offset != offset {
			st = Stall{Partition: partition, Offset: offset, Since: time.Now().UTC()}
		}
		st.Error = p.hidden.hide(err.Error())
		if len(st.Error) > maxErrorText {
			st.Error = st.Error[:maxErrorText] + "…"
		}
		p.stalls[partition] = st
	}
	p.o.m.stalled.WithLabelValues(p.label).Set(float64(len(p.stalls)))
}

// stalled returns the stalled partitions, by partition.
func (p *Pipeline) stalled() []Stall {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]Stall, 0, len(p.stalls))
	for _, st := range p.stalls {
		out = append(out, st)
	}
	slices.SortFunc(out, func(a, b Stall) int { return int(a.Partition - b.Partition) })
	return out
}

// Stopped records that the pipeline stopped on err.
func (p *Pipeline) Stopped(err error) {
	if p == nil {
		return
	}
	p.mu.Lock()
	if p.failed == nil {
		p.failed = err
	}
	p.mu.Unlock()
	p.remember(ErrorEntry{Time: time.Now().UTC(), Step: "stopped", Index: -1, Error: "pipeline stopped: " + err.Error()})
}

func (p *Pipeline) remember(e ErrorEntry) {
	e.Error = p.hidden.hide(e.Error)
	if len(e.Error) > maxErrorText {
		e.Error = e.Error[:maxErrorText] + "…"
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.errs = append(p.errs, e)
	if len(p.errs) > maxErrors {
		p.errs = slices.Delete(p.errs, 0, len(p.errs)-maxErrors)
	}
}

// StepTimeOneIn is the share of records whose steps are timed for
// millrace_step_duration_seconds, as transforms.Chain.TimeOneIn: one in
// 16, at random. Recording four steps' times for every record was 5% of
// a record's CPU, as much as the steps of test/bench's chain; a sample
// gives the same distribution, and millrace_step_inputs_total counts every
// record.
const StepTimeOneIn = 16

// StepObserver returns the hook for transforms.Chain.Observe: it counts
// the records every step took and returned, and records the time of the
// timed ones.
func (p *Pipeline) StepObserver() func(*transforms.Step, time.Duration, int, error) {
	if p == nil {
		return nil
	}
	return func(s *transforms.Step, d time.Duration, outputs int, err error) {
		i := s.Index
		if i < 0 || i >= len(p.stepDuration) {
			return
		}
		p.stepInputs[i].Inc()
		if d >= 0 { // a timed run (StepTimeOneIn)
			p.stepDuration[i].Observe(d.Seconds())
		}
		if err == nil {
			p.stepOutputs[i].Add(float64(outputs))
		}
	}
}

// Watch follows the pipeline's handler: started is closed once it
// consumes; sub is its subscriber, which may implement GroupMember.
func (p *Pipeline) Watch(started <-chan struct{}, sub any) {
	if p == nil {
		return
	}
	if gm, ok := sub.(GroupMember); ok {
		p.member.Store(&gm)
	}
	go func() {
		select {
		case <-started:
			p.handlerStarted.Store(true)
		case <-p.o.stop:
		}
	}()
}

// noteProgress notes now as the time of the last progress if records
// finished since it was last called: the heartbeat calls it every second,
// which is precise enough for a wedge limit of a minute or more.
func (p *Pipeline) noteProgress(now time.Time) time.Time {
	p.mu.Lock()
	defer p.mu.Unlock()
	if n := p.finished.Load(); n != p.progress.finished {
		p.progress = progressSeen{finished: n, at: now}
	}
	return p.progress.at
}

// stuck reports whether records have been in flight for longer than the
// wedge limit without any finishing.
func (p *Pipeline) stuck(now time.Time) (bool, time.Duration) {
	last := p.noteProgress(now)
	if p.inFlight.Load() <= 0 {
		return false, 0
	}
	if started := time.Unix(0, p.lastProgress.Load()); started.After(last) {
		last = started
	}
	d := now.Sub(last)
	return d > p.wedgeLimit, d
}

// progressSeen is the count of finished records as noteProgress last saw
// it, and when it saw it move.
type progressSeen struct {
	finished uint64
	at       time.Time
}

// recentErrors returns the kept errors, newest first.
func (p *Pipeline) recentErrors() []ErrorEntry {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := slices.Clone(p.errs)
	slices.Reverse(out)
	return out
}
