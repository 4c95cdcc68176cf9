// Package pipeline runs configured pipelines: for each, a Kafka consumer
// feeding the pipeline's engine (package engine: the one record path) and
// the runner's producer; the embedded broker, topic creation and the admin
// server around them.
package pipeline

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/millrace-dev/millrace/pipeline/config"
	"github.com/millrace-dev/millrace/pipeline/kafka"
	"github.com/millrace-dev/millrace/pipeline/observe"
	"github.com/twmb/franz-go/pkg/kgo"
)

// Options tune a Runner.
type Options struct {
	// Brokers overrides the config's brokers; [embedded] selects the
	// in-process broker.
	Brokers []string
	// Pipelines limits the run to these names; empty runs all.
	Pipelines []string
	// Logger receives the runner's logs; nil means slog.Default().
	Logger *slog.Logger
	// AdminAddr overrides admin.address; "off" disables the admin server.
	AdminAddr string
	// Version is the runner version on /metrics and the status page; empty
	// means the module version from the build info.
	Version string
	// Replays lists the replays running next to the runner, for the
	// status page; nil lists none.
	Replays func(now time.Time) []observe.ReplayStatus
	// Reloads, when set, asks for a reload of the config (SIGHUP, a
	// changed file): LoadConfig reads it again, and the pipelines it
	// changes are restarted, removed or added (see fleet.reload), on
	// Millrace's Kafka adapter.
	Reloads    <-chan struct{}
	LoadConfig func() (*config.Config, error)
	// KafkaHooks are franz-go hooks (kgo.Hook) given to every franz-go
	// client the runner makes: the millrace adapter's consumers,
	// producers and admin clients (the watermill-kafka adapter's consumer
	// and producer are Sarama's and do not take them). They are for an
	// embedder's own metrics or tracing of the clients (franz-go's kprom
	// and kotel plugins are such hooks); they are called on the clients'
	// goroutines, so they must be quick and safe for concurrent use.
	KafkaHooks []kgo.Hook
}

// Runner runs pipelines until its context is cancelled.
type Runner struct {
	cfg       *config.Config
	pipelines []*config.Pipeline
	log       *slog.Logger
	version   string
	replays   func(now time.Time) []observe.ReplayStatus
	obs       *observe.Observer // nil without the admin server
	sec       *kafka.Security   // every client's TLS and SASL, made by Run

	mu     sync.Mutex
	failed map[string]error // pipelines stopped on an error

	controls *controls // pause and resume of the running pipelines

	only       []string        // Options.Pipelines
	hooks      []kgo.Hook      // Options.KafkaHooks
	reloads    <-chan struct{} // Options.Reloads
	loadConfig func() (*config.Config, error)
}

// UnknownPipelineError names a pipeline that is not in the config.
type UnknownPipelineError struct {
	Name  string
	Known []string
}

func (e *UnknownPipelineError) Error() string {
	return fmt.Sprintf("unknown pipeline %q; the config has: %s", e.Name, strings.Join(e.Known, ", "))
}

// New checks options against the config; it does not touch the network.
func New(cfg *config.Config, opts Options) (*Runner, error) {
	r := &Runner{cfg: cfg, log: opts.Logger, version: opts.Version, replays: opts.Replays, failed: map[string]error{},
		only: opts.Pipelines, hooks: opts.KafkaHooks, reloads: opts.Reloads, loadConfig: opts.LoadConfig}
	if r.loadConfig == nil {
		r.reloads = nil
	}
	if r.log == nil {
		r.log = slog.Default()
	}
	if opts.Brokers != nil {
		c := *cfg
		c.Kafka.Brokers = config.NormalizeBrokers(opts.Brokers)
		r.cfg = &c
	}
	if opts.AdminAddr != "" {
		c := *r.cfg
		c.Admin.Address, c.Admin.AddressSet = opts.AdminAddr, true
		r.cfg = &c
	}
	var known []string
	for _, p := range cfg.Pipelines {
		known = append(known, p.Name)
	}
	for _, name := range opts.Pipelines {
		if !slices.Contains(known, name) {
			return nil, &UnknownPipelineError{Name: name, Known: known}
		}
	}
	for _, p := range cfg.Pipelines {
		if len(opts.Pipelines) == 0 || slices.Contains(opts.Pipelines, p.Name) {
			r.pipelines = append(r.pipelines, p)
		}
	}
	r.controls = &controls{live: map[string]*control{}}
	r.setPipelines(r.pipelines)
	return r, nil
}

