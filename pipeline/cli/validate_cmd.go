package cli

import (
	"fmt"

	"github.com/spf13/cobra"
)

func newValidateCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:     "validate",
		Short:   "Check the config and print every error with file:line:col",
		Example: "  pipeline-runner validate -c pipelines.yaml",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := g.loadConfig()
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s: ok, %d pipeline(s)\n", cfg.File, len(cfg.Pipelines))
			return nil
		},
	}
}
