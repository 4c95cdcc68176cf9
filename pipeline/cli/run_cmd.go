package cli

import (
	"context"
	"errors"
	"os"
	"os/signal"
	"syscall"

	"github.com/millrace-dev/millrace/pipeline"
	"github.com/millrace-dev/millrace/pipeline/config"
	"github.com/spf13/cobra"
)

func newRunCmd(g *globals) *cobra.Command {
	var names []string
	var shutdown, adminAddr string
	var watch bool
	cmd := &cobra.Command{
		Use:   "run",
		Short: "Run all (or the named) pipelines until SIGINT or SIGTERM",
		Long: "run starts every pipeline of the config (or those named with --pipeline). Without\n" +
			"kafka.brokers it starts the embedded development broker in the same process.\n" +
			"On SIGINT/SIGTERM it stops consuming, finishes in-flight records, commits and exits 0.\n" +
			"SIGHUP (and with --watch a change of the file) reloads the config: pipelines that did not\n" +
			"change run on, changed ones drain and restart, removed ones stop, added ones start; a file\n" +
			"that is not valid changes nothing.\n" +
			"The admin server (metrics, /healthz, /readyz, status page) listens on admin.address,\n" +
			"127.0.0.1:9469 unless configured or set with --admin-addr.",
		Example: "  pipeline-runner run\n  pipeline-runner run -c prod.yaml --brokers kafka1:9092,kafka2:9092 --pipeline enrich-orders\n" +
			"  pipeline-runner run --admin-addr 0.0.0.0:9469",
		Args: cobra.NoArgs,
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
			if adminAddr != "" {
				if err := config.CheckAdminAddress(adminAddr); err != nil {
					return usageErr("--admin-addr %q %v: use host:port or off", adminAddr, err)
				}
			}
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			r, err := pipeline.New(cfg, pipeline.Options{Brokers: g.brokerOverride(), Pipelines: names, Logger: g.log,
				AdminAddr: adminAddr, Version: buildVersion(), Replays: runningReplays,
				Reloads: reloadRequests(ctx, g.configPath, watch, g.log), LoadConfig: g.loadConfig})
			var unknown *pipeline.UnknownPipelineError
			if errors.As(err, &unknown) {
				return &exitError{exitUsage, err}
			} else if err != nil {
				return err
			}
			if err := r.Run(ctx); err != nil {
				return &exitError{exitRuntime, err}
			}
			g.log.Info("runner stopped")
			return nil
		},
	}
	cmd.Flags().StringArrayVar(&names, "pipeline", nil, "run only this pipeline (repeatable)")
	cmd.Flags().StringVar(&shutdown, "shutdown-timeout", "", "override runner.shutdown_timeout, e.g. 10s")
	cmd.Flags().StringVar(&adminAddr, "admin-addr", "", "override admin.address: host:port of the admin server, or off")
	cmd.Flags().BoolVar(&watch, "watch", false, "reload the config when its file changes (SIGHUP always reloads it)")
	return cmd
}
