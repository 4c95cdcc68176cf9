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

// crashedRun writes 4 records to "in" and leaves group "crashy" as a
// runner that died 3 times with the record at offset 1 in flight leaves
// it (its commit metadata counts the starts there), then starts the
// runner with errors (a YAML mapping).
func crashedRun(t *testing.T, ctx context.Context, errs string) (*kgo.Client, <-chan error, func()) {
	t.Helper()
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.AllowAutoTopicCreation(), kfake.DefaultNumPartitions(1))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	addr := c.ListenAddrs()[0]
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.AllowAutoTopicCreation(), kgo.ConsumeTopics("out", "dlq"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	for i := range 4 {
		if err := cl.ProduceSync(ctx, &kgo.Record{Topic: "in", Value: fmt.Appendf(nil, `{"i":%d}`, i)}).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	var os kadm.Offsets
	os.Add(kadm.Offset{Topic: "in", Partition: 0, At: 1, LeaderEpoch: -1, Metadata: "millrace:crashes=3"})
	if err := kadm.NewClient(cl).CommitAllOffsets(ctx, "crashy", os); err != nil {
		t.Fatal(err)
	}
	yaml := fmt.Sprintf(`version: 1
kafka: {brokers: [%q]}
admin: {address: "off"}
runner: {shutdown_timeout: 5s}
pipelines:
  - name: crashy
    input: {topic: in, start: oldest}
    transforms:
      - set: {seen: 'true'}
    output: {topic: out}
    errors: %s
`, addr, errs)
	cfg, err := config.Parse("p.yaml", []byte(yaml), config.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ran, stop := startRun(t, ctx, cfg, slog.New(slog.DiscardHandler))
	return cl, ran, stop
}

// A record the runner died with input.max_crashes times (default 3) goes
// to the dead-letter topic on the next start, unprocessed, with step
// crash; the records after it are processed.
func TestCrashedRecordIsDeadLettered(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cl, _, stop := crashedRun(t, ctx, "{dead_letter_topic: dlq}")
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
	if string(d.Value) != `{"i":1}` {
		t.Errorf("dead letter %q, want the input unprocessed", d.Value)
	}
	if step, msg := headerOf(d, engine.HeaderStep), headerOf(d, engine.HeaderError); step != "crash" || msg != "the runner died 3 times in a row while this record was in flight" {
		t.Errorf("dead letter step %q, error %q", step, msg)
	}
	for _, o := range got["out"] {
		if strings.Contains(string(o.Value), `"i":1`) {
			t.Errorf("the crashed record was processed: %s", o.Value)
		}
	}
}

// Without a dead-letter topic the pipeline stops with the record
// uncommitted.
func TestCrashedRecordWithoutDeadLetterTopicStops(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cl, ran, stop := crashedRun(t, ctx, "{}")
	defer stop()
	var runErr error
	select {
	case runErr = <-ran:
	case <-time.After(30 * time.Second):
		t.Fatal("the pipeline did not stop on a record it died with")
	}
	if runErr == nil || !strings.Contains(runErr.Error(), "pipeline crashy stopped") || !strings.Contains(runErr.Error(), "died 3 times") {
		t.Errorf("Run = %v", runErr)
	}
	offs, err := kadm.NewClient(cl).FetchOffsets(ctx, "crashy")
	if err != nil {
		t.Fatal(err)
	}
	if o, _ := offs.Lookup("in", 0); o.At != 1 {
		t.Errorf("committed %d, want 1: the record stays uncommitted", o.At)
	}
}
