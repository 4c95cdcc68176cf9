// Package observe watches a runner: its Prometheus metrics, the consumer
// lag and group state of each pipeline (polled from the brokers), liveness
// and readiness, and the status the admin server shows. It knows nothing of
// HTTP; pipeline/admin serves what it gathers.
//
// Hooks are methods on *Pipeline and do nothing on a nil *Pipeline, so that
// a runner without an observer (`pipeline-runner test`) pays nothing.
package observe

import (
	"context"
	"fmt"
	"log/slog"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	wmmetrics "github.com/ThreeDotsLabs/watermill/components/metrics"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/millrace-dev/millrace/pipeline/config"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// Options configure an Observer.
type Options struct {
	// Version labels millrace_runner_info; empty means the module version
	// from the build info.
	Version string
	// ClientID is the Kafka client id the runner's consumers use; readiness
	// looks for a group member with it.
	ClientID string
	// PollInterval is how often lag and group state are polled. Default 5s.
	PollInterval time.Duration
	// Logger gets the observer's own logs; nil discards them.
	Logger *slog.Logger
	// Replays lists the replays running next to the runner, for the
	// status page; nil lists none.
	Replays func(now time.Time) []ReplayStatus
}

// Observer gathers a runner's metrics and health. Create it with New, add
// the pipelines, then Start it once the brokers are known; Close stops it.
type Observer struct {
	opts    Options
	own     *prometheus.Registry // millrace_* metrics; the status page reads these
	std     *prometheus.Registry // Watermill's, the Go runtime's and the process's
	m       *metricSet
	started time.Time

	pipesMu sync.RWMutex // a reload adds, replaces and removes pipelines
	pipes   []*Pipeline
	byName  map[string]*Pipeline // by configured name

	heartbeat atomic.Int64 // Unix nanoseconds of the last tick
	ticking   atomic.Bool  // the heartbeat runs (after Start)
	closing   atomic.Bool  // the runner is shutting down

	handlerOnce sync.Once
	handlerVec  *prometheus.HistogramVec // handlerTimes

	mu      sync.Mutex
	samples []rateSample // totals per second, newest last

	stop chan struct{}
	done sync.WaitGroup
	once sync.Once
}

// New creates an observer and registers its metrics; it does no I/O.
func New(opts Options) *Observer {
	if opts.PollInterval <= 0 {
		opts.PollInterval = 5 * time.Second
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Version == "" {
		opts.Version = moduleVersion()
	}
	o := &Observer{
		opts:    opts,
		own:     prometheus.NewRegistry(),
		std:     prometheus.NewRegistry(),
		started: time.Now(),
		byName:  map[string]*Pipeline{},
		stop:    make(chan struct{}),
	}
	o.m = newMetricSet(o.own)
	o.own.MustRegister(inFlightCollector{o})
	o.m.info.WithLabelValues(opts.Version, runtime.Version()).Set(1)
	o.std.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	o.heartbeat.Store(time.Now().UnixNano())
	return o
}

func moduleVersion() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
		return bi.Main.Version
	}
	return "(devel)"
}

// Gatherer returns everything /metrics exports.
func (o *Observer) Gatherer() prometheus.Gatherer {
	return prometheus.Gatherers{o.own, o.std}
}

// Version is the runner version shown on the status page.
func (o *Observer) Version() string { return o.opts.Version }

// AddPipeline starts watching a pipeline; index is its position in the
// config, used to name it when its name came from the environment. Add
// every pipeline before Start.
func (o *Observer) AddPipeline(cp *config.Pipeline, index int) *Pipeline {
	p := newPipeline(o, cp, index)
	o.pipesMu.Lock()
	defer o.pipesMu.Unlock()
	o.pipes = append(o.pipes, p)
	o.byName[cp.Name] = p
	return p
}

// Pipeline returns the handle of a pipeline by its configured name; nil
// when o is nil or the pipeline was not added.
func (o *Observer) Pipeline(name string) *Pipeline {
	if o == nil {
		return nil
	}
	return o.named(name)
}

// Pipelines returns the watched pipelines in config order.
func (o *Observer) Pipelines() []*Pipeline { return o.pipelines() }

// InstrumentRouter adds Watermill's Prometheus metrics to a router's
// handlers (execution time) and subscribers (messages received).
func (o *Observer) InstrumentRouter(r *message.Router) {
	b := o.watermillMetrics()
	r.AddSubscriberDecorators(b.DecorateSubscriber)
	r.AddMiddleware(b.NewRouterMiddleware().Middleware)
}

// InstrumentPublisher adds Watermill's publish-time metric to the
// publisher the pipelines write outputs and dead letters with. Messages
// carry the router's context, which names the handler's (unused)
// publisher; the label names pub instead.
func (o *Observer) InstrumentPublisher(pub message.Publisher) (message.Publisher, error) {
	name := strings.TrimPrefix(fmt.Sprintf("%T", pub), "*")
	named := wmmetrics.MetricLabel{Label: "publisher_name", ComputeValueFn: func(context.Context) string { return name }}
	return o.watermillMetrics(named).DecoratePublisher(pub)
}

type pipelineKey struct{}

