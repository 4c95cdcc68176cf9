package pipeline_test

import (
	"context"
	"fmt"
	"log/slog"
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
// pipeline stops with a clear error and the record stays uncommitted,
// without a log line per retry.
func TestRefusedOutput(t *testing.T) {
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.AllowAutoTopicCreation(), kfake.DefaultNumPartitions(1))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	addr := c.ListenAddrs()[0]
	yaml := fmt.Sprintf(`version: 1
kafka: {brokers: [%q], producer: {max_message_bytes: 4096}}
admin: {address: "off"}
runner: {shutdown_timeout: 5s}
pipelines:
  - name: grow
    input: {topic: in, start: oldest, ordering: partition}
    transforms:
      - set: {copy: 'text + text + text'}
    output: {topic: out}
    errors: {dead_letter_topic: dlq}
`, addr)
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
	// The record after it went on; the huge one stops the pipeline.
	var runErr error
	select {
	case runErr = <-ran:
	case <-time.After(30 * time.Second):
		t.Fatal("the pipeline did not stop on a record it cannot write nor dead-letter")
	}
	if runErr == nil || !strings.Contains(runErr.Error(), "pipeline grow stopped") || !strings.Contains(runErr.Error(), "offset 3") ||
		!strings.Contains(runErr.Error(), "its dead letter was refused by the brokers") {
		t.Errorf("Run = %v", runErr)
	}
	offs, err := kadm.NewClient(cl).FetchOffsets(ctx, "grow")
	if err != nil {
		t.Fatal(err)
	}
	if o, _ := offs.Lookup("in", 0); o.At != 3 {
		t.Errorf("committed %d, want 3: up to the record that cannot be written", o.At)
	}
	if n := strings.Count(logs.String(), "\n"); n > 20 {
		t.Errorf("%d log lines:\n%s", n, logs.String())
	}
}
