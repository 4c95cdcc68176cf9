// Package faults is Millrace's fault matrix: loops of crashes, clean
// stops, broker bounces, consumer churn, a throttled downstream, an
// unwritable dead-letter topic, outputs the broker refuses, a network
// partition and interrupted replays, each under load, against the real
// pipeline-runner binary and a real Apache Kafka broker of its own. The
// result of every scenario is checked by package verify, which is built on
// franz-go alone (TestIndependentVerifier checks that neither it nor this
// package imports Millrace).
//
// The scenarios run when MILLRACE_FAULTS is "short" (small record counts,
// a few minutes in all; ./test/run.sh sets it) or "long" (the full sizes:
// ./test/run.sh --faults-long); otherwise they are skipped. They start
// their own broker with test/kafka/kafka.sh, on ports of their own
// (MILLRACE_FAULTS_KAFKA_PORT, default 19192, and the next one for its
// controller) and a state directory of their own, because they kill and
// bounce it: the broker other packages' tests share is never touched.
//
// Each scenario prints one line of figures (missing, duplicates, skips,
// recovery seconds, peak RSS) and, with MILLRACE_FAULTS_REPORT set, adds
// it to that file as a row of a Markdown table (docs/faults.md is such a
// table).
package faults

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

var (
	mode     string // short or long; "" skips the scenarios
	binary   string // pipeline-runner, built for this run
	brokerOf *kafkaBroker
	netns    *namespace // nil when a network namespace cannot be made
	netnsWhy string     // why not
)

func TestMain(m *testing.M) { os.Exit(runMain(m)) }

func runMain(m *testing.M) int {
	mode = os.Getenv("MILLRACE_FAULTS")
	switch mode {
	case "":
		return m.Run() // every scenario skips, saying how to run them
	case "short", "long":
	default:
		fmt.Fprintf(os.Stderr, "MILLRACE_FAULTS=%q: use short or long\n", mode)
		return 2
	}
	dir, err := os.MkdirTemp("", "millrace-faults-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	// Not built with -race: the scenarios measure memory and recovery
	// times, which the race detector multiplies; the other packages run
	// the same code under it.
	binary = filepath.Join(dir, "pipeline-runner")
	build := exec.Command("go", "build", "-o", binary, "../../cmd/pipeline-runner")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build pipeline-runner:", err)
		return 1
	}
	netns, netnsWhy = newNamespace()
	if netns != nil {
		defer netns.remove()
	}
	port := 19192
	if p := os.Getenv("MILLRACE_FAULTS_KAFKA_PORT"); p != "" {
		if port, err = strconv.Atoi(p); err != nil {
			fmt.Fprintln(os.Stderr, "MILLRACE_FAULTS_KAFKA_PORT:", err)
			return 2
		}
	}
	brokerOf = &kafkaBroker{dir: filepath.Join(dir, "kafka"), port: port}
	if netns != nil {
		brokerOf.extra = fmt.Sprintf("NETNS://%s:%d", netns.hostIP, port+2)
		netns.brokerAddr = fmt.Sprintf("%s:%d", netns.hostIP, port+2)
	}
	if err := brokerOf.start(); err != nil {
		fmt.Fprintln(os.Stderr, "start the fault matrix's Kafka broker:", err)
		return 1
	}
	defer brokerOf.stop()
	code := m.Run()
	printResults()
	if code != 0 {
		brokerOf.logTail(os.Stderr, 60)
	}
	return code
}

// needFaults skips a scenario unless MILLRACE_FAULTS is set.
func needFaults(t *testing.T) {
	t.Helper()
	if mode == "" {
		t.Skip("the fault matrix runs with MILLRACE_FAULTS=short or long (./test/run.sh sets it; --faults-long for the full sizes)")
	}
}

// pick returns the short or the long size.
func pick[T any](short, long T) T {
	if mode == "long" {
		return long
	}
	return short
}

// bootstrap is the broker's loopback address.
func bootstrap() []string { return []string{brokerOf.addr()} }

func newClient(t *testing.T, opts ...kgo.Opt) *kgo.Client {
	t.Helper()
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(bootstrap()...)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return cl
}

// names returns topic and group names unique to this test and run.
func names(t *testing.T) (in, out, dlq, group string) {
	base := strings.ToLower(strings.NewReplacer("/", "-", "_", "-").Replace(t.Name()))
	base = fmt.Sprintf("%s-%d", base, time.Now().UnixNano()%1_000_000)
	return base + "-in", base + "-out", base + "-dlq", base + "-group"
}

func ctxFor(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}
