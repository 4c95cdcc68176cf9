package e2e

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/millrace-dev/millrace/pipeline/kafka"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

var unsafeChars = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// topicName returns a topic name unique to this test run.
func topicName(t *testing.T, suffix string) string {
	base := unsafeChars.ReplaceAllString(t.Name(), "-")
	return fmt.Sprintf("%s-%06d-%s", strings.ToLower(base), rand.IntN(1_000_000), suffix)
}

// createTopics creates topics with the given partitions.
func createTopics(t *testing.T, b broker, partitions int32, topics ...string) {
	t.Helper()
	adm := admin(t, b)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	resp, err := adm.CreateTopics(ctx, partitions, 1, nil, topics...)
	if err != nil {
		t.Fatalf("create topics: %v", err)
	}
	for _, r := range resp {
		if r.Err != nil {
			t.Fatalf("create topic %s: %v", r.Topic, r.Err)
		}
	}
}

func client(t *testing.T, b broker, opts ...kgo.Opt) *kgo.Client {
	t.Helper()
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(b.Addr)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return cl
}

func admin(t *testing.T, b broker) *kadm.Client {
	return kadm.NewClient(client(t, b))
}

// produce writes records synchronously.
func produce(t *testing.T, b broker, recs ...*kgo.Record) {
	t.Helper()
	cl := client(t, b)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		t.Fatalf("produce: %v", err)
	}
}

// readTopic reads records from the start of topic until it has n of them or
// the timeout passes, then fails the test if fewer arrived.
func readTopic(t *testing.T, b broker, topic string, n int, timeout time.Duration) []*kgo.Record {
	t.Helper()
	recs := readUpTo(t, b, topic, n, timeout)
	if len(recs) < n {
		t.Fatalf("topic %s: want %d record(s), got %d within %s", topic, n, len(recs), timeout)
	}
	return recs
}

// readUpTo reads at most n records within timeout.
func readUpTo(t *testing.T, b broker, topic string, n int, timeout time.Duration) []*kgo.Record {
	t.Helper()
	cl := client(t, b, kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	var recs []*kgo.Record
	for len(recs) < n {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			break
		}
		fs.EachRecord(func(r *kgo.Record) { recs = append(recs, r) })
	}
	return recs
}

// endOffsets sums the end offsets of a topic's partitions.
func endOffsets(t *testing.T, b broker, topic string) map[int32]int64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	res, err := admin(t, b).ListEndOffsets(ctx, topic)
	if err != nil {
		t.Fatal(err)
	}
	out := map[int32]int64{}
	res.Each(func(o kadm.ListedOffset) { out[o.Partition] = o.Offset })
	return out
}

// committed returns a group's committed offsets for topic.
func committed(t *testing.T, b broker, group, topic string) map[int32]int64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	res, err := admin(t, b).FetchOffsets(ctx, group)
	if err != nil {
		t.Fatal(err)
	}
	out := map[int32]int64{}
	res.Each(func(o kadm.OffsetResponse) {
		if o.Topic == topic {
			out[o.Partition] = o.At
		}
	})
	return out
}

// writeConfig writes a config file into the test's temp dir.
func writeConfig(t *testing.T, text string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "pipelines.yaml")
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// runner is a pipeline-runner process.
type runner struct {
	t    *testing.T
	cmd  *exec.Cmd
	out  *syncBuffer
	done chan struct{}
	err  error
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// startRunner starts `pipeline-runner run` with args; the process is killed
// at the end of the test if still running.
func startRunner(t *testing.T, args ...string) *runner {
	t.Helper()
	r := &runner{t: t, out: &syncBuffer{}, done: make(chan struct{})}
	r.cmd = exec.Command(binary, append([]string{"run"}, args...)...)
	r.cmd.Stdout, r.cmd.Stderr = r.out, r.out
	r.cmd.Dir = t.TempDir()
	if err := r.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { r.err = r.cmd.Wait(); close(r.done) }()
	t.Cleanup(func() {
		select {
		case <-r.done:
		default:
			_ = r.cmd.Process.Kill()
			<-r.done
		}
		if t.Failed() {
			t.Logf("runner output:\n%s", r.out.String())
		}
	})
	return r
}

// stop sends SIGTERM and waits up to timeout; it returns the exit code.
func (r *runner) stop(timeout time.Duration) int {
	r.t.Helper()
	_ = r.cmd.Process.Signal(syscall.SIGTERM)
	return r.wait(timeout)
}

// wait waits for the process to exit and returns its exit code.
func (r *runner) wait(timeout time.Duration) int {
	r.t.Helper()
	select {
	case <-r.done:
	case <-time.After(timeout):
		r.t.Fatalf("runner did not exit within %s; output:\n%s", timeout, r.out.String())
	}
	var ee *exec.ExitError
	if errors.As(r.err, &ee) {
		return ee.ExitCode()
	}
	if r.err != nil {
		r.t.Fatalf("runner: %v", r.err)
	}
	return 0
}

// cli runs pipeline-runner with args and stdin, returning stdout, stderr and
// the exit code.
func cli(t *testing.T, stdin string, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Dir = t.TempDir()
	cmd.Stdin = strings.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return stdout.String(), stderr.String(), code
}

func header(r *kgo.Record, key string) (string, bool) {
	for _, h := range r.Headers {
		if h.Key == key {
			return string(h.Value), true
		}
	}
	return "", false
}

// orders returns n order records for topic with ids 0..n-1 and keys spread
// over keys values.
func orders(topic string, n, keys int) []*kgo.Record {
	recs := make([]*kgo.Record, n)
	for i := range n {
		recs[i] = &kgo.Record{Topic: topic, Key: []byte(strconv.Itoa(i % keys)), Value: order(strconv.Itoa(i), i+1, "FR")}
	}
	return recs
}

// requireAllIDs fails unless every id 0..n-1 is among the outputs.
func requireAllIDs(t *testing.T, outs []*kgo.Record, n int) {
	t.Helper()
	seen := make(map[string]bool, len(outs))
	for _, o := range outs {
		seen[decodeValue(t, o)["id"].(string)] = true
	}
	for i := range n {
		if !seen[strconv.Itoa(i)] {
			t.Fatalf("record %d lost", i)
		}
	}
}

// ownBroker is an embedded broker of one test, which the test may stop
// and start again on the same address and data.
type ownBroker struct {
	broker
	data string
	emb  *kafka.Embedded
}

// startOwnBroker starts an embedded broker on a free port; it is stopped
// when the test ends.
func startOwnBroker(t *testing.T) *ownBroker {
	t.Helper()
	o := &ownBroker{broker: broker{Name: "own-embedded", Addr: "127.0.0.1:" + strconv.Itoa(freePort(t))},
		data: filepath.Join(t.TempDir(), "broker")}
	o.start(t)
	t.Cleanup(o.stop)
	return o
}

func (o *ownBroker) start(t *testing.T) {
	t.Helper()
	emb, err := kafka.StartEmbedded(o.Addr, o.data, 3)
	if err != nil {
		t.Fatal(err)
	}
	o.emb = emb
}

func (o *ownBroker) stop() {
	if o.emb != nil {
		o.emb.Close()
		o.emb = nil
	}
}
