package cli

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/millrace-dev/millrace/pipeline/config"
	"github.com/millrace-dev/millrace/pipeline/kafka"
	"github.com/spf13/cobra"
)

func newBrokerCmd(g *globals) *cobra.Command {
	var listen, dataDir string
	var partitions int
	cmd := &cobra.Command{
		Use:   "broker",
		Short: "Run the embedded development broker alone",
		Long: "broker runs the in-process Kafka-protocol broker (for development, demos and tests)\n" +
			"so that several runners, kcat and tests can share it. Production uses a Kafka cluster.",
		Example: "  pipeline-runner broker --listen 127.0.0.1:9092 --data-dir .millrace",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			emb, err := kafka.StartEmbedded(listen, dataDir, partitions)
			if err != nil {
				return err
			}
			defer emb.Close()
			g.log.Info("embedded broker listening", "addr", emb.Addr(), "data_dir", dataDir)
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			<-ctx.Done()
			g.log.Info("embedded broker stopping")
			return nil
		},
	}
	cmd.Flags().StringVar(&listen, "listen", config.DefaultEmbeddedListen, "address to listen on")
	cmd.Flags().StringVar(&dataDir, "data-dir", config.DefaultDataDir, "directory for the broker's data; empty keeps it in memory")
	cmd.Flags().IntVar(&partitions, "partitions", config.DefaultPartitions, "partitions of auto-created topics")
	return cmd
}
