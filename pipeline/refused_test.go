package pipeline_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/millrace-dev/millrace/pipeline/config"
	"github.com/millrace-dev/millrace/pipeline/engine"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
)

// An output the producer can never write (larger than
// kafka.producer.max_message_bytes: MESSAGE_TOO_LARGE) is not retried: the
// input goes to the dead-letter topic, byte for byte, saying why, and the
// partition goes on. When the dead letter is too large as well, the
// partition stalls at the record, which stays uncommitted, with a clear
// error and without a log line per retry; the runner goes on.
func TestRefusedOutput(t *testing.T) {
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.AllowAutoTopicCreation(), kfake.DefaultNumPartitions(1))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	addr := c.ListenAddrs()[0]
	admin := freeAddr(t)
	yaml := fmt.Sprintf(`version: 1
kafka: {brokers: [%q], producer: {max_message_bytes: 4096}}
admin: {address: %q}
runner: {shutdown_timeout: 5s}
pipelines:
  - name: grow
    input: {topic: in, start: oldest, ordering: partition}
    transforms:
      - set: {copy: 'text + text + text'}
    output: {topic: out}
    errors: {dead_letter_topic: dlq}
`, addr, admin)
	cfg, err := config.Parse("p.yaml", []byte(yaml), config.Options{})
	if err != nil {
		t.Fatal(err)
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.AllowAutoTopicCreation(), kgo.ConsumeTopics("out", "dlq"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	record := func(n int) []byte { return []byte(`{"text":"` + strings.Repeat("x", n) + `"}`) }
	big := record(2000)  // its output (about 8 kB) is refused; it fits as a dead letter
	huge := record(5000) // neither its output nor its dead letter fits
	for _, v := range [][]byte{record(10), big, record(20), huge, record(30)} {
		if err := cl.ProduceSync(ctx, &kgo.Record{Topic: "in", Value: v}).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	var logs syncBuffer
	ran, stop := startRun(t, ctx, cfg, slog.New(slog.NewJSONHandler(&logs, nil)))
	defer stop()
	got := map[string][]*kgo.Record{}
	for len(got["out"]) < 2 || len(got["dlq"]) < 1 {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("outputs %d, dead letters %d before the timeout", len(got["out"]), len(got["dlq"]))
		}
		fs.EachRecord(func(r *kgo.Record) { got[r.Topic] = append(got[r.Topic], r) })
	}
	d := got["dlq"][0]
	if string(d.Value) != string(big) {
		t.Errorf("dead letter of %d bytes, want the input's %d bytes unchanged", len(d.Value), len(big))
	}
	if step, msg := headerOf(d, engine.HeaderStep), headerOf(d, engine.HeaderError); step != "publish" || !strings.Contains(msg, "MESSAGE_TOO_LARGE") {
		t.Errorf("dead letter step %q, error %q", step, msg)
	}
	// The record after it went on; the huge one stalls its partition:
	// the runner goes on, the record stays uncommitted and the one after
	// it waits; the stall is logged once.
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(logs.String(), "partition stalled") {
		if time.Now().After(deadline) {
			t.Fatalf("no stall logged:\n%s", logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(time.Second)
	select {
	case err := <-ran:
		t.Fatalf("Run returned %v; a refused dead letter stalls its partition only", err)
	default:
	}
	offs, err := kadm.NewClient(cl).FetchOffsets(ctx, "grow")
	if err != nil {
		t.Fatal(err)
	}
	if o, _ := offs.Lookup("in", 0); o.At != 3 {
		t.Errorf("committed %d, want 3: up to the record that cannot be written", o.At)
	}
	if !strings.Contains(logs.String(), "offset 3") || !strings.Contains(logs.String(), "its dead letter to dlq was refused by the brokers") {
		t.Errorf("the log does not say why:\n%s", logs.String())
	}
	// The admin server says so too: /readyz 503 naming the record and the
	// cause, and the stalled partition in the metrics.
	code, ready := get(t, "http://"+admin+"/readyz")
	if code != http.StatusServiceUnavailable || !strings.Contains(ready, `"state": "partition stalled"`) ||
		!strings.Contains(ready, "offset 3") || !strings.Contains(ready, "MESSAGE_TOO_LARGE") {
		t.Errorf("/readyz %d: %s", code, ready)
	}
	if _, metrics := get(t, "http://"+admin+"/metrics"); !strings.Contains(metrics, `millrace_partitions_stalled{pipeline="grow"} 1`) ||
		!strings.Contains(metrics, `millrace_pipeline_ready{pipeline="grow"} 0`) {
		t.Errorf("metrics do not show the stall")
	}
	stop()
	if err := <-ran; err != nil {
		t.Errorf("Run = %v after a stop; the stalled record stays uncommitted for the next runner", err)
	}
	if n := strings.Count(logs.String(), "\n"); n > 20 {
		t.Errorf("%d log lines:\n%s", n, logs.String())
	}
}

// freeAddr is a local address with a port free a moment ago.
func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// get returns the status and body of a GET of url.
func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(body)
}
