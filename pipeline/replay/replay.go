// Package replay reprocesses a bounded range of a pipeline's history: the
// records of its input topic between two positions (a replay), or the
// records of its dead-letter topic (a redrive). The records go through the
// pipeline's full chain and middleware, dead-letter path included, and the
// outputs go to the pipeline's outputs or to one topic of choice.
//
// A replay never touches the pipeline's consumer group: it reads by
// partition assignment (the consumer's bounded-range mode, package kafka).
// The end of the range is fixed when the replay starts, so new traffic
// does not extend it. A checkpoint file
// records how far each partition got (every record below its position was
// processed and all of its outputs acknowledged); an interrupted replay
// resumes from it and covers the rest of the range, no more. A record
// processed shortly before an interruption may be processed again
// (at-least-once), never one outside the range.
package replay

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/millrace-dev/millrace/pipeline"
	"github.com/millrace-dev/millrace/pipeline/config"
	"github.com/millrace-dev/millrace/pipeline/engine"
	"github.com/millrace-dev/millrace/pipeline/kafka"
	"github.com/millrace-dev/millrace/pipeline/replay/offsets"
	"github.com/millrace-dev/millrace/transforms"
	"github.com/twmb/franz-go/pkg/kadm"
	"golang.org/x/time/rate"
)

// Options describe a replay.
type Options struct {
	// Config is the loaded config; its brokers are where the replay
	// connects (an embedded config means the embedded broker's address,
	// which must be running).
	Config   *config.Config
	Pipeline string

	// From and To bound the range (To is exclusive). Zero values mean
	// oldest and end.
	From, To *offsets.Spec
	// Partitions limits the replay to these partitions; empty means all.
	Partitions []int32

	// Redrive reads the pipeline's dead-letter topic instead of its input,
	// restoring each record as it was first read.
	Redrive bool
	// ErrorContains and Since filter a redrive: only dead letters whose
	// error contains the text, failed at or after the time.
	ErrorContains string
	Since         *time.Time

	// ToTopic, if set, receives every output (dead letters still go to the
	// dead-letter topic).
	ToTopic string
	// DLQTopic, if set, receives the dead letters instead of the
	// pipeline's dead-letter topic. Every dead letter a replay writes
	// carries HeaderReplayID.
	DLQTopic string
	// Force makes a redrive redrive dead letters that an earlier redrive
	// (a checkpoint in CheckpointDir) already redrove; by default they
	// are skipped.
	Force bool
	// DryRun reads the range and runs the chain, producing nothing.
	DryRun bool
	// Show is how many records a dry run previews step by step.
	Show int

	// Rate limits records per second; 0 is unlimited, or on a resume the
	// rate the replay was started with.
	Rate float64
	// InFlight is how many records of one partition are processed at once,
	// in the order the pipeline's input.ordering asks for (by default never
	// two with the same key). Default: the pipeline's input.max_in_flight.
	InFlight int

	// CheckpointDir holds the checkpoints; default DefaultCheckpointDir.
	CheckpointDir string
	// Resume continues the checkpoint ResumeID of the pipeline, or its
	// latest when ResumeID is empty.
	Resume   bool
	ResumeID string

	// ResumeCommand, if set, is the command that resumes replay id,
	// shown when a replay stops before its end.
	ResumeCommand func(id string) string

	// Logger receives progress and warnings; nil means slog.Default().
	Logger *slog.Logger
}

// Replay is a prepared replay: its range is resolved and checked.
type Replay struct {
	opts     Options
	cfg      *config.Config
	p        *config.Pipeline
	brokers  []string
	sec      *kafka.Security
	cp       *Checkpoint
	path     string
	resumed  bool
	filters  filters
	plan     Plan
	warnings []string
	ordering kafka.Ordering

	sub     atomic.Pointer[kafka.ConcurrentSubscriber]
	counts  atomic.Pointer[counts]
	started atomic.Int64 // unix nanoseconds
}

// Plan is what a replay will read.
type Plan struct {
	ID       string        `json:"replay_id"`
	Pipeline string        `json:"pipeline"`
	Mode     string        `json:"mode"`
	Topic    string        `json:"topic"`
	Ranges   []kafka.Range `json:"ranges"`
	// Records is the size of the range in offsets, an upper bound of the
	// records (compaction and transaction markers leave gaps).
	Records int64 `json:"records"`
	// Done is how many of them a resumed replay had already done.
	Done       int64    `json:"done"`
	Resumed    bool     `json:"resumed"`
	Warnings   []string `json:"warnings,omitempty"`
	Checkpoint string   `json:"checkpoint,omitempty"`
	ToTopic    string   `json:"to_topic,omitempty"`
	DryRun     bool     `json:"dry_run"`
}

