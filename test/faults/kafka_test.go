package faults

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// kafkaBroker is the fault matrix's own broker, run by test/kafka/kafka.sh
// with a state directory and ports of its own.
type kafkaBroker struct {
	dir   string // MILLRACE_KAFKA_DIR
	port  int    // PLAINTEXT; the controller is port+1
	extra string // KAFKA_EXTRA_LISTENER, "" for none
}

func (b *kafkaBroker) addr() string { return fmt.Sprintf("127.0.0.1:%d", b.port) }

func (b *kafkaBroker) script(args ...string) *exec.Cmd {
	cmd := exec.Command("../kafka/kafka.sh", args...)
	cmd.Env = append(os.Environ(),
		"MILLRACE_KAFKA_DIR="+b.dir,
		"KAFKA_PORT="+strconv.Itoa(b.port),
		"KAFKA_CONTROLLER_PORT="+strconv.Itoa(b.port+1),
		"KAFKA_SECURE=0",
		"KAFKA_EXTRA_LISTENER="+b.extra,
		// The shared cache of jars, not the state of the shared broker.
		"MILLRACE_CACHE="+cacheDir(),
	)
	return cmd
}

func cacheDir() string {
	if c := os.Getenv("MILLRACE_CACHE"); c != "" {
		return c
	}
	abs, _ := filepath.Abs("../../.cache")
	return abs
}

// start launches the broker on its data (formatting it the first time)
// and waits until it answers.
func (b *kafkaBroker) start() error {
	cmd := b.script("start")
	var errb strings.Builder
	cmd.Stderr = &errb
	if out, err := cmd.Output(); err != nil {
		return fmt.Errorf("kafka.sh start: %v\n%s%s", err, out, errb.String())
	}
	return nil
}

func (b *kafkaBroker) stop() {
	cmd := b.script("stop")
	cmd.Stderr = io.Discard
	_ = cmd.Run()
}

func (b *kafkaBroker) pid() (int, error) {
	raw, err := os.ReadFile(filepath.Join(b.dir, "kafka.pid"))
	if err != nil {
		return 0, err
	}
	return strconv.Atoi(strings.TrimSpace(string(raw)))
}

