package pipeline

import (
	"context"
	"errors"
	"slices"
	"strings"

	"github.com/millrace-dev/millrace/pipeline/config"
	"github.com/millrace-dev/millrace/pipeline/kafka"
)

// fleet is the pipelines a runner consumes with, which a reload of the
// config changes one by one: the others run on untouched.
type fleet struct {
	r       *Runner
	ctx     context.Context
	brokers []string
	bp      *kafka.BatchPublisher
	live    map[string]*running
	exited  chan *running // a run that ended, by itself or stopped
	closers closeList     // the parts of runs that ended, released at the end
	ended   error         // how the runs that ended did
}

// running is one pipeline consuming.
type running struct {
	p     *config.Pipeline
	print string // its config's fingerprint
	stop  context.CancelFunc
	close func() error
	done  chan struct{} // closed once it has stopped and committed; then err is set
	err   error
}

func (r *Runner) newFleet(ctx context.Context, brokers []string, bp *kafka.BatchPublisher) *fleet {
	return &fleet{r: r, ctx: ctx, brokers: brokers, bp: bp, live: map[string]*running{}, exited: make(chan *running)}
}

// start starts pipeline p of cfg.
func (f *fleet) start(cfg *config.Config, p *config.Pipeline) error {
	ctx, stop := context.WithCancel(f.ctx)
	finished, closeParts, err := f.r.consume(ctx, cfg, p, f.brokers, f.bp)
	if err != nil {
		stop()
		return err
	}
	run := &running{p: p, print: cfg.Fingerprint(p.Name), stop: stop, close: closeParts, done: make(chan struct{})}
	f.live[p.Name] = run
	go func() {
		run.err = <-finished
		close(run.done)
		select {
		case f.exited <- run:
		case <-f.ctx.Done():
		}
	}()
	return nil
}

// exit takes in a run that ended.
func (f *fleet) exit(run *running) {
	if f.live[run.p.Name] == run {
		delete(f.live, run.p.Name)
		f.ended = errors.Join(f.ended, run.err)
		f.closers.add(run.close)
	}
}

// stopRun stops a run by itself (a reload): it drains, commits and leaves
// its group.
func (f *fleet) stopRun(run *running) {
	delete(f.live, run.p.Name)
	run.stop()
	<-run.done
	if run.err != nil {
		f.r.log.Warn("pipeline stopped for the reload with an error", "pipeline", run.p.Name, "error", run.err.Error())
	}
	if err := run.close(); err != nil {
		f.r.log.Warn("pipeline parts close", "pipeline", run.p.Name, "error", err.Error())
	}
}

// waitAll waits for every run to end (the context is cancelled).
func (f *fleet) waitAll() {
	for _, run := range f.live {
		<-run.done
		f.exit(run)
	}
}

func (f *fleet) empty() bool { return len(f.live) == 0 }

// reload reads the config again and applies it pipeline by pipeline: one
// whose config did not change runs on untouched; a changed one drains,
// commits and starts again with its new config; a removed one stops; an
// added one starts. A config that does not load, or that changes kafka,
// runner or admin settings (a restart applies those), changes nothing: the
// reload is reported as failed, in the log and millrace_config_reloads_total.
func (f *fleet) reload() {
	r := f.r
	cfg, err := r.loadConfig()
	if err == nil && cfg.SettingsFingerprint() != r.cfg.SettingsFingerprint() {
		err = errors.New("the kafka, runner or admin settings changed: a reload only applies changes to pipelines; restart the runner for those")
	}
	if err != nil {
		r.log.Error("config reload failed: nothing changed", "error", err.Error())
		r.obs.Reloaded(false)
		return
	}
	var want []*config.Pipeline
	for _, p := range cfg.Pipelines {
		if len(r.only) == 0 || slices.Contains(r.only, p.Name) {
			want = append(want, p)
		}
	}
	var unchanged, restarted, stopped, started []string
	var toStart []*config.Pipeline
	for _, p := range want {
		run := f.live[p.Name]
		switch {
		case run == nil:
			started = append(started, p.Name)
		case run.print == cfg.Fingerprint(p.Name):
			unchanged = append(unchanged, p.Name)
			continue
		default:
			restarted = append(restarted, p.Name)
		}
		toStart = append(toStart, p)
	}
	// Topics first: a reload that cannot create them changes nothing,
	// rather than leave the changed pipelines stopped.
	if err := r.ensureTopicsOf(f.ctx, f.brokers, toStart); err != nil {
		r.log.Error("config reload failed: the topics of the new and changed pipelines could not be created; nothing changed", "error", err.Error())
		r.obs.Reloaded(false)
		return
	}
	for name, run := range f.live {
		if !slices.ContainsFunc(want, func(p *config.Pipeline) bool { return p.Name == name }) {
			f.stopRun(run)
			r.forget(name)
			stopped = append(stopped, name)
		}
	}
	for _, name := range restarted {
		f.stopRun(f.live[name])
		r.forget(name)
	}
	var failed []string
	for _, p := range toStart {
		r.watch(cfg, p)
		if err := f.start(cfg, p); err != nil {
			r.log.Error("config reload: pipeline did not start", "pipeline", p.Name, "error", err.Error())
			failed = append(failed, p.Name)
		}
	}
	r.setPipelines(want)
	r.log.Info("config reloaded", "unchanged", strings.Join(unchanged, ","), "restarted", strings.Join(restarted, ","),
		"stopped", strings.Join(stopped, ","), "started", strings.Join(started, ","), "failed", strings.Join(failed, ","))
	r.obs.Reloaded(len(failed) == 0)
}

// setPipelines records the pipelines the runner runs (at the start and
// after a reload): the ones pause and resume know.
func (r *Runner) setPipelines(ps []*config.Pipeline) {
	r.mu.Lock()
	r.pipelines = ps
	r.mu.Unlock()
	known := map[string]bool{}
	for _, p := range ps {
		known[p.Name] = true
	}
	r.controls.mu.Lock()
	r.controls.known = known
	r.controls.mu.Unlock()
}

// forget drops what the runner knows of a pipeline a reload stopped: its
// failure, its metrics and status.
func (r *Runner) forget(name string) {
	r.mu.Lock()
	delete(r.failed, name)
	r.mu.Unlock()
	r.obs.RemovePipeline(name)
}

// watch adds a pipeline a reload starts to the observer.
func (r *Runner) watch(cfg *config.Config, p *config.Pipeline) {
	if r.obs != nil {
		r.obs.AddPipeline(p, slices.Index(cfg.Pipelines, p))
	}
}
