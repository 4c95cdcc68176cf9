package cli

import (
	"context"
	"fmt"
	"io"
	"maps"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/millrace-dev/millrace/pipeline/replay/offsets"
	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kadm"
)

// topicsTimeout bounds the admin requests of topics.
const topicsTimeout = 60 * time.Second

func newTopicsCmd(g *globals) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "topics [--json] | topics describe TOPIC [--json]",
		Short: "List the topics with their partitions and end offsets, or describe one",
		Long: "topics lists the cluster's topics (internal ones left out) with their partitions, the\n" +
			"records they hold and each partition's end offset. `topics describe TOPIC` shows each\n" +
			"partition's leader, replicas, log start and end offset, and the consumer groups that\n" +
			"read the topic: their state, members, committed offsets and lag.",
		Example: "  pipeline-runner topics\n  pipeline-runner topics --brokers kafka1:9092 --json\n  pipeline-runner topics describe orders",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return g.withAdmin(func(ctx context.Context, adm *kadm.Client) error {
				ts, err := listTopics(ctx, adm)
				if err != nil {
					return err
				}
				if asJSON {
					return writeJSON(cmd.OutOrStdout(), ts)
				}
				writeTopics(cmd.OutOrStdout(), ts)
				return nil
			})
		},
	}
	cmd.PersistentFlags().BoolVar(&asJSON, "json", false, "print JSON")
	describe := &cobra.Command{
		Use:     "describe TOPIC [--json]",
		Short:   "Show a topic's partitions, offsets and the groups reading it",
		Example: "  pipeline-runner topics describe orders\n  pipeline-runner topics describe orders --json",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return g.withAdmin(func(ctx context.Context, adm *kadm.Client) error {
				d, err := describeTopic(ctx, adm, args[0])
				if err != nil {
					return err
				}
				if asJSON {
					return writeJSON(cmd.OutOrStdout(), d)
				}
				writeTopicDescription(cmd.OutOrStdout(), d)
				return nil
			})
		},
	}
	cmd.AddCommand(describe)
	return cmd
}

// withAdmin runs f with an admin client of the brokers the command line
// names (--brokers, else the config's), saying at once when none can be
// reached.
func (g *globals) withAdmin(f func(ctx context.Context, adm *kadm.Client) error) error {
	k, err := g.clientKafka()
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, topicsTimeout)
	defer cancel()
	if err := reachable(ctx, k.Addrs()); err != nil {
		return err
	}
	ctx, cl, sec, closeClient, err := g.client(ctx, k)
	if err != nil {
		return err
	}
	defer closeClient()
	if err := f(ctx, kadm.NewClient(cl)); err != nil {
		return adminErr(ctx, k.Addrs(), sec, err)
	}
	return nil
}

// topicSummary is one line of `topics`.
type topicSummary struct {
	Topic      string  `json:"topic"`
	Partitions int     `json:"partitions"`
	Records    int64   `json:"records"`
	EndOffsets []int64 `json:"end_offsets"` // by partition
}

func listTopics(ctx context.Context, adm *kadm.Client) ([]topicSummary, error) {
	tds, err := adm.ListTopics(ctx)
	if err != nil {
		return nil, fmt.Errorf("list topics: %w", err)
	}
	var names []string
	for _, td := range tds.Sorted() {
		if td.Err == nil && !td.IsInternal && !strings.HasPrefix(td.Topic, "__") {
			names = append(names, td.Topic)
		}
	}
	out := []topicSummary{}
	if len(names) == 0 {
		return out, nil
	}
	starts, err := adm.ListStartOffsets(ctx, names...)
	if err != nil {
		return nil, fmt.Errorf("list start offsets: %w", err)
	}
	ends, err := adm.ListEndOffsets(ctx, names...)
	if err != nil {
		return nil, fmt.Errorf("list end offsets: %w", err)
	}
	for _, name := range names {
		s := topicSummary{Topic: name, Partitions: len(tds[name].Partitions), EndOffsets: make([]int64, len(tds[name].Partitions))}
		for p, eo := range ends[name] {
			if eo.Err != nil || int(p) >= len(s.EndOffsets) {
				continue
			}
			s.EndOffsets[p] = eo.Offset
			if so, ok := starts.Lookup(name, p); ok && so.Err == nil {
				s.Records += eo.Offset - so.Offset
			}
		}
		out = append(out, s)
	}
	return out, nil
}

