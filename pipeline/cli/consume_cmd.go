package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kgo"
)

type consumeOpts struct {
	topic   string
	from    string
	group   string
	max     int
	asJSON  bool
	timeout time.Duration
}

func newConsumeCmd(g *globals) *cobra.Command {
	var o consumeOpts
	cmd := &cobra.Command{
		Use:   "consume --topic T [--from oldest|newest|OFFSET] [--group G] [--max N] [--json]",
		Short: "Print records of a topic",
		Long: "consume prints each record's value on its own line, or with --json one object per line\n" +
			"with topic, partition, offset, timestamp, key, headers and value. With --group it\n" +
			"consumes as that consumer group and commits what it printed; --from then applies\n" +
			"only where the group has no committed offset.",
		Example: "  pipeline-runner consume --topic orders-enriched --from oldest --max 10 --json\n" +
			"  pipeline-runner consume --topic orders --group audit",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if o.topic == "" {
				return usageErr("--topic is required")
			}
			start, err := parseStart(o.from)
			if err != nil {
				return err
			}
			k, err := g.clientKafka()
			if err != nil {
				return err
			}
			opts := []kgo.Opt{kgo.ConsumeTopics(o.topic), kgo.ConsumeResetOffset(start)}
			if o.group != "" {
				opts = append(opts, kgo.ConsumerGroup(o.group), kgo.DisableAutoCommit())
			}
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			if o.timeout > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, o.timeout)
				defer cancel()
			}
			ctx, cl, sec, closeClient, err := g.client(ctx, k, opts...)
			if err != nil {
				return err
			}
			defer closeClient()
			n, err := consume(ctx, cl, cmd.OutOrStdout(), o)
			if serr := sec.Err(); serr != nil {
				return serr
			}
			if o.max > 0 && n < o.max && ctx.Err() == context.DeadlineExceeded {
				return fmt.Errorf("timed out after %s with %d of %d record(s)", o.timeout, n, o.max)
			}
			return sec.Explain(err)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.topic, "topic", "", "topic to read (required)")
	f.StringVar(&o.from, "from", "oldest", "oldest, newest, or an offset applied to every partition")
	f.StringVar(&o.group, "group", "", "consume as this group and commit what was printed")
	f.IntVar(&o.max, "max", 0, "exit after this many records (0: run until interrupted)")
	f.BoolVar(&o.asJSON, "json", false, "print one JSON object per record")
	f.DurationVar(&o.timeout, "timeout", 0, "give up after this long (exit 1 if --max was not reached)")
	return cmd
}

func parseStart(from string) (kgo.Offset, error) {
	switch from {
	case "oldest", "":
		return kgo.NewOffset().AtStart(), nil
	case "newest":
		return kgo.NewOffset().AtEnd(), nil
	}
	n, err := strconv.ParseInt(from, 10, 64)
	if err != nil || n < 0 {
		return kgo.Offset{}, usageErr("--from %q: use oldest, newest or a non-negative offset", from)
	}
	return kgo.NewOffset().At(n), nil
}

// jsonRecord is the --json line format.
type jsonRecord struct {
	Topic     string            `json:"topic"`
	Partition int32             `json:"partition"`
	Offset    int64             `json:"offset"`
	Timestamp string            `json:"timestamp"`
	Key       *string           `json:"key"`
	Headers   map[string]string `json:"headers"`
	Value     string            `json:"value"`
}

func consume(ctx context.Context, cl *kgo.Client, w io.Writer, o consumeOpts) (int, error) {
	n := 0
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	for {
		fetches := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			return n, commit(cl, o)
		}
		if err := fetches.Err0(); err != nil {
			return n, fmt.Errorf("fetch: %w", err)
		}
		var printed []*kgo.Record
		var werr error
		fetches.EachRecord(func(r *kgo.Record) {
			if werr != nil || (o.max > 0 && n >= o.max) {
				return
			}
			if werr = printRecord(w, enc, r, o.asJSON); werr == nil {
				n++
				printed = append(printed, r)
			}
		})
		if werr != nil {
			return n, werr
		}
		if o.group != "" && len(printed) > 0 {
			if err := cl.CommitRecords(context.Background(), printed...); err != nil {
				return n, fmt.Errorf("commit: %w", err)
			}
		}
		if o.max > 0 && n >= o.max {
			return n, nil
		}
	}
}

func commit(cl *kgo.Client, o consumeOpts) error {
	if o.group == "" {
		return nil
	}
	return cl.CommitUncommittedOffsets(context.Background())
}

func printRecord(w io.Writer, enc *json.Encoder, r *kgo.Record, asJSON bool) error {
	if !asJSON {
		_, err := fmt.Fprintf(w, "%s\n", r.Value)
		return err
	}
	jr := jsonRecord{
		Topic:     r.Topic,
		Partition: r.Partition,
		Offset:    r.Offset,
		Timestamp: r.Timestamp.UTC().Format(time.RFC3339Nano),
		Headers:   make(map[string]string, len(r.Headers)),
		Value:     string(r.Value),
	}
	if r.Key != nil {
		k := string(r.Key)
		jr.Key = &k
	}
	for _, h := range r.Headers {
		jr.Headers[h.Key] = string(h.Value)
	}
	return enc.Encode(jr)
}
