package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/millrace-dev/millrace/pipeline"
	"github.com/millrace-dev/millrace/pipeline/config"
	"github.com/millrace-dev/millrace/pipeline/kafka"
	"github.com/millrace-dev/millrace/pipeline/replay/offsets"
	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kadm"
)

func newOffsetsCmd(g *globals) *cobra.Command {
	var asJSON, execute bool
	var resetTo, partitions string
	cmd := &cobra.Command{
		Use:   "offsets PIPELINE [--json] [--reset-to POS [--execute]] [--partitions LIST]",
		Short: "Show, or reset, the committed offsets of a pipeline's consumer group",
		Long: "offsets shows, per partition of PIPELINE's input topic, the committed offset of the\n" +
			"pipeline's consumer group, the log start, the end offset and the lag, with totals.\n\n" +
			"--reset-to oldest | newest | offset:N | P:O[,P:O...] | time:RFC3339 shows what a reset\n" +
			"would change (a dry run); --execute applies it. A reset is refused while the group has\n" +
			"active members: stop the pipeline's runners first. Offsets outside the partitions'\n" +
			"log start and end are refused rather than moved.",
		Example: "  pipeline-runner offsets enrich-orders\n" +
			"  pipeline-runner offsets enrich-orders --reset-to time:2024-05-01T00:00:00Z\n" +
			"  pipeline-runner offsets enrich-orders --reset-to oldest --partitions 0,3 --execute",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if execute && resetTo == "" {
				return usageErr("--execute applies a --reset-to; give one")
			}
			var spec offsets.Spec
			if resetTo != "" {
				s, err := offsets.ParseReset("--reset-to", resetTo)
				if err != nil {
					return &exitError{exitUsage, err}
				}
				spec = s
			}
			var ids []int32
			if partitions != "" {
				ps, err := offsets.ParsePartitions("--partitions", partitions)
				if err != nil {
					return &exitError{exitUsage, err}
				}
				ids = ps
			}
			cfg, err := g.replayConfig()
			if err != nil {
				return err
			}
			p, err := findPipeline(cfg, args[0])
			if err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
			defer cancel()
			ctx, cl, sec, closeClient, err := g.client(ctx, cfg.Kafka)
			if err != nil {
				return err
			}
			defer closeClient()
			adm := kadm.NewClient(cl)

			topic, err := offsets.Describe(ctx, adm, p.Input.Topic)
			if err != nil {
				return offsetsErr(ctx, cfg, sec, err)
			}
			topic, err = topic.Limit(ids)
			if err != nil {
				return &exitError{exitUsage, err}
			}
			view, err := offsets.ViewGroup(ctx, adm, topic, p.Input.Group, p.Input.Start == "newest")
			if err != nil {
				return offsetsErr(ctx, cfg, sec, err)
			}
			out := cmd.OutOrStdout()
			if resetTo == "" {
				if asJSON {
					return writeJSON(out, view)
				}
				writeGroupView(out, view)
				return nil
			}
			plan, err := offsets.PlanReset(ctx, adm, topic, view, spec)
			if err != nil {
				return offsetsErr(ctx, cfg, sec, err)
			}
			for _, w := range plan.Warnings {
				g.log.Warn(w)
			}
			if execute {
				if err := offsets.ApplyReset(ctx, adm, plan); err != nil {
					return offsetsErr(ctx, cfg, sec, err)
				}
			}
			if asJSON {
				return writeJSON(out, map[string]any{"plan": plan, "executed": execute, "active": view.Active()})
			}
			writeResetPlan(out, view, plan, execute)
			return nil
		},
	}
	f := cmd.Flags()
	f.BoolVar(&asJSON, "json", false, "print JSON")
	f.StringVar(&resetTo, "reset-to", "", "plan a reset to oldest, newest, offset:N, P:O[,P:O...] or time:RFC3339")
	f.BoolVar(&execute, "execute", false, "apply the --reset-to plan")
	f.StringVar(&partitions, "partitions", "", "only these partitions, e.g. 0,3")
	return cmd
}

// findPipeline returns the named pipeline, or an exit-2 error listing them.
func findPipeline(cfg *config.Config, name string) (*config.Pipeline, error) {
	var known []string
	for _, p := range cfg.Pipelines {
		if p.Name == name {
			return p, nil
		}
		known = append(known, p.Name)
	}
	return nil, &exitError{exitUsage, &pipeline.UnknownPipelineError{Name: name, Known: known}}
}

// offsetsErr gives usage errors exit code 2 and names unreachable brokers
// and failures of TLS or SASL.
func offsetsErr(ctx context.Context, cfg *config.Config, sec *kafka.Security, err error) error {
	return adminErr(ctx, cfg.Kafka.Addrs(), sec, err)
}

// adminErr is offsetsErr for the brokers addrs.
func adminErr(ctx context.Context, addrs []string, sec *kafka.Security, err error) error {
	if serr := sec.Explain(err); serr != err {
		return serr
	}
	var (
		syn *offsets.SyntaxError
		oor *offsets.OutOfRangeError
		up  *offsets.UnknownPartitionError
		ut  *offsets.UnknownTopicError
	)
	switch {
	case errors.As(err, &syn), errors.As(err, &oor), errors.As(err, &up), errors.As(err, &ut):
		return &exitError{exitUsage, err}
	case ctx.Err() != nil:
		return fmt.Errorf("cannot reach the brokers %s: %w", strings.Join(addrs, ","), err)
	}
	return err
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

func showOffset(o *int64) string {
	if o == nil {
		return "-"
	}
	return fmt.Sprint(*o)
}

func writeGroupView(w io.Writer, v *offsets.GroupView) {
	members := "no members"
	if len(v.Members) > 0 {
		members = fmt.Sprintf("%d member(s): %s", len(v.Members), strings.Join(v.Members, ", "))
	}
	fmt.Fprintf(w, "group %s on topic %s (state %s, %s)\n", v.Group, v.Topic, v.State, members)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "partition\tcommitted\tlog start\tend\tlag\t")
	for _, p := range v.Partitions {
		fmt.Fprintf(tw, "%d\t%s\t%d\t%d\t%d\t\n", p.Partition, showOffset(p.Committed), p.LogStart, p.End, p.Lag)
	}
	fmt.Fprintf(tw, "total\t\t\t%d records\t%d\t\n", v.Totals.Records, v.Totals.Lag)
	tw.Flush()
}

func writeResetPlan(w io.Writer, v *offsets.GroupView, plan *offsets.ResetPlan, executed bool) {
	if executed {
		fmt.Fprintf(w, "reset group %s on topic %s to %s:\n", plan.Group, plan.Topic, plan.To)
	} else {
		fmt.Fprintf(w, "reset of group %s on topic %s to %s (dry run; add --execute to apply):\n", plan.Group, plan.Topic, plan.To)
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "partition\tcommitted\tnew\tchange\t")
	for _, c := range plan.Changes {
		var logStart int64
		for _, p := range v.Partitions {
			if p.Partition == c.Partition {
				logStart = p.LogStart
			}
		}
		fmt.Fprintf(tw, "%d\t%s\t%d\t%+d\t\n", c.Partition, showOffset(c.From), c.To, c.Delta(logStart))
	}
	tw.Flush()
	switch {
	case executed:
		fmt.Fprintln(w, "committed")
	case v.Active():
		fmt.Fprintf(w, "the group is active (%d member(s)): --execute is refused until its consumers stop\n", len(v.Members))
	}
}
