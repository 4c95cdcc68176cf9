// Package cli is the pipeline-runner command line. Main gives an embedding
// program the whole CLI, with its own transforms registered:
//
//	func main() {
//		transforms.Register(myTransformSpec, newMyTransform)
//		os.Exit(cli.Main(os.Args[1:], cli.Options{}))
//	}
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/millrace-dev/millrace/pipeline/config"
	"github.com/millrace-dev/millrace/pipeline/kafka"
	"github.com/millrace-dev/millrace/transforms"
	"github.com/millrace-dev/millrace/transforms/spec"
	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kgo"
)

// Exit codes.
const (
	exitOK      = 0
	exitRuntime = 1
	exitUsage   = 2
)

// exitError carries an exit code up to main.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

func usageErr(format string, args ...any) error {
	return &exitError{exitUsage, fmt.Errorf(format, args...)}
}

// globals are the flags every command shares.
type globals struct {
	configPath string
	configs    configFlag
	configSet  bool
	brokers    string
	logLevel   string
	log        *slog.Logger
	registry   *transforms.Registry
	// name is the program's name in help, examples and hints.
	name string
}

// Options customise an embedded CLI.
type Options struct {
	// Name is the program's name, used in help, examples and hints;
	// default "pipeline-runner".
	Name string
	// Registry resolves transform names; nil means transforms.Default.
	Registry *transforms.Registry
	// Stdin, Stdout and Stderr default to the process's.
	Stdin          io.Reader
	Stdout, Stderr io.Writer
}

// Main runs the CLI with args (without the program name) and returns the
// exit code: 0 success, 1 runtime failure, 2 usage or config error.
func Main(args []string, opts Options) int {
	if opts.Registry == nil {
		opts.Registry = transforms.Default
	}
	if opts.Stdin == nil {
		opts.Stdin = os.Stdin
	}
	if opts.Stdout == nil {
		opts.Stdout = os.Stdout
	}
	if opts.Stderr == nil {
		opts.Stderr = os.Stderr
	}
	if opts.Name == "" {
		opts.Name = defaultName
	}
	g := &globals{registry: opts.Registry, name: opts.Name}
	root := newRoot(g)
	root.SetArgs(args)
	root.SetIn(opts.Stdin)
	root.SetOut(opts.Stdout)
	root.SetErr(opts.Stderr)
	addCompletion(root) // after SetOut: its commands keep the writer they are made with
	renameProgram(root, opts.Name)
	err := root.Execute()
	if err == nil {
		return exitOK
	}
	var ee *exitError
	code := exitRuntime
	if errors.As(err, &ee) {
		code = ee.code
	} else if isUsage(err) {
		code = exitUsage
	}
	var ce spec.Errors
	if errors.As(err, &ce) {
		fmt.Fprintln(opts.Stderr, ce.Error())
		fmt.Fprintf(opts.Stderr, "%d error(s) in the config\n", len(ce))
		return exitUsage
	}
	fmt.Fprintln(opts.Stderr, "error:", err)
	return code
}

// isUsage recognises cobra's own argument and flag errors.
func isUsage(err error) bool {
	s := err.Error()
	for _, p := range []string{"unknown command", "unknown flag", "unknown shorthand", "flag needs an argument", "invalid argument", "accepts ", "requires at least", "required flag"} {
		if strings.Contains(s, p) {
			return true
		}
	}
	return false
}

func newRoot(g *globals) *cobra.Command {
	root := &cobra.Command{
		Use:   "pipeline-runner",
		Short: "Run consume → transform → produce pipelines on Kafka",
		Long: "pipeline-runner runs the pipelines declared in pipelines.yaml: each reads a Kafka topic\n" +
			"through a consumer group, transforms JSON records and writes them to Kafka topics.",
		Example:           "  pipeline-runner run -c pipelines.yaml\n  pipeline-runner validate\n  pipeline-runner produce --topic orders '{\"amount\": 3}'",
		SilenceUsage:      true,
		SilenceErrors:     true,
		CompletionOptions: cobra.CompletionOptions{HiddenDefaultCmd: false},
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			g.configSet = cmd.Flags().Changed("config")
			g.configPath = g.configs.String()
			if len(g.configs.paths) > 1 && cmd.Name() != "validate" {
				return usageErr("-c/--config is given %d times; only validate takes several configs", len(g.configs.paths))
			}
			log, err := newLogger(g.logLevel, cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			g.log = log
			slog.SetDefault(log)
			return nil
		},
	}
	pf := root.PersistentFlags()
	pf.VarP(&g.configs, "config", "c", "config file (validate: repeatable, or a folder or glob)")
	pf.StringVar(&g.brokers, "brokers", "", "comma-separated brokers, overriding the config; \"embedded\" for the in-process broker")
	pf.StringVar(&g.logLevel, "log-level", "info", "debug, info, warn or error")
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return &exitError{exitUsage, err} })
	root.AddCommand(newRunCmd(g), newValidateCmd(g), newBrokerCmd(g), newProduceCmd(g), newConsumeCmd(g), newVersionCmd(), newTransformsCmd(g), newTestCmd(g), newReplayCmd(g), newOffsetsCmd(g), newTopicsCmd(g))
	root.AddCommand(newPauseCmd(g), newResumeCmd(g))
	return root
}

// loadConfig loads the config, or returns an exit-2 error with every problem.
func (g *globals) loadConfig() (*config.Config, error) {
	cfg, err := config.Load(g.configPath, config.Options{Registry: g.registry})
	if err != nil {
		return nil, err
	}
	return cfg, nil
}

// brokerOverride returns the --brokers list, or nil when not given.
func (g *globals) brokerOverride() []string {
	if g.brokers == "" {
		return nil
	}
	return config.SplitBrokers(g.brokers)
}

// clientKafka is where produce and consume connect, and how: --brokers,
// else the config's brokers (or its embedded broker's address), else the
// default embedded address, with the config's TLS and SASL. "embedded"
// means the embedded broker's address.
func (g *globals) clientKafka() (config.Kafka, error) {
	k := config.Kafka{ClientID: config.DefaultClientID, Embedded: config.Embedded{Listen: config.DefaultEmbeddedListen}}
	if _, err := os.Stat(g.configPath); err == nil || g.configSet {
		cfg, err := g.loadConfig()
		if err != nil {
			return k, err
		}
		k = cfg.Kafka
	}
	if o := g.brokerOverride(); o != nil {
		k.Brokers = config.NormalizeBrokers(o)
	}
	return k, nil
}

// client makes a client of the brokers of k, secured as k says, for a
// command: ctx is cancelled when TLS or SASL fails for good (the
// Security's Err then says why), or ctx ends.
func (g *globals) client(ctx context.Context, k config.Kafka, opts ...kgo.Opt) (context.Context, *kgo.Client, *kafka.Security, func(), error) {
	sec, err := kafka.SecurityFor(k, g.log)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	cl, err := kafka.NewClient(k.Addrs(), k.ClientID, sec, opts...)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	ctx, cancel := sec.CancelOnFailure(ctx)
	return ctx, cl, sec, func() { cancel(); cl.Close() }, nil
}
