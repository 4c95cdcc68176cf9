// Package e2e runs pipeline-runner as a process against real brokers over
// TCP: the embedded Kafka-protocol broker and, when the test command starts
// it, Apache Kafka. Brokers come from MILLRACE_TEST_BROKERS
// ("name=host:port,..."); without it the tests start an embedded broker of
// their own. A broker that is named but cannot be reached fails the tests.
package e2e

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/millrace-dev/millrace/pipeline/kafka"
	"github.com/twmb/franz-go/pkg/kgo"
)

// broker is one broker the tests run against.
type broker struct {
	Name string
	Addr string
}

var (
	testBrokers []broker
	binary      string // the pipeline-runner built for this run
)

func TestMain(m *testing.M) {
	os.Exit(runMain(m))
}

func runMain(m *testing.M) int {
	dir, err := os.MkdirTemp("", "millrace-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	binary = filepath.Join(dir, "pipeline-runner")
	build := exec.Command("go", "build", "-race", "-o", binary, "../../cmd/pipeline-runner")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build pipeline-runner:", err)
		return 1
	}
	spec := os.Getenv("MILLRACE_TEST_BROKERS")
	if spec == "" {
		emb, err := kafka.StartEmbedded("127.0.0.1:0", "", 3)
		if err != nil {
			fmt.Fprintln(os.Stderr, "start embedded broker:", err)
			return 1
		}
		defer emb.Close()
		spec = "embedded=" + emb.Addr()
	}
	for _, part := range strings.Split(spec, ",") {
		name, addr, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok || name == "" || addr == "" {
			fmt.Fprintf(os.Stderr, "MILLRACE_TEST_BROKERS: %q is not name=host:port\n", part)
			return 1
		}
		if err := ping(addr); err != nil {
			fmt.Fprintf(os.Stderr, "broker %s at %s was asked for but cannot be reached: %v\n", name, addr, err)
			return 1
		}
		testBrokers = append(testBrokers, broker{Name: name, Addr: addr})
	}
	return m.Run()
}

// ping checks that a broker answers a metadata request.
func ping(addr string) error {
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr))
	if err != nil {
		return err
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	return cl.Ping(ctx)
}

// eachBroker runs f as a subtest per broker.
func eachBroker(t *testing.T, f func(t *testing.T, b broker)) {
	t.Helper()
	for _, b := range testBrokers {
		t.Run(b.Name, func(t *testing.T) { f(t, b) })
	}
}
