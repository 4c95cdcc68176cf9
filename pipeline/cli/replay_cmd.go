package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/millrace-dev/millrace/pipeline/config"
	"github.com/millrace-dev/millrace/pipeline/replay"
	"github.com/millrace-dev/millrace/pipeline/replay/offsets"
	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"
)

type replayOpts struct {
	from, to, partitions string
	toTopic              string
	dlqTopic             string
	force                bool
	verbose              bool
	rate                 float64
	inFlight             int
	dryRun               bool
	show                 int
	asJSON               bool
	resume               string
	checkpointDir        string
	fromDLQ              bool
	errorContains        string
	since                string
	progressEvery        time.Duration
}

// resumeLatest is --resume given without an id.
const resumeLatest = "latest"

func newReplayCmd(g *globals) *cobra.Command {
	var o replayOpts
	cmd := &cobra.Command{
		Use:   "replay PIPELINE [--from POS] [--to POS] [--partitions LIST] [--to-topic T] [--dry-run] | --resume [ID] | --from-dlq",
		Short: "Reprocess a bounded range of a pipeline's input, or redrive its dead letters",
		Long: "replay runs the records of a range of PIPELINE's input topic through the pipeline's full\n" +
			"chain and middleware (dead letters included) and writes the outputs to the pipeline's\n" +
			"outputs, or all of them to --to-topic. It reads by partition assignment: the pipeline's\n" +
			"consumer group and its committed offsets are never touched. The end offsets are read\n" +
			"once at the start, so new traffic does not extend the range; the replay stops by itself\n" +
			"and exits 0 only when the whole range was processed and every output acknowledged.\n\n" +
			"Positions: --from oldest | newest | offset:N | P:O[,P:O...] | time:RFC3339 | group:NAME\n" +
			"(the committed offsets of that group); --to end | offset:N | P:O[,P:O...] | time:RFC3339\n" +
			"(exclusive). A time range also leaves out records whose timestamps fall outside it.\n\n" +
			"Progress is saved to a checkpoint (.millrace/replays/PIPELINE-ID.json) every second and\n" +
			"on exit; after an interruption (SIGINT, or even SIGKILL) --resume continues with the rest\n" +
			"of the range. Records written shortly before the interruption may be written again.\n\n" +
			"--dry-run reads the range and runs the chain but writes nothing: it shows the first\n" +
			"--show records after each transform step, then the counts a real run would produce.\n\n" +
			"--from-dlq reads the pipeline's dead-letter topic instead (the whole topic unless\n" +
			"--from/--to say otherwise), restores each record's original key, value and headers,\n" +
			"and runs it again; records that fail again go back with millrace.attempts raised.\n\n" +
			"Exit codes: 0 the whole range was processed; 1 interrupted or failed (resumable);\n" +
			"2 usage errors, such as an offset below the log start or beyond the end.",
		Example: "  pipeline-runner replay enrich-orders --from time:2024-05-01T00:00:00Z --to time:2024-05-02T00:00:00Z\n" +
			"  pipeline-runner replay enrich-orders --from 0:1200,1:980 --to-topic orders-backfill --rate 500\n" +
			"  pipeline-runner replay enrich-orders --from offset:100 --dry-run --show 3\n" +
			"  pipeline-runner replay enrich-orders --resume\n" +
			"  pipeline-runner replay enrich-orders --from-dlq --error-contains 'amount' --since time:2024-05-01T00:00:00Z",
		Args: cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 2 {
				// --resume ID: a flag with an optional value takes its
				// value only as --resume=ID; accept the spaced form too.
				if o.resume != resumeLatest {
					return usageErr("replay takes one PIPELINE; %q is one too many", args[1])
				}
				o.resume = args[1]
			}
			return runReplay(cmd, g, args[0], o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.from, "from", "", "where the range starts: oldest (default), newest, offset:N, P:O[,P:O...], time:RFC3339 or group:NAME")
	f.StringVar(&o.to, "to", "", "where the range ends, exclusive: end (default), offset:N, P:O[,P:O...] or time:RFC3339")
	f.StringVar(&o.partitions, "partitions", "", "only these partitions, e.g. 0,3")
	f.StringVar(&o.toTopic, "to-topic", "", "write every output to this topic instead of the pipeline's outputs")
	f.StringVar(&o.dlqTopic, "dlq-topic", "", "write dead letters to this topic instead of the pipeline's dead-letter topic")
	f.BoolVar(&o.force, "force", false, "with --from-dlq, redrive dead letters an earlier redrive already redrove")
	f.BoolVarP(&o.verbose, "verbose", "v", false, "log each record that fails (by default one line sums them up)")
	f.Float64Var(&o.rate, "rate", 0, "at most this many records per second (0: unlimited)")
	f.IntVar(&o.inFlight, "in-flight", 0, "records of one partition processed at once, in the pipeline's input.ordering (default: its input.max_in_flight)")
	f.BoolVar(&o.dryRun, "dry-run", false, "read and transform, write nothing; show the counts a real run would produce")
	f.IntVar(&o.show, "show", 5, "with --dry-run, show this many records after each transform step")
	f.BoolVar(&o.asJSON, "json", false, "print the summary as JSON")
	f.StringVar(&o.resume, "resume", "", "continue an interrupted replay: its id, or the pipeline's latest when omitted")
	f.Lookup("resume").NoOptDefVal = resumeLatest
	f.StringVar(&o.checkpointDir, "checkpoint-dir", replay.DefaultCheckpointDir, "directory of the replay checkpoints")
	f.BoolVar(&o.fromDLQ, "from-dlq", false, "redrive the pipeline's dead-letter topic")
	f.StringVar(&o.errorContains, "error-contains", "", "with --from-dlq, only dead letters whose millrace.error contains this text")
	f.StringVar(&o.since, "since", "", "with --from-dlq, only dead letters that failed at or after time:RFC3339")
	f.DurationVar(&o.progressEvery, "progress-interval", 5*time.Second, "without a terminal, log progress this often")
	return cmd
}

func runReplay(cmd *cobra.Command, g *globals, name string, o replayOpts) error {
	flags := cmd.Flags()
	opts := replay.Options{
		Pipeline: name, ToTopic: o.toTopic, DLQTopic: o.dlqTopic, Force: o.force, DryRun: o.dryRun, Show: o.show, Rate: o.rate, InFlight: o.inFlight,
		CheckpointDir: o.checkpointDir, Redrive: o.fromDLQ, ErrorContains: o.errorContains, Logger: g.log,
	}
	if !o.verbose {
		opts.Logger = slog.New(quietRecords{g.log.Handler()})
	}
	if o.resume != "" {
		for _, fl := range []string{"from", "to", "partitions", "to-topic", "dlq-topic", "from-dlq", "force", "error-contains", "since", "dry-run"} {
			if flags.Changed(fl) {
				return usageErr("--resume continues the saved range with its settings; it does not take --%s", fl)
			}
		}
		opts.Resume = true
		if o.resume != resumeLatest {
			opts.ResumeID = o.resume
		}
	}
	if !o.fromDLQ {
		for _, fl := range []string{"error-contains", "since", "force"} {
			if flags.Changed(fl) {
				return usageErr("--%s filters dead letters; use it with --from-dlq", fl)
			}
		}
	}
	if flags.Changed("show") && !o.dryRun {
		return usageErr("--show applies to --dry-run")
	}
	if o.rate < 0 || o.inFlight < 0 || o.show < 0 {
		return usageErr("--rate, --in-flight and --show must not be negative")
	}
	if o.from != "" {
		s, err := offsets.ParseStart("--from", o.from)
		if err != nil {
			return &exitError{exitUsage, err}
		}
		opts.From = &s
	}
	if o.to != "" {
		s, err := offsets.ParseEnd("--to", o.to)
		if err != nil {
			return &exitError{exitUsage, err}
		}
		opts.To = &s
	}
	if o.partitions != "" {
		ps, err := offsets.ParsePartitions("--partitions", o.partitions)
		if err != nil {
			return &exitError{exitUsage, err}
		}
		opts.Partitions = ps
	}
	if o.since != "" {
		t, err := offsets.ParseTime("--since", o.since)
		if err != nil {
			return &exitError{exitUsage, err}
		}
		opts.Since = &t
	}
	cfg, err := g.replayConfig()
	if err != nil {
		return err
	}
	opts.Config = cfg
	opts.ResumeCommand = func(id string) string { return resumeCommand(cmd, g, name, id) }
	for _, p := range cfg.Pipelines {
		if p.Name == name && o.toTopic != "" && (o.toTopic == p.Input.Topic || (o.fromDLQ && o.toTopic == p.Errors.DeadLetterTopic)) {
			return usageErr("--to-topic %s is the topic the replay reads", o.toTopic)
		}
		if p.Name == name && o.dlqTopic != "" && o.dlqTopic == p.Input.Topic {
			return usageErr("--dlq-topic %s is the pipeline's input topic", o.dlqTopic)
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	prepCtx, cancel := context.WithTimeout(ctx, 60*time.Second)
	r, err := replay.Prepare(prepCtx, opts)
	cancel()
	var ue *replay.UsageError
	if errors.As(err, &ue) {
		return &exitError{exitUsage, err}
	}
	if err != nil {
		return err
	}
	plan := r.Plan()
	stderr := cmd.ErrOrStderr()
	for _, w := range plan.Warnings {
		g.log.Warn(w)
	}
	if !o.asJSON {
		describePlan(stderr, plan)
	}

	var ui progressUI
	if !plan.Empty() {
		ui = startProgress(r, stderr, g, o.progressEvery)
	}
	sum, runErr := r.Run(ctx)
	if ui != nil {
		ui.stop(runErr == nil)
	}
	if sum != nil && !o.verbose {
		dlq := o.dlqTopic
		if dlq == "" {
			dlq = deadLetterTopicOf(cfg, name)
		}
		writeFailures(stderr, sum, dlq)
	}
	if sum != nil {
		out := cmd.OutOrStdout()
		if o.asJSON {
			enc := json.NewEncoder(out)
			enc.SetIndent("", "  ")
			enc.SetEscapeHTML(false)
			if err := enc.Encode(sum); err != nil {
				return err
			}
		} else if !plan.Empty() {
			writeSummary(out, plan, sum)
		}
	}
	if runErr != nil {
		return &exitError{exitRuntime, runErr}
	}
	return nil
}

// replayConfig loads the config with --brokers applied.
func (g *globals) replayConfig() (*config.Config, error) {
	cfg, err := g.loadConfig()
	if err != nil {
		return nil, err
	}
	if o := g.brokerOverride(); o != nil {
		c := *cfg
		c.Kafka.Brokers = config.NormalizeBrokers(o)
		cfg = &c
	}
	return cfg, nil
}

func describePlan(w io.Writer, p replay.Plan) {
	what := "replay"
	if p.Mode == replay.ModeRedrive {
		what = "redrive"
	}
	if p.DryRun {
		what = "dry-run " + what
	}
	dest := "the pipeline's outputs"
	if p.ToTopic != "" {
		dest = p.ToTopic
	}
	var ranges []string
	for _, r := range p.Ranges {
		ranges = append(ranges, fmt.Sprintf("%d:[%d,%d)", r.Partition, r.Start, r.End))
	}
	switch {
	case p.Empty() && p.Resumed:
		fmt.Fprintf(w, "replay %s of pipeline %s is already complete; nothing to do\n", p.ID, p.Pipeline)
	case p.Empty():
		fmt.Fprintf(w, "nothing to %s: the range selects no records of %s (%s)\n", strings.TrimPrefix(what, "dry-run "), p.Topic, strings.Join(ranges, " "))
	case p.Resumed:
		fmt.Fprintf(w, "resuming %s %s of pipeline %s: %d of %d record(s) of %s left (%s) → %s\n",
			what, p.ID, p.Pipeline, p.Records-p.Done, p.Records, p.Topic, strings.Join(ranges, " "), dest)
	default:
		fmt.Fprintf(w, "%s %s of pipeline %s: %d record(s) of %s (%s) → %s\n",
			what, p.ID, p.Pipeline, p.Records, p.Topic, strings.Join(ranges, " "), dest)
	}
}

// progressUI shows a running replay's progress.
type progressUI interface{ stop(finished bool) }

func startProgress(r *replay.Replay, w io.Writer, g *globals, every time.Duration) progressUI {
	if isTerminal(w) {
		return startBar(r, w)
	}
	return startLogLines(r, g, every)
}

type barUI struct {
	bar      *progressbar.ProgressBar
	w        io.Writer
	progress func() replay.Progress
	done     chan struct{}
	end      chan struct{}
}

// startBar draws a progress bar with records, the rate and the ETA. The
// rate is the replay's own, records done over time elapsed (the bar's
// would count its redraws), and is shown once a second has passed.
func startBar(r *replay.Replay, w io.Writer) *barUI {
	return startBarOf(r.Progress, w)
}

func startBarOf(progress func() replay.Progress, w io.Writer) *barUI {
	total := max(progress().Total, 1)
	b := &barUI{progress: progress, w: w, done: make(chan struct{}), end: make(chan struct{})}
	b.bar = progressbar.NewOptions64(total,
		progressbar.OptionSetWriter(w),
		progressbar.OptionSetDescription("replay"),
		progressbar.OptionShowCount(),
		progressbar.OptionSetPredictTime(true),
		progressbar.OptionSetElapsedTime(true),
		progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionSetRenderBlankState(true),
		progressbar.OptionFullWidth(),
	)
	go func() {
		defer close(b.end)
		t := time.NewTicker(200 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-b.done:
				return
			case <-t.C:
				p := progress()
				b.bar.Describe("replay " + rateText(p))
				_ = b.bar.Set64(min(p.Done, total))
			}
		}
	}()
	return b
}

// rateText is the replay's rate so far, once a second has passed.
func rateText(p replay.Progress) string {
	s := p.Elapsed.Seconds()
	if s < 1 {
		return "- rec/s"
	}
	return fmt.Sprintf("%d rec/s", int64(float64(p.Done)/s))
}

func (b *barUI) stop(finished bool) {
	close(b.done)
	<-b.end
	if finished {
		_ = b.bar.Finish()
	} else {
		_ = b.bar.Set64(b.progress().Done)
		_ = b.bar.Exit()
	}
	fmt.Fprintln(b.w)
}

type logUI struct {
	done chan struct{}
	end  chan struct{}
}

// startLogLines logs the progress every few seconds.
func startLogLines(r *replay.Replay, g *globals, every time.Duration) *logUI {
	l := &logUI{done: make(chan struct{}), end: make(chan struct{})}
	go func() {
		defer close(l.end)
		t := time.NewTicker(max(every, 100*time.Millisecond))
		defer t.Stop()
		for {
			select {
			case <-l.done:
				return
			case <-t.C:
				p := r.Progress()
				rate := 0.0
				if s := p.Elapsed.Seconds(); s > 0 {
					rate = float64(p.Done) / s
				}
				eta := "unknown"
				if rate > 0 {
					eta = (time.Duration(float64(max(p.Total-p.Done, 0))/rate) * time.Second).Round(time.Second).String()
				}
				g.log.Info("replay progress", "done", p.Done, "total", p.Total, "written", p.Written,
					"dead_lettered", p.Dead, "records_per_second", int64(rate), "eta", eta)
			}
		}
	}()
	return l
}

func (l *logUI) stop(bool) {
	close(l.done)
	<-l.end
}

func writeSummary(w io.Writer, p replay.Plan, s *replay.Summary) {
	what := "replay"
	if s.Mode == replay.ModeRedrive {
		what = "redrive"
	}
	state := "complete"
	if !s.Complete {
		state = "incomplete"
	}
	if s.DryRun {
		replay.WritePreviews(w, s.Preview)
		fmt.Fprintf(w, "dry run of %s %s of pipeline %s (%s): %s in %s; nothing was written. A real run would write:\n",
			what, s.ID, s.Pipeline, s.Topic, state, s.Elapsed)
	} else {
		fmt.Fprintf(w, "%s %s of pipeline %s (%s): %s in %s\n", what, s.ID, s.Pipeline, s.Topic, state, s.Elapsed)
	}
	var topics []string
	for _, t := range s.TopicsByCount() {
		topics = append(topics, fmt.Sprintf("%s %d", t, s.WrittenByTopic[t]))
	}
	written := fmt.Sprint(s.Written)
	if len(topics) > 0 {
		written += " (" + strings.Join(topics, ", ") + ")"
	}
	fmt.Fprintf(w, "  read           %d\n", s.Read)
	fmt.Fprintf(w, "  written        %s\n", written)
	fmt.Fprintf(w, "  filtered       %d\n", s.Filtered)
	fmt.Fprintf(w, "  dead-lettered  %d\n", s.DeadLettered)
	fmt.Fprintf(w, "  skipped        %d\n", s.Skipped)
	if s.Mode == replay.ModeRedrive {
		fmt.Fprintf(w, "  redriven %d, failed again %d, skipped by the filters %d, already redriven %d\n",
			s.Redriven, s.FailedAgain, s.SkippedByFilters, s.AlreadyRedriven)
		if s.AlreadyRedriven > 0 {
			fmt.Fprintln(w, "  (dead letters an earlier redrive redrove are skipped; --force redrives them again)")
		}
	}
	if s.DLQTopic != "" {
		fmt.Fprintf(w, "  dead letters   %s\n", s.DLQTopic)
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "  partition\trange\tnext\tread\twritten\tfiltered\tdead-lettered\tskipped")
	for _, ps := range s.Partitions {
		fmt.Fprintf(tw, "  %d\t[%d,%d)\t%d\t%d\t%d\t%d\t%d\t%d\n", ps.Partition, ps.Start, ps.End, ps.Next, ps.Read, ps.Written, ps.Filtered, ps.DeadLettered, ps.Skipped)
	}
	tw.Flush()
	if s.Checkpoint != "" {
		fmt.Fprintf(w, "  checkpoint     %s\n", s.Checkpoint)
	}
}

// deadLetterTopicOf is the dead-letter topic of the named pipeline.
func deadLetterTopicOf(cfg *config.Config, name string) string {
	for _, p := range cfg.Pipelines {
		if p.Name == name {
			return p.Errors.DeadLetterTopic
		}
	}
	return ""
}