// Empty reports whether there is nothing to read.
func (p Plan) Empty() bool { return p.Records-p.Done <= 0 }

// UsageError is a replay asked for wrongly: a bad position, an unknown
// pipeline, partition or checkpoint. The command line exits 2 on it.
type UsageError struct{ Err error }

func (e *UsageError) Error() string { return e.Err.Error() }
func (e *UsageError) Unwrap() error { return e.Err }

// Prepare resolves the range (or loads the checkpoint to resume) and
// checks it against what the brokers hold. It writes nothing.
func Prepare(ctx context.Context, opts Options) (*Replay, error) {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.CheckpointDir == "" {
		opts.CheckpointDir = DefaultCheckpointDir
	}
	cfg := opts.Config
	r := &Replay{opts: opts, cfg: cfg, brokers: cfg.Kafka.Addrs()}
	var err error
	var known []string
	for _, p := range cfg.Pipelines {
		known = append(known, p.Name)
		if p.Name == opts.Pipeline {
			r.p = p
		}
	}
	if r.p == nil {
		return nil, &UsageError{&pipeline.UnknownPipelineError{Name: opts.Pipeline, Known: known}}
	}
	inFlightGiven := r.opts.InFlight > 0
	if r.opts.InFlight < 1 {
		r.opts.InFlight = max(r.p.Input.MaxInFlight, 1)
	}
	if r.ordering, err = kafka.ParseOrdering(r.p.Input.Ordering); err != nil {
		return nil, fmt.Errorf("pipeline %s: %w", r.p.Name, err)
	}
	if opts.Redrive && r.p.Errors.DeadLetterTopic == "" {
		return nil, &UsageError{fmt.Errorf("pipeline %q has no errors.dead_letter_topic to redrive", r.p.Name)}
	}
	if r.sec, err = kafka.SecurityFor(cfg.Kafka, opts.Logger); err != nil {
		return nil, err
	}
	cl, err := kafka.NewClient(r.brokers, cfg.Kafka.ClientID, r.sec)
	if err != nil {
		return nil, err
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	if opts.Resume {
		err = r.resume(ctx, adm)
	} else {
		err = r.resolve(ctx, adm)
	}
	if err != nil {
		return nil, r.classify(ctx, err)
	}
	if r.resumed {
		// The pace of the replay as started, unless given again.
		if opts.Rate == 0 {
			r.opts.Rate = r.cp.Rate
		}
		if !inFlightGiven && r.cp.InFlight > 0 {
			r.opts.InFlight = r.cp.InFlight
		}
	}
	r.cp.Rate, r.cp.InFlight = r.opts.Rate, r.opts.InFlight
	if r.cp.Mode == ModeRedrive && !r.cp.Force {
		if r.filters.redriven, err = redrivenBefore(opts.CheckpointDir, r.p.Name, r.cp.Topic, r.cp.ID); err != nil {
			return nil, err
		}
		r.filters.already = new(atomic.Int64)
	}
	r.plan = Plan{
		ID: r.cp.ID, Pipeline: r.p.Name, Mode: r.cp.Mode, Topic: r.cp.Topic, Ranges: r.cp.ranges(),
		Resumed: r.resumed, Checkpoint: r.path, ToTopic: r.cp.ToTopic, DryRun: opts.DryRun, Warnings: r.warnings,
	}
	if opts.DryRun {
		r.plan.Checkpoint = ""
	}
	for _, p := range r.cp.Partitions {
		r.plan.Records += p.End - p.Start
		r.plan.Done += min(p.Next, p.End) - p.Start
	}
	r.filters.fromTime, r.filters.toTime = r.cp.FromTime, r.cp.ToTime
	r.filters.errorContains, r.filters.since = r.cp.ErrorContains, r.cp.Since
	if r.cp.Mode == ModeRedrive {
		r.filters.pipeline = r.p.Name
	}
	return r, nil
}

// classify marks errors about what was asked as usage errors; an
// unreachable broker stays a runtime error.
func (r *Replay) classify(ctx context.Context, err error) error {
	var (
		syn   *offsets.SyntaxError
		oor   *offsets.OutOfRangeError
		up    *offsets.UnknownPartitionError
		nc    *offsets.NoCommitError
		ut    *offsets.UnknownTopicError
		ncp   *NoCheckpointError
		usage *UsageError
	)
	if serr := r.sec.Explain(err); serr != err {
		return serr // TLS or SASL failed: the broker and the cause
	}
	switch {
	case errors.As(err, &usage):
		return err
	case errors.As(err, &syn), errors.As(err, &oor), errors.As(err, &up), errors.As(err, &ut), errors.As(err, &nc), errors.As(err, &ncp):
		return &UsageError{err}
	case ctx.Err() != nil || errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("cannot reach the brokers %s: %w", strings.Join(r.brokers, ","), err)
	}
	return err
}

// deadLetterTopic is where the replay writes dead letters.
func (r *Replay) deadLetterTopic() string {
	if r.cp.DLQTopic != "" {
		return r.cp.DLQTopic
	}
	return r.p.Errors.DeadLetterTopic
}

func (r *Replay) topic() string {
	if r.opts.Redrive {
		return r.p.Errors.DeadLetterTopic
	}
	return r.p.Input.Topic
}

// resolve turns the options' positions into the checkpoint of a new replay.
func (r *Replay) resolve(ctx context.Context, adm *kadm.Client) error {
	o := r.opts
	from, to := offsets.Spec{Kind: offsets.Oldest, Text: "oldest"}, offsets.Spec{Kind: offsets.Newest, Text: "end"}
	if o.From != nil {
		from = *o.From
	}
	if o.To != nil {
		to = *o.To
	}
	if to.Kind == offsets.Group {
		return &UsageError{errors.New("--to does not take group:NAME; use end, offset:N, P:O or time:RFC3339")}
	}
	topic := r.topic()
	t, err := offsets.Describe(ctx, adm, topic)
	if err != nil {
		return err
	}
	lim, err := t.Limit(o.Partitions)
	if err != nil {
		return err
	}
	starts, warns, err := offsets.ResolveStart(ctx, adm, t, from, "--from")
	if err != nil {
		return err
	}
	ends, _, err := offsets.ResolveEnd(ctx, adm, t, to, "--to")
	if err != nil {
		return err
	}
	now := time.Now()
	cp := &Checkpoint{
		Version: checkpointVersion, ID: newID(now), Pipeline: r.p.Name, Mode: ModeReplay, Topic: topic,
		From: from.Text, To: to.Text, ToTopic: o.ToTopic, DLQTopic: o.DLQTopic, CreatedAt: now.UTC(), UpdatedAt: now.UTC(),
	}
	if o.Redrive {
		cp.Mode = ModeRedrive
		cp.ErrorContains, cp.Since, cp.Force = o.ErrorContains, o.Since, o.Force
	}
	if from.Kind == offsets.Time {
		ft := from.Time.UTC()
		cp.FromTime = &ft
	}
	if to.Kind == offsets.Time {
		tt := to.Time.UTC()
		cp.ToTime = &tt
	}
	for _, p := range lim.Partitions {
		start, ok := starts[p.Partition]
		if !ok {
			continue // not listed by --from P:O
		}
		end := max(ends[p.Partition], start) // --from past --to: empty
		cp.Partitions = append(cp.Partitions, CheckpointPartition{Partition: p.Partition, Start: start, End: end, Next: start})
	}
	for _, w := range warns {
		if slices.Contains(lim.IDs(), w.Partition) {
			r.warnings = append(r.warnings, w.Msg)
		}
	}
	if len(cp.Partitions) == 0 {
		return &UsageError{fmt.Errorf("--from %s selects none of the partitions %v", from.Text, lim.IDs())}
	}
	r.cp = cp
	r.path = CheckpointPath(o.CheckpointDir, r.p.Name, cp.ID)
	return nil
}

// resume loads the checkpoint and checks that the rest of its range is
// still there.
func (r *Replay) resume(ctx context.Context, adm *kadm.Client) error {
	cp, path, err := loadCheckpoint(r.opts.CheckpointDir, r.p.Name, r.opts.ResumeID)
	if err != nil {
		return err
	}
	if cp.Mode == ModeReplay && cp.Topic != r.p.Input.Topic {
		return &UsageError{fmt.Errorf("checkpoint %s read topic %s, but pipeline %s now reads %s", cp.ID, cp.Topic, r.p.Name, r.p.Input.Topic)}
	}
	if cp.Mode == ModeRedrive && cp.Topic != r.p.Errors.DeadLetterTopic {
		return &UsageError{fmt.Errorf("checkpoint %s redrove topic %s, but the dead-letter topic of pipeline %s is now %q", cp.ID, cp.Topic, r.p.Name, r.p.Errors.DeadLetterTopic)}
	}
	r.cp, r.path, r.resumed = cp, path, true
	if cp.Complete {
		return nil
	}
	t, err := offsets.Describe(ctx, adm, cp.Topic)
	if err != nil {
		return err
	}
	for _, p := range cp.Partitions {
		if p.Next >= p.End {
			continue
		}
		tp, ok := t.Partition(p.Partition)
		if !ok {
			return &offsets.UnknownPartitionError{Topic: cp.Topic, Partition: p.Partition, Known: t.IDs()}
		}
		if p.Next < tp.LogStart || p.End > tp.End {
			return &offsets.OutOfRangeError{Topic: cp.Topic, Partition: p.Partition, Offset: min(p.Next, p.End),
				LogStart: tp.LogStart, End: tp.End, What: "resume of " + cp.ID}
		}
	}
	return nil
}

// Plan returns what the replay will read.
func (r *Replay) Plan() Plan { return r.plan }

// Progress is a replay's progress at one moment.
type Progress struct {
	// Done is the records done in this run (processed or skipped), Total
	// the records this run has to do.
	Done, Total int64
	Written     int64
	Dead        int64
	Elapsed     time.Duration
}

// Progress reports how far the running replay is.
func (r *Replay) Progress() Progress {
	pr := Progress{Total: r.plan.Records - r.plan.Done}
	if s := r.started.Load(); s > 0 {
		pr.Elapsed = time.Since(time.Unix(0, s))
	}
	if sub := r.sub.Load(); sub != nil {
		for _, p := range sub.Progress() {
			pr.Done += p.Acked + p.Skipped
		}
	}
	if c := r.counts.Load(); c != nil {
		byTopic, parts := c.snapshot()
		for _, n := range byTopic {
			pr.Written += n
		}
		for _, pc := range parts {
			pr.Dead += pc.deadLettered
		}
	}
	return pr
}

// IncompleteError is a replay that stopped before the end of its range:
// interrupted, or stopped by a record it could not process.
type IncompleteError struct {
	ID, Pipeline string
	// Resume is the command that resumes it.
	Resume      string
	Done, Total int64
	Interrupted bool
	DryRun      bool
	Err         error
}

func (e *IncompleteError) Error() string {
	why := "stopped"
	if e.Interrupted {
		why = "interrupted"
	}
	resume := e.Resume
	if resume == "" {
		resume = fmt.Sprintf("pipeline-runner replay %s --resume %s", e.Pipeline, e.ID)
	}
	msg := fmt.Sprintf("replay %s %s after %d of %d record(s); resume it with: %s", e.ID, why, e.Done, e.Total, resume)
	if e.DryRun {
		msg = fmt.Sprintf("dry run %s %s after %d of %d record(s)", e.ID, why, e.Done, e.Total)
	}
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

func (e *IncompleteError) Unwrap() error { return e.Err }

// checkpointEvery is how often a running replay saves its checkpoint.
var checkpointEvery = time.Second

// Run runs the replay until the whole range was processed, ctx is
// cancelled (an interruption: the checkpoint is saved, and the error is an
// *IncompleteError), or a record stops the pipeline. The summary is
// returned in every case.
func (r *Replay) Run(ctx context.Context) (_ *Summary, err error) {
	defer func() {
		if serr := r.sec.Err(); err != nil && serr != nil {
			err = serr // TLS or SASL failed: what the other errors follow from
		}
	}()
	start := time.Now()
	r.started.Store(start.UnixNano())
	log := r.opts.Logger.With("pipeline", r.p.Name, "replay_id", r.cp.ID)
	var pv *previewer
	if r.opts.DryRun && r.opts.Show > 0 {
		// Parts of its own: transforms with state (dedupe) must not see
		// the previewed records twice.
		parts, err := r.cfg.Build(r.p, config.BuildOptions{Logger: r.opts.Logger})
		if err != nil {
			return nil, err
		}
		defer parts.Close()
		pv = &previewer{p: r.p, parts: parts, toTopic: r.cp.ToTopic, max: r.opts.Show}
	}
	if r.plan.Empty() {
		return r.summary(nil, nil, pv, time.Since(start)), nil
	}
	wlog := watermill.NewSlogLoggerWithLevelMapping(r.opts.Logger, map[slog.Level]slog.Level{slog.LevelInfo: slog.LevelDebug})
	var prod engine.Producer = discard{}
	if !r.opts.DryRun {
		if r.cfg.Kafka.Topics.Create {
			if err := r.ensureTopics(ctx); err != nil {
				return nil, err
			}
		}
		kp, closeProducer, err := pipeline.NewProducer(r.cfg, r.brokers, r.sec, wlog)
		if err != nil {
			return nil, err
		}
		defer closeProducer()
		prod = markDeadLetters{next: kp, topic: r.deadLetterTopic(), id: r.cp.ID}
	}
	tally := newCounts()
	r.counts.Store(tally)
	var redriven ledger
	halted := make(chan struct{})
	var haltOnce sync.Once
	var haltErr error
	opts := pipeline.EngineOptions{
		Producer: prod,
		Halt: func(err error) {
			haltOnce.Do(func() {
				haltErr = fmt.Errorf("pipeline %s stopped: %w", r.p.Name, err)
				log.Error("replay stopped: a record cannot be processed and no dead_letter_topic is configured", "error", err.Error())
				close(halted)
			})
		},
		Subscriber: "kafka.ConcurrentSubscriber",
		Logger:     log,
		// Lanes are pipelined: a failed produce rewinds its lane.
		NoProduceRetry: r.ordering != kafka.OrderNone,
	}
	if toTopic := r.cp.ToTopic; toTopic != "" {
		opts.Destination = func(next func(*transforms.Record) (string, error)) func(*transforms.Record) (string, error) {
			return func(rec *transforms.Record) (string, error) {
				if _, err := next(rec); err != nil {
					return "", err // a failing route still dead-letters the record
				}
				return toTopic, nil
			}
		}
	}
	p := r.p
	if r.cp.DLQTopic != "" {
		pc := *r.p
		pc.Errors.DeadLetterTopic = r.cp.DLQTopic
		p = &pc
	}
	eng, closeParts, err := pipeline.Engine(r.cfg, p, opts)
	if err != nil {
		return nil, err
	}
	defer closeParts()

	sc := kafka.ConcurrentSubscriberConfig{
		Brokers:                r.brokers,
		ClientID:               r.cfg.Kafka.ClientID,
		Ranges:                 r.cp.ranges(),
		Ordering:               r.ordering,
		Pipelined:              r.ordering != kafka.OrderNone,
		MaxInFlight:            r.opts.InFlight,
		ShutdownTimeout:        r.cfg.Runner.ShutdownTimeout,
		FetchMaxBytes:          r.cfg.Kafka.FetchMaxBytes,
		FetchMaxPartitionBytes: r.cfg.Kafka.FetchMaxPartitionBytes,
		Logger:                 log,
		Security:               r.sec,
	}
	if r.filters.active() {
		sc.Skip = r.filters.skip
	}
	if r.cp.Mode == ModeRedrive {
		sc.Rewrite = restore
	}
	if r.opts.Rate > 0 {
		sc.Limiter = rate.NewLimiter(rate.Limit(r.opts.Rate), max(1, int(r.opts.Rate/20)))
	}
	sub, err := kafka.NewConcurrentSubscriber(sc)
	if err != nil {
		return nil, err
	}
	r.sub.Store(sub)
	defer sub.Close()

	stopCheckpoints := func() {}
	if !r.opts.DryRun {
		if _, err := r.cp.save(r.opts.CheckpointDir); err != nil {
			return nil, err
		}
		stopCheckpoints = r.checkpointLoop(sub, &redriven, log)
	}
	runCtx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// The consumer's workers take each record through the engine; it is
	// settled when its outputs are acknowledged, and the read ends by
	// itself once every range is.
	ended, err := sub.Consume(runCtx, r.cp.Topic, 0, func(rec *engine.Record, settle func(engine.Result)) {
		if pv != nil {
			pv.take(rec)
		}
		eng.Process(rec, func(res engine.Result) {
			tally.add(rec, res)
			if res.Done && r.cp.Mode == ModeRedrive {
				redriven.add(rec.Partition, rec.Offset)
			}
			settle(res)
		})
	})
	if err != nil {
		stopCheckpoints()
		return nil, err
	}
	interrupted := false
	var readErr error // how the read ended: nil, or a fetch error, a timed-out stop
	select {
	case readErr = <-ended:
	case <-ctx.Done():
		interrupted = true
		log.Info("interrupted; finishing the records in flight")
	case <-halted:
	}
	cancel()
	if err, ok := <-ended; ok {
		readErr = err
	}
	var runErr error
	select {
	case <-halted:
		runErr = haltErr
	default:
	}
	runErr = errors.Join(runErr, readErr)
	stopCheckpoints()
	progress := sub.Progress()
	sum := r.summary(progress, tally, pv, time.Since(start))
	if !r.opts.DryRun {
		r.cp.Redriven = redriven.into(r.cp.Redriven)
		r.cp.update(progress, time.Now().UTC())
		if _, err := r.cp.save(r.opts.CheckpointDir); err != nil {
			runErr = errors.Join(runErr, err)
		}
	}
	sum.Complete = r.cp.Complete
	if r.opts.DryRun {
		sum.Complete = allComplete(progress)
	}
	if sum.Complete && runErr == nil {
		return sum, nil
	}
	ie := &IncompleteError{ID: r.cp.ID, Pipeline: r.p.Name, Done: sum.Read, Total: r.plan.Records - r.plan.Done,
		Interrupted: interrupted, DryRun: r.opts.DryRun, Err: runErr}
	if r.opts.ResumeCommand != nil {
		ie.Resume = r.opts.ResumeCommand(r.cp.ID)
	}
	return sum, ie
}

func allComplete(ps []kafka.Progress) bool {
	for _, p := range ps {
		if !p.Complete {
			return false
		}
	}
	return true
}

// checkpointLoop saves the checkpoint every checkpointEvery until the
// returned function is called.
func (r *Replay) checkpointLoop(sub *kafka.ConcurrentSubscriber, redriven *ledger, log *slog.Logger) func() {
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(checkpointEvery)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				// What was redriven first: a record below Next is in it.
				r.cp.Redriven = redriven.into(r.cp.Redriven)
				r.cp.update(sub.Progress(), time.Now().UTC())
				if _, err := r.cp.save(r.opts.CheckpointDir); err != nil {
					log.Warn("checkpoint not saved", "error", err.Error())
				}
			}
		}
	})
	return func() { close(done); wg.Wait() }
}