// WithPipeline names the pipeline of messages handled without a router,
// for the handler_name label of Watermill's metrics.
func WithPipeline(ctx context.Context, name string) context.Context {
	return context.WithValue(ctx, pipelineKey{}, name)
}

func (o *Observer) watermillMetrics(extra ...wmmetrics.MetricLabel) wmmetrics.PrometheusMetricsBuilder {
	// The handler name is the pipeline name: show its label, which hides a
	// name that came from the environment.
	relabel := wmmetrics.MetricLabel{Label: "handler_name", ComputeValueFn: func(ctx context.Context) string {
		name := message.HandlerNameFromCtx(ctx)
		if name == "" {
			name, _ = ctx.Value(pipelineKey{}).(string)
		}
		if p := o.named(name); p != nil {
			return p.label
		}
		if name == "" {
			return "<no handler>"
		}
		return name
	}}
	return wmmetrics.NewPrometheusMetricsBuilderWithConfig(o.std, wmmetrics.PrometheusMetricsBuilderConfig{
		Namespace:        "watermill",
		AdditionalLabels: append([]wmmetrics.MetricLabel{relabel}, extra...),
	})
}

// Start begins polling the brokers for lag and group state with cl, a
// client made as the runner's others are (kafka.NewClient: the same
// brokers and security), which the observer closes when it stops; and
// the heartbeat that /healthz checks. It returns at once.
func (o *Observer) Start(cl *kgo.Client) {
	pl := &poller{o: o, cl: cl, adm: kadm.NewClient(cl)}
	o.heartbeat.Store(time.Now().UnixNano())
	o.ticking.Store(true)
	o.done.Add(2)
	go func() { defer o.done.Done(); o.tick() }()
	go func() { defer o.done.Done(); pl.run(o.stop) }()
}

// ShuttingDown marks the runner as stopping: no pipeline is ready after it.
func (o *Observer) ShuttingDown() {
	if o != nil {
		o.closing.Store(true)
	}
}

// Close stops the poller and the heartbeat.
func (o *Observer) Close() {
	if o == nil {
		return
	}
	o.once.Do(func() { close(o.stop) })
	o.done.Wait()
}

// tick beats the heartbeat and samples the totals for the rates, once a
// second.
func (o *Observer) tick() {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	o.sample(time.Now())
	for {
		select {
		case <-o.stop:
			return
		case now := <-t.C:
			o.heartbeat.Store(now.UnixNano())
			for _, p := range o.pipelines() {
				p.noteProgress(now)
			}
			o.sample(now)
			o.updateReady(now)
		}
	}
}

// rateWindow is the span records per second are averaged over.
const rateWindow = 10 * time.Second

type rateSample struct {
	at      time.Time
	in, out map[string]float64 // by pipeline label
}

func (o *Observer) sample(now time.Time) {
	fams, err := o.own.Gather()
	if err != nil {
		o.opts.Logger.Debug("gather metrics", "error", err.Error())
		return
	}
	f := index(fams)
	s := rateSample{at: now, in: map[string]float64{}, out: map[string]float64{}}
	for _, p := range o.pipelines() {
		s.in[p.label] = f.sum(MetricRecordsIn, "pipeline", p.label)
		s.out[p.label] = f.sum(MetricRecordsOut, "pipeline", p.label)
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	o.samples = append(o.samples, s)
	for len(o.samples) > 2 && now.Sub(o.samples[1].at) >= rateWindow {
		o.samples = o.samples[1:]
	}
}

// rates returns records per second in and out of a pipeline over the last
// rateWindow, from the sampled counters.
func (o *Observer) rates(label string) (in, out float64) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if len(o.samples) < 2 {
		return 0, 0
	}
	first, last := o.samples[0], o.samples[len(o.samples)-1]
	dt := last.at.Sub(first.at).Seconds()
	if dt <= 0 {
		return 0, 0
	}
	return (last.in[label] - first.in[label]) / dt, (last.out[label] - first.out[label]) / dt
}

// Health reports whether the process is alive and not wedged: the
// heartbeat ticks, and no pipeline has held records for longer than its
// retries could take without finishing any.
func (o *Observer) Health(now time.Time) (bool, string) {
	if beat := time.Unix(0, o.heartbeat.Load()); o.ticking.Load() && now.Sub(beat) > heartbeatLimit {
		return false, fmt.Sprintf("heartbeat stalled for %s", now.Sub(beat).Round(time.Second))
	}
	for _, p := range o.pipelines() {
		if stuck, d := p.stuck(now); stuck {
			return false, fmt.Sprintf("pipeline %s: records in flight for %s without one finishing (limit %s)", p.label, d.Round(time.Second), p.wedgeLimit)
		}
	}
	return true, ""
}

// heartbeatLimit is how old the heartbeat may be before /healthz fails.
const heartbeatLimit = 10 * time.Second

// Ready reports whether every pipeline is ready, and each one's readiness
// by label. It also updates millrace_pipeline_ready.
func (o *Observer) Ready(now time.Time) (bool, map[string]Readiness) {
	all := true
	out := make(map[string]Readiness)
	for _, p := range o.pipelines() {
		r := p.readiness(now)
		out[p.label] = r
		all = all && r.Ready
	}
	return all, out
}
