// Package pipeline runs configured pipelines: one Watermill router per
// process, one handler per pipeline, Kafka in and out.
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
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/millrace-dev/millrace/pipeline/config"
	"github.com/millrace-dev/millrace/pipeline/kafka"
	"github.com/millrace-dev/millrace/pipeline/observe"
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
}

// Runner runs pipelines until its context is cancelled.
type Runner struct {
	cfg       *config.Config
	pipelines []*config.Pipeline
	log       *slog.Logger
	version   string
	obs       *observe.Observer // nil without the admin server

	mu     sync.Mutex
	failed map[string]error // pipelines stopped on an error
	parts  []*config.Parts  // built for the run, closed when it ends
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
	r := &Runner{cfg: cfg, log: opts.Logger, version: opts.Version, failed: map[string]error{}}
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
	return r, nil
}

// Run starts the embedded broker when configured, creates missing topics,
// and runs the pipelines until ctx is cancelled; then it stops consuming,
// finishes in-flight records, commits and returns nil. It returns an error
// when a pipeline stopped on a record it could not dead-letter, or when the
// shutdown timed out.
func (r *Runner) Run(ctx context.Context) error {
	stopObserving, err := r.startObserving()
	if err != nil {
		return err
	}
	defer stopObserving()
	k := r.cfg.Kafka
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
			return err
		}
	}
	if err := r.pollBrokers(brokers); err != nil {
		return err
	}
	if k.Adapter != config.AdapterWatermillKafka {
		r.log.Info("runner starting", "pipelines", len(r.pipelines), "brokers", strings.Join(brokers, ","))
		return r.consumeAll(ctx, brokers)
	}
	pub, subscribe, err := r.kafkaTransport(brokers)
	if err != nil {
		return err
	}
	defer pub.Close()
	router, err := r.Router(pub, subscribe)
	if err != nil {
		return err
	}
	r.log.Info("runner starting", "pipelines", len(r.pipelines), "brokers", strings.Join(brokers, ","))
	return r.RunRouter(ctx, router)
}

// RunRouter runs a router built by Router until ctx is cancelled, then
// closes it, letting in-flight records finish within the shutdown timeout.
// The router runs on its own context: cancelling the subscriptions' context
// would make watermill-kafka drop the acks of in-flight records, while Close
// drains them (see kafka.DrainingSubscriber) and commits.
func (r *Runner) RunRouter(ctx context.Context, router *message.Router) error {
	stopped := make(chan struct{})
	closed := make(chan error, 1)
	go func() {
		select {
		case <-ctx.Done():
			r.log.Info("shutting down", "timeout", r.cfg.Runner.ShutdownTimeout.String())
			r.obs.ShuttingDown()
			closed <- router.Close()
		case <-stopped:
			closed <- nil
		}
	}()
	runErr := router.Run(context.Background())
	close(stopped)
	closeErr := errors.Join(<-closed, router.Close(), r.closeParts())
	if err := errors.Join(runErr, closeErr); err != nil {
		return fmt.Errorf("router: %w", err)
	}
	return r.failure()
}

// Router builds the Watermill router for the runner's pipelines over any
// transport: pub writes outputs and dead letters (messages carry their
// destination in kafka.MetaDestination), subscribe returns each pipeline's
// input subscriber. Kafka is one transport; `pipeline-runner test` runs the
// same router in memory.
func (r *Runner) Router(pub message.Publisher, subscribe func(*config.Pipeline) (message.Subscriber, error)) (*message.Router, error) {
	router, err := message.NewRouter(message.RouterConfig{CloseTimeout: r.cfg.Runner.ShutdownTimeout}, r.watermillLogger())
	if err != nil {
		return nil, err
	}
	if pub, err = r.instrument(router, pub); err != nil {
		return nil, err
	}
	for _, p := range r.pipelines {
		parts, err := r.build(p)
		if err != nil {
			return nil, err
		}
		sub, err := subscribe(p)
		if err != nil {
			return nil, fmt.Errorf("pipeline %s: %w", p.Name, err)
		}
		pp := &pipe{cfg: p, parts: parts, pub: pub, log: r.log.With("pipeline", p.Name), obs: r.obs.Pipeline(p.Name), logPayloads: r.cfg.Runner.LogPayloads}
		h := router.AddConsumerHandler(p.Name, p.Input.Topic, sub, pp.handle)
		r.watch(p, parts, h, sub)
		mw, err := r.middleware(p, pub, func() { go h.Stop() }, true)
		if err != nil {
			return nil, err
		}
		if op := r.obs.Pipeline(p.Name); op != nil {
			mw = append([]message.HandlerMiddleware{recordObserver(op)}, mw...)
		}
		h.AddMiddleware(mw...)
	}
	return router, nil
}

// build makes fresh running parts of p for this run; RunRouter and
// consumeAll close them.
func (r *Runner) build(p *config.Pipeline) (*config.Parts, error) {
	parts, err := r.cfg.Build(p, config.BuildOptions{Logger: r.log})
	if err != nil {
		return nil, fmt.Errorf("pipeline %s: %w", p.Name, err)
	}
	r.mu.Lock()
	r.parts = append(r.parts, parts)
	r.mu.Unlock()
	return parts, nil
}

// closeParts closes the parts built for the run.
func (r *Runner) closeParts() error {
	r.mu.Lock()
	parts := r.parts
	r.parts = nil
	r.mu.Unlock()
	var errs []error
	for _, p := range parts {
		errs = append(errs, p.Close())
	}
	return errors.Join(errs...)
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
	r.log.Error("pipeline stopped: a record cannot be processed and no dead_letter_topic is configured",
		"pipeline", p.Name, "error", err.Error())
	r.obs.Pipeline(p.Name).Stopped(err)
	halt()
}

func (r *Runner) ensureTopics(ctx context.Context, brokers []string) error {
	var topics []string
	for _, p := range r.pipelines {
		topics = append(topics, p.Input.Topic, p.Errors.DeadLetterTopic)
		topics = append(topics, p.Output.Topics()...)
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	t := r.cfg.Kafka.Topics
	return kafka.EnsureTopics(ctx, brokers, r.cfg.Kafka.ClientID, t.Partitions, t.ReplicationFactor, topics...)
}