// ensureTopics creates missing outputs, the dead-letter topic and the
// redirect topic, as `run` does; never the topic read.
func (r *Replay) ensureTopics(ctx context.Context) error {
	topics := []string{r.deadLetterTopic()}
	if r.cp.ToTopic != "" {
		topics = append(topics, r.cp.ToTopic)
	} else {
		topics = append(topics, r.p.Output.Topics()...)
	}
	topics = slices.DeleteFunc(topics, func(t string) bool { return t == "" || t == r.cp.Topic })
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	t := r.cfg.Kafka.Topics
	return kafka.EnsureTopics(ctx, r.brokers, r.cfg.Kafka.ClientID, r.sec, t.Partitions, t.ReplicationFactor, topics...)
}

// Summary is the outcome of a replay.
type Summary struct {
	ID       string `json:"replay_id"`
	Pipeline string `json:"pipeline"`
	Mode     string `json:"mode"`
	Topic    string `json:"topic"`
	DryRun   bool   `json:"dry_run"`
	Complete bool   `json:"complete"`
	Resumed  bool   `json:"resumed"`
	// Read counts the records of the range this run read: processed plus
	// skipped.
	Read int64 `json:"read"`
	// Written counts output records (a dry run: would write), by topic in
	// WrittenByTopic.
	Written        int64            `json:"written"`
	WrittenByTopic map[string]int64 `json:"written_by_topic"`
	// Filtered counts inputs the chain dropped, DeadLettered those sent to
	// the dead-letter topic, Skipped those left out by the time range or
	// the redrive filters.
	Filtered     int64 `json:"filtered"`
	DeadLettered int64 `json:"dead_lettered"`
	Skipped      int64 `json:"skipped"`
	// Redriven counts dead letters that went through the chain this time
	// (written or filtered); FailedAgain those that went back (a redrive).
	Redriven    int64 `json:"redriven,omitempty"`
	FailedAgain int64 `json:"failed_again,omitempty"`
	// AlreadyRedriven counts the dead letters an earlier redrive redrove,
	// skipped (they are part of Skipped); SkippedByFilters the rest of
	// Skipped (a redrive).
	AlreadyRedriven  int64  `json:"already_redriven,omitempty"`
	SkippedByFilters int64  `json:"skipped_by_filters,omitempty"`
	DLQTopic         string `json:"dlq_topic,omitempty"`
	// Rate is the records per second the replay was held to; 0: unlimited.
	Rate           float64            `json:"rate,omitempty"`
	Partitions     []PartitionSummary `json:"partitions"`
	Elapsed        string             `json:"elapsed"`
	ElapsedSeconds float64            `json:"elapsed_seconds"`
	Checkpoint     string             `json:"checkpoint,omitempty"`
	ToTopic        string             `json:"to_topic,omitempty"`
	Preview        []Preview          `json:"preview,omitempty"`
}

