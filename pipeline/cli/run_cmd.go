package cli

import (
	"context"
	"errors"
	"os"
	"os/signal"
	"syscall"

	"github.com/millrace-dev/millrace/pipeline"
	"github.com/spf13/cobra"
)

func newRunCmd(g *globals) *cobra.Command {
	var names []string
	var shutdown string
	cmd := &cobra.Command{
		Use:   "run",
		Short: "Run all (or the named) pipelines until SIGINT or SIGTERM",
		Long: "run starts every pipeline of the config (or those named with --pipeline). Without\n" +
			"kafka.brokers it starts the embedded development broker in the same process.\n" +
			"On SIGINT/SIGTERM it stops consuming, finishes in-flight records, commits and exits 0.",
		Example: "  pipeline-runner run\n  pipeline-runner run -c prod.yaml --brokers kafka1:9092,kafka2:9092 --pipeline enrich-orders",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := g.loadConfig()
			if err != nil {
				return err
			}
			if shutdown != "" {
				d, err := parseDuration("--shutdown-timeout", shutdown)
				if err != nil {
					return err
				}
				cfg.Runner.ShutdownTimeout = d
			}
			r, err := pipeline.New(cfg, pipeline.Options{Brokers: g.brokerOverride(), Pipelines: names, Logger: g.log})
			var unknown *pipeline.UnknownPipelineError
			if errors.As(err, &unknown) {
				return &exitError{exitUsage, err}
			} else if err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			if err := r.Run(ctx); err != nil {
				return &exitError{exitRuntime, err}
			}
			g.log.Info("runner stopped")
			return nil
		},
	}
	cmd.Flags().StringArrayVar(&names, "pipeline", nil, "run only this pipeline (repeatable)")
	cmd.Flags().StringVar(&shutdown, "shutdown-timeout", "", "override runner.shutdown_timeout, e.g. 10s")
	return cmd
}
