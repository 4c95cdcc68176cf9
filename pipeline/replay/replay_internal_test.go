package replay

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/millrace-dev/millrace/pipeline/config"
	"github.com/millrace-dev/millrace/pipeline/engine"
	"github.com/millrace-dev/millrace/pipeline/kafka"
	"github.com/millrace-dev/millrace/transforms"
)

func TestCheckpointSaveLoad(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "checkpoints") // created by save
	t0 := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	mk := func(pipeline string, at time.Time) *Checkpoint {
		return &Checkpoint{Version: checkpointVersion, ID: newID(at), Pipeline: pipeline, Mode: ModeReplay, Topic: "in", CreatedAt: at,
			Partitions: []CheckpointPartition{{Partition: 0, Start: 5, End: 10, Next: 5}, {Partition: 1, Start: 0, End: 0, Next: 0}}}
	}
	old, latest, other := mk("a", t0), mk("a", t0.Add(time.Hour)), mk("a-b", t0.Add(2*time.Hour))
	for _, c := range []*Checkpoint{old, latest, other} {
		if _, err := c.save(dir); err != nil {
			t.Fatal(err)
		}
	}
	latest.update([]kafka.Progress{{Partition: 0, Next: 8}}, t0)
	if latest.Complete {
		t.Error("complete before the end")
	}
	if _, err := latest.save(dir); err != nil {
		t.Fatal(err)
	}
	got, path, err := loadCheckpoint(dir, "a", "")
	if err != nil || got.ID != latest.ID || got.Partitions[0].Next != 8 || path != CheckpointPath(dir, "a", latest.ID) {
		t.Fatalf("latest: %+v %s %v", got, path, err)
	}
	if rs := got.ranges(); !slices.Equal(rs, []kafka.Range{{Partition: 0, Start: 8, End: 10}, {Partition: 1, Start: 0, End: 0}}) {
		t.Errorf("ranges left: %v", rs)
	}
	if got, _, err := loadCheckpoint(dir, "a", old.ID); err != nil || got.ID != old.ID {
		t.Errorf("by id: %+v %v", got, err)
	}
	var nc *NoCheckpointError
	if _, _, err := loadCheckpoint(dir, "a", "nope"); !errors.As(err, &nc) || !strings.Contains(err.Error(), old.ID) {
		t.Errorf("unknown id: %v", err)
	}
	if _, _, err := loadCheckpoint(dir, "zzz", ""); !errors.As(err, &nc) {
		t.Errorf("no checkpoint: %v", err)
	}
	latest.update([]kafka.Progress{{Partition: 0, Next: 10}, {Partition: 0, Next: 9}}, t0)
	if !latest.Complete || latest.Partitions[0].Next != 10 {
		t.Errorf("positions never move back, and the end completes: %+v", latest)
	}
	files, _ := os.ReadDir(dir)
	for _, f := range files {
		if strings.HasSuffix(f.Name(), ".tmp") {
			t.Errorf("temporary file left: %s", f.Name())
		}
	}
	if st, err := os.Stat(filepath.Join(dir, "a-"+old.ID+".json")); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("checkpoint file: %v %v, want mode 0600", st, err)
	}
	if st, err := os.Stat(dir); err != nil || st.Mode().Perm() != 0o700 {
		t.Errorf("checkpoint dir: %v %v, want mode 0700", st, err)
	}
}

// Settled records are counted by their typed input partition: outputs by
// topic, written inputs, dead letters; a record not done is not counted.
func TestCounts(t *testing.T) {
	c := newCounts()
	in := func(part int32) *engine.Record { return &engine.Record{Topic: "in", Partition: part} }
	out := func(topic string) *engine.Record { return &engine.Record{Topic: topic} }
	c.add(in(0), engine.Result{Done: true, Outputs: []*engine.Record{out("scratch"), out("scratch")}})
	c.add(in(1), engine.Result{Done: true, Outputs: []*engine.Record{out("scratch")}})
	c.add(in(1), engine.Result{Done: true, Dead: true, Outputs: []*engine.Record{out("orders-dlq")}})
	c.add(in(1), engine.Result{Done: true}) // filtered
	c.add(in(2), engine.Result{Err: errors.New("produce failed")})
	byTopic, parts := c.snapshot()
	if byTopic["scratch"] != 3 || len(byTopic) != 1 {
		t.Errorf("by topic %v", byTopic)
	}
	if parts[0] != (partitionCounts{outputs: 2, written: 1}) || parts[1] != (partitionCounts{outputs: 1, written: 1, deadLettered: 1}) || len(parts) != 2 {
		t.Errorf("by partition %+v", parts)
	}
}

// deadLetter is a dead letter as the consumer hands it out.
func deadLetter() *engine.Record {
	return &engine.Record{
		Topic: "orders-dlq", Partition: 1, Offset: 7, Key: []byte("k"), Value: []byte(`{"amount":"ten"}`), Timestamp: time.UnixMilli(1_700_000_000_000),
		Headers: transforms.Headers{
			{Key: "trace", Value: []byte("t-1")},
			{Key: engine.HeaderError, Value: []byte("invalid operation: string > int")},
			{Key: engine.HeaderStep, Value: []byte("filter")},
			{Key: engine.HeaderPipeline, Value: []byte("enrich")},
			{Key: engine.HeaderSourceTopic, Value: []byte("orders")},
			{Key: engine.HeaderSourcePartition, Value: []byte("2")},
			{Key: engine.HeaderSourceOffset, Value: []byte("41")},
			{Key: engine.HeaderAttempts, Value: []byte("3")},
			{Key: engine.HeaderFailedAt, Value: []byte("2024-05-01T12:00:00Z")},
			{Key: "reason_poisoned", Value: []byte("x")},
			{Key: "handler_poisoned", Value: []byte("enrich")},
		},
	}
}

