package cli

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/millrace-dev/millrace/pipeline/config"
	"github.com/millrace-dev/millrace/pipeline/configtest"
	"github.com/spf13/cobra"
)

func newTestCmd(g *globals) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "test",
		Short: "Run the config's unit tests without a broker",
		Long: "test runs the cases in the config's `tests:` section and in its *_test.yaml sibling\n" +
			"(pipelines.yaml → pipelines_test.yaml). Each case feeds records to a pipeline's real\n" +
			"chain and middleware over an in-memory transport and checks the outputs per topic\n" +
			"(json_equals, json_contains, key, headers) and the dead letters (error_contains, step).\n" +
			"Exit code 1 when a case fails, 2 on config errors.",
		Example: "  pipeline-runner test -c pipelines.yaml\n  pipeline-runner test --json",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := g.loadConfig()
			if err != nil {
				return jsonConfigErrors(cmd.OutOrStdout(), asJSON, err)
			}
			cases, err := config.LoadTests(cfg, nil)
			if err != nil {
				return jsonConfigErrors(cmd.OutOrStdout(), asJSON, err)
			}
			results := configtest.Run(cfg, cases)
			failed := 0
			for _, r := range results {
				if !r.Passed {
					failed++
				}
			}
			out := cmd.OutOrStdout()
			if asJSON {
				enc := json.NewEncoder(out)
				enc.SetIndent("", "  ")
				if err := enc.Encode(map[string]any{"passed": len(results) - failed, "failed": failed, "tests": results}); err != nil {
					return err
				}
			} else {
				if len(results) == 0 {
					fmt.Fprintf(out, "no tests in %s or %s\n", cfg.File, config.TestFile(cfg.File))
				}
				for _, r := range results {
					if r.Passed {
						fmt.Fprintf(out, "PASS %s: %s\n", r.Pipeline, r.Name)
						continue
					}
					fmt.Fprintf(out, "FAIL %s: %s (%s)\n", r.Pipeline, r.Name, r.Pos)
					for _, f := range r.Failures {
						fmt.Fprintf(out, "     %s\n", strings.ReplaceAll(f, "\n", "\n     "))
					}
				}
				fmt.Fprintf(out, "%d passed, %d failed\n", len(results)-failed, failed)
			}
			if failed > 0 {
				return &exitError{exitRuntime, fmt.Errorf("%d of %d config test(s) failed", failed, len(results))}
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the results as JSON")
	return cmd
}