// kill9 kills the broker hard (SIGKILL: no controlled shutdown, no flush)
// and waits until the process is gone.
func (b *kafkaBroker) kill9() error {
	pid, err := b.pid()
	if err != nil {
		return err
	}
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		return err
	}
	for range 200 {
		if syscall.Kill(pid, 0) != nil {
			return nil
		}
		if st, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid)); err == nil {
			if f := strings.Fields(string(st)); len(f) > 2 && f[2] == "Z" {
				return nil
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("broker pid %d still alive after SIGKILL", pid)
}

func (b *kafkaBroker) logTail(w io.Writer, n int) {
	raw, err := os.ReadFile(filepath.Join(b.dir, "logs", "server.log"))
	if err != nil {
		return
	}
	lines := strings.Split(strings.TrimRight(string(raw), "\n"), "\n")
	fmt.Fprintf(w, "----- last %d lines of the fault matrix's broker log -----\n", n)
	for _, l := range lines[max(0, len(lines)-n):] {
		fmt.Fprintln(w, l)
	}
}

// serverLog is the broker's log since offset (the size it had then).
func (b *kafkaBroker) serverLog(offset int64) string {
	raw, err := os.ReadFile(filepath.Join(b.dir, "logs", "server.log"))
	if err != nil || int64(len(raw)) < offset {
		return ""
	}
	return string(raw[offset:])
}

func (b *kafkaBroker) serverLogSize() int64 {
	st, err := os.Stat(filepath.Join(b.dir, "logs", "server.log"))
	if err != nil {
		return 0
	}
	return st.Size()
}

func adminClient(t *testing.T) *kadm.Client {
	return kadm.NewClient(newClient(t))
}

// createTopics creates topics with the given partitions and configs.
func createTopics(t *testing.T, partitions int32, configs map[string]*string, topics ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	resp, err := adminClient(t).CreateTopics(ctx, partitions, 1, configs, topics...)
	if err != nil {
		t.Fatalf("create topics: %v", err)
	}
	for _, r := range resp {
		if r.Err != nil {
			t.Fatalf("create topic %s: %v", r.Topic, r.Err)
		}
	}
}

// setTopicConfig sets one config of a topic.
func setTopicConfig(t *testing.T, topic, key, value string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	resp, err := adminClient(t).AlterTopicConfigs(ctx, []kadm.AlterConfig{{Op: kadm.SetConfig, Name: key, Value: &value}}, topic)
	if err == nil {
		err = resp[0].Err
	}
	if err != nil {
		t.Fatalf("set %s=%s on %s: %v", key, value, topic, err)
	}
}

// offsetsOf returns a group's committed offsets of topic (-1: none).
func offsetsOf(ctx context.Context, adm *kadm.Client, group, topic string, partitions int32) (map[int32]int64, error) {
	res, err := adm.FetchOffsets(ctx, group)
	if err != nil {
		return nil, err
	}
	out := map[int32]int64{}
	for p := range partitions {
		out[p] = -1
		if o, ok := res.Lookup(topic, p); ok && o.Err == nil {
			out[p] = o.At
		}
	}
	return out, nil
}

func endsOf(ctx context.Context, adm *kadm.Client, topic string) (map[int32]int64, error) {
	res, err := adm.ListEndOffsets(ctx, topic)
	if err != nil {
		return nil, err
	}
	if err := res.Error(); err != nil {
		return nil, err
	}
	out := map[int32]int64{}
	res.Each(func(o kadm.ListedOffset) { out[o.Partition] = o.Offset })
	return out, nil
}

// lagOf is a group's total lag on topic: end offsets minus committed
// offsets (a partition without a commit counts from 0), -1 when the
// broker does not answer.
func lagOf(ctx context.Context, adm *kadm.Client, group, topic string, partitions int32) int64 {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	ends, err := endsOf(ctx, adm, topic)
	if err != nil {
		return -1
	}
	comm, err := offsetsOf(ctx, adm, group, topic, partitions)
	if err != nil {
		return -1
	}
	var lag int64
	for p, e := range ends {
		lag += e - max(0, comm[p])
	}
	return lag
}

// waitLag waits until the group's lag on topic is 0 and returns how long
// that took, failing the test after timeout.
func waitLag(t *testing.T, group, topic string, partitions int32, timeout time.Duration) time.Duration {
	t.Helper()
	adm := adminClient(t)
	start := time.Now()
	last := int64(-1)
	for time.Since(start) < timeout {
		if last = lagOf(context.Background(), adm, group, topic, partitions); last == 0 {
			return time.Since(start)
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("group %s: lag on %s still %d after %s", group, topic, last, timeout)
	return 0
}

// committedTotal is the sum of a group's committed offsets.
func committedTotal(ctx context.Context, adm *kadm.Client, group, topic string, partitions int32) int64 {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	c, err := offsetsOf(ctx, adm, group, topic, partitions)
	if err != nil {
		return -1
	}
	var n int64
	for _, o := range c {
		n += max(0, o)
	}
	return n
}

// setProducerQuota sets (rate > 0) or removes (rate 0) a producer byte
// rate quota for a client id.
func setProducerQuota(t *testing.T, clientID string, rate float64) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	op := kadm.AlterClientQuotaOp{Key: "producer_byte_rate", Value: rate}
	if rate == 0 {
		op = kadm.AlterClientQuotaOp{Key: "producer_byte_rate", Remove: true}
	}
	resp, err := adminClient(t).AlterClientQuotas(ctx, []kadm.AlterClientQuotaEntry{{
		Entity: kadm.ClientQuotaEntity{{Type: "client-id", Name: &clientID}},
		Ops:    []kadm.AlterClientQuotaOp{op},
	}})
	if err == nil {
		for _, r := range resp {
			if r.Err != nil {
				err = r.Err
			}
		}
	}
	if err != nil {
		t.Fatalf("producer quota %v on client id %s: %v", rate, clientID, err)
	}
}

var _ = kgo.SeedBrokers
