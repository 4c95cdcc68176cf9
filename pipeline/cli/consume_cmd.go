package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/millrace-dev/millrace/pipeline/config"
	"github.com/millrace-dev/millrace/pipeline/replay/offsets"
	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

type consumeOpts struct {
	topic      string
	from       string
	partitions []int32
	group      string
	max        int
	asJSON     bool
	exitAtEnd  bool
	timeout    time.Duration
}

func newConsumeCmd(g *globals) *cobra.Command {
	var o consumeOpts
	cmd := &cobra.Command{
		Use:   "consume --topic T [--from oldest|newest|N|-N|time:RFC3339] [--partition P]... [-e] [--group G] [--max N] [--json]",
		Short: "Print records of a topic",
		Long: "consume prints each record's value on its own line, or with --json one object per line\n" +
			"with topic, partition, offset, timestamp, key, headers and value.\n\n" +
			"--from oldest | newest | N (that offset) | -N (the last N records of each partition) |\n" +
			"time:RFC3339 (the first record at or after that time); --partition P (repeatable) reads\n" +
			"only those partitions; --exit-at-end (-e) stops, with exit 0, at the end offsets read\n" +
			"when it starts. With --group it consumes as that consumer group and commits what it\n" +
			"printed; --from then applies only where the group has no committed offset.\n\n" +
			"An unknown topic or partition, or a broker that cannot be reached, is said at once.",
		Example: "  pipeline-runner consume --topic orders-enriched --from oldest -e --json\n" +
			"  pipeline-runner consume --topic orders --from -10 --partition 0 --partition 2\n" +
			"  pipeline-runner consume --topic orders --from time:2024-05-01T00:00:00Z --max 100\n" +
			"  pipeline-runner consume --topic orders --group audit",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if o.topic == "" {
				return usageErr("--topic is required")
			}
			if o.group != "" && len(o.partitions) > 0 {
				return usageErr("--partition reads by assignment; a --group gets its partitions from the group")
			}
			f, err := parseFrom(o.from)
			if err != nil {
				return err
			}
			k, err := g.clientKafka()
			if err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			if o.timeout > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, o.timeout)
				defer cancel()
			}
			if err := reachable(ctx, k.Addrs()); err != nil {
				return err
			}
			plan, err := g.planConsume(ctx, k, o, f)
			if err != nil {
				return err
			}
			ctx, cl, sec, closeClient, err := g.client(ctx, k, plan.opts...)
			if err != nil {
				return err
			}
			defer closeClient()
			n, err := consume(ctx, cl, cmd.OutOrStdout(), o, plan.ends)
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
	f.StringVar(&o.from, "from", "oldest", "oldest, newest, N (an offset), -N (the last N of each partition) or time:RFC3339")
	f.Int32SliceVar(&o.partitions, "partition", nil, "read only this partition (repeatable)")
	f.BoolVarP(&o.exitAtEnd, "exit-at-end", "e", false, "stop at the end offsets read at the start, exit 0")
	f.StringVar(&o.group, "group", "", "consume as this group and commit what was printed")
	f.IntVar(&o.max, "max", 0, "exit after this many records (0: run until interrupted)")
	f.BoolVar(&o.asJSON, "json", false, "print one JSON object per record")
	f.DurationVar(&o.timeout, "timeout", 0, "give up after this long (exit 1 if --max was not reached)")
	return cmd
}

// consumePlan is how consume reads: the client's options and, for
// --exit-at-end, the end offset of each partition it reads.
type consumePlan struct {
	opts []kgo.Opt
	ends map[int32]int64 // nil: no end
}

// planConsume checks the topic and partitions and resolves --from, with
// a client of its own. A group reads from its committed offsets, so for
// --exit-at-end a partition the group has already read to its end is done
// at once.
func (g *globals) planConsume(ctx context.Context, k config.Kafka, o consumeOpts, f from) (*consumePlan, error) {
	ctx, cl, sec, closeClient, err := g.client(ctx, k)
	if err != nil {
		return nil, err
	}
	defer closeClient()
	adm := kadm.NewClient(cl)
	plan, err := resolveConsume(ctx, adm, o, f)
	if err != nil {
		return nil, adminErr(ctx, k.Addrs(), sec, err)
	}
	return plan, nil
}

func resolveConsume(ctx context.Context, adm *kadm.Client, o consumeOpts, f from) (*consumePlan, error) {
	t, err := offsets.Describe(ctx, adm, o.topic)
	if err != nil {
		return nil, err
	}
	if t, err = t.Limit(o.partitions); err != nil {
		return nil, err
	}
	starts, err := f.resolve(ctx, adm, t)
	if err != nil {
		return nil, err
	}
	plan := &consumePlan{}
	if o.group != "" {
		plan.opts = []kgo.Opt{kgo.ConsumeTopics(o.topic), kgo.ConsumeResetOffset(f.groupOffset()),
			kgo.ConsumerGroup(o.group), kgo.DisableAutoCommit()}
		if o.exitAtEnd {
			fetched, err := adm.FetchOffsetsForTopics(ctx, o.group, o.topic)
			if err != nil && !errors.Is(err, kerr.GroupIDNotFound) {
				return nil, err
			}
			for _, p := range t.Partitions {
				if c, ok := fetched.Lookup(o.topic, p.Partition); ok && c.Err == nil && c.At >= 0 {
					starts[p.Partition] = c.At
				}
			}
		}
	} else {
		at := map[int32]kgo.Offset{}
		for p, off := range starts {
			at[p] = kgo.NewOffset().At(off)
		}
		plan.opts = []kgo.Opt{kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{o.topic: at})}
	}
	if o.exitAtEnd {
		plan.ends = map[int32]int64{}
		for _, p := range t.Partitions {
			if starts[p.Partition] < p.End {
				plan.ends[p.Partition] = p.End
			}
		}
	}
	return plan, nil
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

// consume prints records until ctx ends, --max is reached or, with ends,
// every partition reached its end offset (a record at end-1 was printed;
// the topics Millrace writes have no transaction markers to leave a gap
// there).
func consume(ctx context.Context, cl *kgo.Client, w io.Writer, o consumeOpts, ends map[int32]int64) (int, error) {
	n := 0
	if ends != nil && len(ends) == 0 {
		return 0, nil
	}
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
			if end, ok := ends[r.Partition]; ends != nil && (!ok || r.Offset >= end) {
				return // past the end seen at the start
			}
			if werr = printRecord(w, enc, r, o.asJSON); werr == nil {
				n++
				printed = append(printed, r)
				if end, ok := ends[r.Partition]; ok && r.Offset+1 >= end {
					delete(ends, r.Partition)
				}
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
		if (o.max > 0 && n >= o.max) || (ends != nil && len(ends) == 0) {
			return n, nil // what was printed is committed
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
