package pipeline_test

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/millrace-dev/millrace/pipeline"
	"github.com/millrace-dev/millrace/pipeline/config"
	"github.com/millrace-dev/millrace/pipeline/engine"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
)

const runnerYAML = `version: 1
kafka: {brokers: [%q], adapter: %s%s}
admin: {address: "off"}
runner: {shutdown_timeout: 10s}
pipelines:
  - name: enrich
    input: {topic: in, start: oldest}
    transforms:
      - filter: 'amount > 0'
      - set: {total_cents: 'int(amount * 100)'}
    output: {topic: out}
    errors: {dead_letter_topic: dlq}
  - name: strict
    input: {topic: in2, start: oldest}
    output: {topic: out2}
`

// A runner runs every pipeline of its config until its context ends, on
// either adapter: outputs and dead letters are written, a pipeline without
// a dead-letter topic stops on a bad record (the others go on) and Run
// reports it, and the stop commits what was done.
func TestRunnerRun(t *testing.T) {
	for _, adapter := range []string{"millrace", "watermill-kafka"} {
		t.Run(adapter, func(t *testing.T) {
			addr, cfg, cl := runnerCluster(t, adapter)
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			recs := []*kgo.Record{
				{Topic: "in", Key: []byte("a"), Value: []byte(`{"amount":1.5}`)},
				{Topic: "in", Key: []byte("b"), Value: []byte(`{"amount":0}`)},
				{Topic: "in", Key: []byte("c"), Value: []byte(`not json`)},
				{Topic: "in2", Key: []byte("d"), Value: []byte(`[]`)},
			}
			if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
				t.Fatal(err)
			}
			var logs syncBuffer
			ran, stop := startRun(t, ctx, cfg, slog.New(slog.NewJSONHandler(&logs, nil)))
			got := map[string][]*kgo.Record{}
			reader, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.ConsumeTopics("out", "dlq"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
			if err != nil {
				t.Fatal(err)
			}
			defer reader.Close()
			for len(got["out"]) < 1 || len(got["dlq"]) < 1 {
				fs := reader.PollFetches(ctx)
				if ctx.Err() != nil {
					t.Fatalf("outputs %d, dead letters %d before the timeout", len(got["out"]), len(got["dlq"]))
				}
				fs.EachRecord(func(r *kgo.Record) { got[r.Topic] = append(got[r.Topic], r) })
			}
			if o := got["out"][0]; string(o.Value) != `{"amount":1.5,"total_cents":150}` || string(o.Key) != "a" {
				t.Errorf("output %s key %q", o.Value, o.Key)
			}
			if d := got["dlq"][0]; string(d.Value) != "not json" {
				t.Errorf("dead letter %s", d.Value)
			} else if step := headerOf(d, engine.HeaderStep); step != "decode" {
				t.Errorf("dead letter step %q", step)
			}
			// The strict pipeline stops on its own record, whenever it gets
			// to it; then the run is stopped.
			for !strings.Contains(logs.String(), `"pipeline":"strict"`) || !strings.Contains(logs.String(), "pipeline stopped") {
				if ctx.Err() != nil {
					t.Fatalf("the strict pipeline did not stop on its bad record:\n%s", logs.String())
				}
				time.Sleep(10 * time.Millisecond)
			}
			stop()
			select {
			case err := <-ran:
				if err == nil || !strings.Contains(err.Error(), "pipeline strict stopped") {
					t.Errorf("Run = %v, want the strict pipeline's stop", err)
				}
			case <-time.After(30 * time.Second):
				t.Fatal("Run did not return after its context ended")
			}
			offs, err := kadm.NewClient(cl).FetchOffsets(ctx, "enrich")
			if err != nil {
				t.Fatal(err)
			}
			var done int64
			offs.Each(func(o kadm.OffsetResponse) {
				if o.Topic == "in" {
					done += o.At
				}
			})
			if done != 3 {
				t.Errorf("enrich committed %d of its 3 inputs", done)
			}
		})
	}
}

// runnerCluster starts a kfake cluster of one broker (two partitions per
// topic) and returns its address, runnerYAML on it with adapter, and a
// client of it; both are closed when t ends.
func runnerCluster(t *testing.T, adapter string) (string, *config.Config, *kgo.Client) {
	t.Helper()
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.AllowAutoTopicCreation(), kfake.DefaultNumPartitions(2))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	addr := c.ListenAddrs()[0]
	cfg, err := config.Parse("p.yaml", []byte(fmt.Sprintf(runnerYAML, addr, adapter, "")), config.Options{})
	if err != nil {
		t.Fatal(err)
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.AllowAutoTopicCreation())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return addr, cfg, cl
}

// startRun runs a runner of cfg until stop is called or ctx ends; ran
// yields what Run returned.
func startRun(t *testing.T, ctx context.Context, cfg *config.Config, log *slog.Logger) (ran <-chan error, stop func()) {
	t.Helper()
	r, err := pipeline.New(cfg, pipeline.Options{Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	runCtx, stop := context.WithCancel(ctx)
	t.Cleanup(stop)
	done := make(chan error, 1)
	go func() { done <- r.Run(runCtx) }()
	return done, stop
}

func headerOf(r *kgo.Record, key string) string {
	for _, h := range r.Headers {
		if h.Key == key {
			return string(h.Value)
		}
	}
	return ""
}

// A stop while the runner is still starting (creating topics on brokers
// that do not answer yet) is a clean stop, not a failure.
func TestStopWhileStarting(t *testing.T) {
	// A broker that takes connections and never answers.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	cfg, err := config.Parse("p.yaml", []byte(fmt.Sprintf(`version: 1
kafka: {brokers: [%q]}
admin: {address: "off"}
pipelines:
  - name: p
    input: {topic: in}
    output: {topic: out}
`, ln.Addr().String())), config.Options{})
	if err != nil {
		t.Fatal(err)
	}
	r, err := pipeline.New(cfg, pipeline.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run = %v, want nil for a stop while starting", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Run did not return after its context ended")
	}
}