// A dead letter is restored as first read: original key, value, timestamp,
// headers and coordinates; its attempt count carries on.
func TestRestore(t *testing.T) {
	rec := deadLetter()
	restore(rec)
	var hs []string
	for _, h := range rec.Headers {
		hs = append(hs, h.Key+"="+string(h.Value))
	}
	if strings.Join(hs, ",") != "trace=t-1" {
		t.Errorf("headers %v, want only the original ones", hs)
	}
	if o := rec.Origin; o == nil || o.Topic != "orders" || o.Partition != 2 || o.Offset != 41 {
		t.Errorf("origin %+v, want orders/2/41", rec.Origin)
	}
	if rec.Attempts != 3 || string(rec.Key) != "k" || rec.Timestamp.UnixMilli() != 1_700_000_000_000 {
		t.Errorf("attempts %d key %q timestamp %v", rec.Attempts, rec.Key, rec.Timestamp)
	}
	if rec.Topic != "orders-dlq" || rec.Partition != 1 || rec.Offset != 7 || string(rec.Value) != `{"amount":"ten"}` {
		t.Errorf("position %s/%d/%d value %s: want the dead letter's own", rec.Topic, rec.Partition, rec.Offset, rec.Value)
	}
}

func TestFilters(t *testing.T) {
	since := time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC) // the failure was at 12:00
	later := since.Add(24 * time.Hour)
	before := time.UnixMilli(1_700_000_000_000 - 1) // the record's timestamp is 1_700_000_000_000
	for _, c := range []struct {
		f    filters
		skip bool
	}{
		{filters{pipeline: "enrich"}, false},
		{filters{pipeline: "other"}, true},
		{filters{errorContains: "string > int"}, false},
		{filters{errorContains: "decode"}, true},
		{filters{since: &since}, false},
		{filters{since: &later}, true},
		{filters{fromTime: &before}, false},
		{filters{toTime: &before}, true},
		{filters{fromTime: &since}, true},
		{filters{toTime: &since}, false},
	} {
		if got := c.f.skip(deadLetter()); got != c.skip {
			t.Errorf("%+v: skip %v, want %v", c.f, got, c.skip)
		}
	}
}

const previewConfig = `version: 1
pipelines:
  - name: p
    input: {topic: in}
    transforms:
      - filter: 'amount > 0'
      - set: {total_cents: 'int(amount * 100)', customer.tier: '"gold"'}
      - rename: {user: user_id}
      - drop: [debug]
    output:
      topic: out
      routes:
        - {when: 'country == "DE"', topic: out-de}
`

func TestPreview(t *testing.T) {
	cfg, err := config.Parse("p.yaml", []byte(previewConfig), config.Options{})
	if err != nil {
		t.Fatal(err)
	}
	parts, err := cfg.Build(cfg.Pipelines[0], config.BuildOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer parts.Close()
	v := &previewer{p: cfg.Pipelines[0], parts: parts, max: 2}
	mk := func(off int, value string) *engine.Record {
		return &engine.Record{Topic: "in", Partition: 0, Offset: int64(off), Key: []byte("k"), Value: []byte(value)}
	}
	v.take(mk(0, `{"amount":2,"user":"u","debug":true,"country":"DE","customer":{"id":1}}`))
	v.take(mk(1, `{"amount":0}`))
	v.take(mk(2, `{"amount":5}`)) // over the limit
	ps := v.previews()
	if len(ps) != 2 {
		t.Fatalf("%d previews", len(ps))
	}
	var b strings.Builder
	WritePreviews(&b, ps)
	text := b.String()
	for _, want := range []string{
		"record partition 0 offset 0, key \"k\"",
		"step 0 filter: unchanged",
		"+ customer.tier: \"gold\"",
		"+ total_cents: 200",
		"- user: \"u\"",
		"+ user_id: \"u\"",
		"step 3 drop: - debug: true",
		"→ out-de key \"k\" {",
		"record partition 0 offset 1",
		"step 0 filter: dropped",
		"→ filtered: no output",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("preview lacks %q:\n%s", want, text)
		}
	}
	v = &previewer{p: cfg.Pipelines[0], parts: parts, max: 1, toTopic: "scratch"}
	v.take(mk(3, `{"amount":"x"}`))
	v.take(mk(4, `{"amount":1}`))
	ps = v.previews()
	if len(ps) != 1 || !strings.Contains(ps[0].DeadLetter, "invalid operation") || ps[0].Steps[0].Error == "" {
		t.Errorf("failing record: %+v", ps)
	}
	v = &previewer{p: cfg.Pipelines[0], parts: parts, max: 2, toTopic: "scratch"}
	v.take(mk(5, `not json`))
	v.take(mk(6, `{"amount":1}`))
	ps = v.previews()
	if !strings.HasPrefix(ps[0].DeadLetter, "decode:") || len(ps[1].Outputs) != 1 || ps[1].Outputs[0].Topic != "scratch" {
		t.Errorf("previews: %+v", ps)
	}
}