// Run starts the embedded broker when configured, creates missing topics,
// and runs the pipelines until ctx is cancelled; then it stops consuming,
// finishes in-flight records, commits and returns nil. It returns an error
// when a pipeline stopped on a record it could not dead-letter, or when the
// shutdown timed out.
//
// A failure of TLS or SASL (credentials refused, a certificate not trusted
// or not for its name, a client certificate missing) is not retried: the
// runner logs it once, shuts down as on SIGTERM, and returns it, a
// *kafka.SecurityError naming the broker and the cause. A restart, with the
// credentials or certificates fixed, is what cures it.
func (r *Runner) Run(ctx context.Context) (err error) {
	k := r.cfg.Kafka
	if r.sec, err = kafka.SecurityFor(k, r.log); err != nil {
		return err
	}
	r.sec.AddHooks(r.hooks...)
	stopObserving, err := r.startObserving()
	if err != nil {
		return err
	}
	defer stopObserving()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go r.stopOnSecurityFailure(ctx, cancel)
	defer func() {
		if serr := r.sec.Err(); serr != nil {
			err = serr // what the other errors follow from
		}
	}()
	if k.IsEmbedded() {
		emb, err := kafka.StartEmbedded(k.Embedded.Listen, k.Embedded.DataDir, k.Topics.Partitions)
		if err != nil {
			return err
		}
		defer emb.Close()
		r.log.Info("embedded broker started", "addr", emb.Addr(), "data_dir", k.Embedded.DataDir)
	}
	brokers := k.Addrs()
	if k.Topics.Create {
		if err := r.ensureTopics(ctx, brokers); err != nil {
			if ctx.Err() != nil && r.sec.Err() == nil {
				return nil // stopped while starting: nothing was consumed
			}
			return err
		}
	}
	if err := r.pollBrokers(brokers); err != nil {
		return err
	}
	r.log.Info("kafka security", "tls", k.TLS.Enabled && !k.IsEmbedded(), "sasl", r.sec.SASL().Mechanism)
	if k.Adapter == config.AdapterWatermillKafka {
		if r.reloads != nil {
			r.log.Warn("reloading the config (SIGHUP, --watch) needs Millrace's Kafka adapter: reloads are ignored")
		}
		return r.runWatermillKafka(ctx, brokers)
	}
	r.log.Info("runner starting", "pipelines", len(r.pipelines), "brokers", strings.Join(brokers, ","))
	return r.consumeAll(ctx, brokers)
}

// watermillLogger logs Watermill's chatter at debug level.
func (r *Runner) watermillLogger() watermill.LoggerAdapter {
	return watermill.NewSlogLoggerWithLevelMapping(r.log, map[slog.Level]slog.Level{slog.LevelInfo: slog.LevelDebug})
}

// failure returns the errors that stopped pipelines, if any.
func (r *Runner) failure() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	var errs []error
	for name, err := range r.failed {
		errs = append(errs, fmt.Errorf("pipeline %s stopped: %w", name, err))
	}
	return errors.Join(errs...)
}

// stop marks a pipeline failed and calls halt, which stops its consumption
// and must not block, leaving the failed record uncommitted. The other
// pipelines go on.
func (r *Runner) stop(p *config.Pipeline, halt func(), err error) {
	r.mu.Lock()
	_, already := r.failed[p.Name]
	if !already {
		r.failed[p.Name] = err
	}
	r.mu.Unlock()
	if already {
		return
	}
	r.log.Error("pipeline stopped: a record can be neither processed nor dead-lettered (no dead_letter_topic, or the brokers refused its dead letter); it stays uncommitted",
		"pipeline", p.Name, "error", err.Error())
	r.obs.Pipeline(p.Name).Stopped(err)
	halt()
}

// stopOnSecurityFailure cancels the run when a client reports a failure
// of TLS or SASL.
func (r *Runner) stopOnSecurityFailure(ctx context.Context, cancel func()) {
	select {
	case <-ctx.Done():
	case <-r.sec.Failed():
		r.log.Error("cannot connect to the brokers: stopping", "error", r.sec.Err().Error())
		r.obs.ShuttingDown()
		cancel()
	}
}

func (r *Runner) ensureTopics(ctx context.Context, brokers []string) error {
	return r.ensureTopicsOf(ctx, brokers, r.pipelines)
}

// ensureTopicsOf creates the missing topics of the pipelines, when
// kafka.topics.create is on.
func (r *Runner) ensureTopicsOf(ctx context.Context, brokers []string, ps []*config.Pipeline) error {
	if !r.cfg.Kafka.Topics.Create || len(ps) == 0 {
		return nil
	}
	var topics []string
	for _, p := range ps {
		topics = append(topics, p.Input.Topic, p.Errors.DeadLetterTopic)
		topics = append(topics, p.Output.Topics()...)
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	t := r.cfg.Kafka.Topics
	return kafka.EnsureTopics(ctx, brokers, r.cfg.Kafka.ClientID, r.sec, t.Partitions, t.ReplicationFactor, topics...)
}