// PartitionSummary is one partition of a Summary.
type PartitionSummary struct {
	Partition int32 `json:"partition"`
	// Start and End are the range of this run; Next how far it got.
	Start        int64 `json:"start"`
	End          int64 `json:"end"`
	Next         int64 `json:"next"`
	Read         int64 `json:"read"`
	Written      int64 `json:"written"`
	Filtered     int64 `json:"filtered"`
	DeadLettered int64 `json:"dead_lettered"`
	Skipped      int64 `json:"skipped"`
}

func (r *Replay) summary(progress []kafka.Progress, tally *counts, pv *previewer, elapsed time.Duration) *Summary {
	s := &Summary{
		ID: r.cp.ID, Pipeline: r.p.Name, Mode: r.cp.Mode, Topic: r.cp.Topic, DryRun: r.opts.DryRun,
		Resumed: r.resumed, WrittenByTopic: map[string]int64{}, Partitions: []PartitionSummary{},
		Elapsed: elapsed.Round(time.Millisecond).String(), ElapsedSeconds: elapsed.Seconds(),
		Checkpoint: r.plan.Checkpoint, ToTopic: r.cp.ToTopic, Complete: r.cp.Complete,
	}
	if progress == nil {
		for _, rg := range r.cp.ranges() {
			progress = append(progress, kafka.Progress{Partition: rg.Partition, Start: rg.Start, End: rg.End, Next: rg.Start, Complete: rg.Start >= rg.End})
		}
		s.Complete = allComplete(progress)
	}
	var parts map[int32]partitionCounts
	if tally != nil {
		s.WrittenByTopic, parts = tally.snapshot()
	}
	for _, p := range progress {
		pc := parts[p.Partition]
		ps := PartitionSummary{
			Partition: p.Partition, Start: p.Start, End: p.End, Next: p.Next,
			Read: p.Acked + p.Skipped, Written: pc.outputs, DeadLettered: pc.deadLettered, Skipped: p.Skipped,
			Filtered: max(p.Acked-pc.written-pc.deadLettered, 0),
		}
		s.Partitions = append(s.Partitions, ps)
		s.Read += ps.Read
		s.Written += ps.Written
		s.Filtered += ps.Filtered
		s.DeadLettered += ps.DeadLettered
		s.Skipped += ps.Skipped
	}
	if s.Mode == ModeRedrive {
		s.FailedAgain = s.DeadLettered
		s.Redriven = s.Read - s.Skipped - s.DeadLettered
		if r.filters.already != nil {
			s.AlreadyRedriven = r.filters.already.Load()
		}
		s.SkippedByFilters = s.Skipped - s.AlreadyRedriven
	}
	s.DLQTopic, s.Rate = r.cp.DLQTopic, r.opts.Rate
	if pv != nil {
		s.Preview = pv.previews()
	}
	return s
}

// TopicsByCount lists WrittenByTopic's topics, most written first.
func (s *Summary) TopicsByCount() []string {
	ts := slices.Collect(maps.Keys(s.WrittenByTopic))
	slices.SortFunc(ts, func(a, b string) int {
		if d := s.WrittenByTopic[b] - s.WrittenByTopic[a]; d != 0 {
			if d > 0 {
				return 1
			}
			return -1
		}
		return strings.Compare(a, b)
	})
	return ts
}
