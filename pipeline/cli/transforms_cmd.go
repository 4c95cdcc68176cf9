package cli

import (
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/millrace-dev/millrace/internal/docs"
	"github.com/millrace-dev/millrace/transforms/spec"
	"github.com/spf13/cobra"
)

func newTransformsCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "transforms [NAME]",
		Short: "List the transforms, or show one with its config and examples",
		Example: "  pipeline-runner transforms\n" +
			"  pipeline-runner transforms filter",
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			out := cmd.OutOrStdout()
			if len(args) == 0 {
				tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
				for _, name := range g.registry.Names() {
					r, _ := g.registry.Lookup(name)
					fmt.Fprintf(tw, "%s\t%s\n", name, r.Spec.Summary)
				}
				return tw.Flush()
			}
			r, ok := g.registry.Lookup(args[0])
			if !ok {
				msg := fmt.Sprintf("unknown transform %q", args[0])
				if s := spec.Suggest(args[0], g.registry.Names()); s != "" {
					msg += fmt.Sprintf(" (did you mean %q?)", s)
				}
				return usageErr("%s; available: %s", msg, strings.Join(g.registry.Names(), ", "))
			}
			_, err := out.Write(docs.Transform(r.Spec))
			return err
		},
	}
}