func writeTopics(w io.Writer, ts []topicSummary) {
	if len(ts) == 0 {
		fmt.Fprintln(w, "no topics")
		return
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "topic\tpartitions\trecords\tend offsets")
	for _, t := range ts {
		ends := make([]string, len(t.EndOffsets))
		for i, e := range t.EndOffsets {
			ends[i] = fmt.Sprintf("%d:%d", i, e)
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%s\n", t.Topic, t.Partitions, t.Records, strings.Join(ends, " "))
	}
	tw.Flush()
}

// topicDescription is `topics describe`.
type topicDescription struct {
	Topic      string            `json:"topic"`
	Records    int64             `json:"records"`
	Partitions []partitionDetail `json:"partitions"`
	Groups     []topicGroup      `json:"groups"`
}

type partitionDetail struct {
	offsets.Partition
	Leader   int32   `json:"leader"`
	Replicas []int32 `json:"replicas"`
	ISR      []int32 `json:"isr"`
	Records  int64   `json:"records"`
}

// topicGroup is a consumer group with committed offsets on the topic or
// members assigned to it.
type topicGroup struct {
	Group     string          `json:"group"`
	State     string          `json:"state"`
	Members   int             `json:"members"`
	Committed map[int32]int64 `json:"committed"`
	Lag       int64           `json:"lag"`
}

func describeTopic(ctx context.Context, adm *kadm.Client, topic string) (*topicDescription, error) {
	t, err := offsets.Describe(ctx, adm, topic)
	if err != nil {
		return nil, err
	}
	md, err := adm.Metadata(ctx, topic)
	if err != nil {
		return nil, fmt.Errorf("metadata of %s: %w", topic, err)
	}
	d := &topicDescription{Topic: topic, Groups: []topicGroup{}}
	for _, p := range t.Partitions {
		pd := partitionDetail{Partition: p, Leader: -1, Records: p.End - p.LogStart}
		if m, ok := md.Topics[topic].Partitions[p.Partition]; ok {
			pd.Leader, pd.Replicas, pd.ISR = m.Leader, m.Replicas, m.ISR
		}
		d.Records += pd.Records
		d.Partitions = append(d.Partitions, pd)
	}
	listed, err := adm.ListGroups(ctx)
	if err != nil {
		return nil, fmt.Errorf("list groups: %w", err)
	}
	if groups := listed.Groups(); len(groups) > 0 {
		lags, err := adm.Lag(ctx, groups...)
		if err != nil {
			return nil, fmt.Errorf("group offsets: %w", err)
		}
		for _, l := range lags.Sorted() {
			parts, ok := l.Lag[topic]
			if !ok || len(parts) == 0 {
				continue
			}
			tg := topicGroup{Group: l.Group, State: l.State, Members: len(l.Members), Committed: map[int32]int64{}}
			for p, ml := range parts {
				if ml.Commit.At >= 0 {
					tg.Committed[p] = ml.Commit.At
				}
				if ml.Lag > 0 {
					tg.Lag += ml.Lag
				}
			}
			d.Groups = append(d.Groups, tg)
		}
	}
	return d, nil
}

func writeTopicDescription(w io.Writer, d *topicDescription) {
	fmt.Fprintf(w, "topic %s: %d partition(s), %d record(s)\n", d.Topic, len(d.Partitions), d.Records)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "  partition\tleader\treplicas\tlog start\tend\trecords")
	for _, p := range d.Partitions {
		fmt.Fprintf(tw, "  %d\t%d\t%v\t%d\t%d\t%d\n", p.Partition.Partition, p.Leader, p.Replicas, p.LogStart, p.End, p.Records)
	}
	tw.Flush()
	if len(d.Groups) == 0 {
		fmt.Fprintln(w, "no consumer group reads it")
		return
	}
	fmt.Fprintln(w, "groups reading it:")
	tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "  group\tstate\tmembers\tcommitted\tlag")
	for _, g := range d.Groups {
		ps := slices.Sorted(maps.Keys(g.Committed))
		var cs []string
		for _, p := range ps {
			cs = append(cs, fmt.Sprintf("%d:%d", p, g.Committed[p]))
		}
		if len(cs) == 0 {
			cs = []string{"-"}
		}
		fmt.Fprintf(tw, "  %s\t%s\t%d\t%s\t%d\n", g.Group, g.State, g.Members, strings.Join(cs, " "), g.Lag)
	}
	tw.Flush()
}
