package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/millrace-dev/millrace/examples/custom-transform/currency"
	"github.com/millrace-dev/millrace/pipeline"
	"github.com/millrace-dev/millrace/pipeline/cli"
	"github.com/millrace-dev/millrace/pipeline/config"
	"github.com/millrace-dev/millrace/pipeline/kafka"
	"github.com/millrace-dev/millrace/transforms"
	"github.com/twmb/franz-go/pkg/kgo"
)

func registry() *transforms.Registry {
	reg := transforms.Default.Clone()
	reg.Register(currency.Spec, currency.New)
	return reg
}

// The config's own tests pass through the embedded CLI.
func TestConfigTests(t *testing.T) {
	if code := cli.Main([]string{"test", "-c", "pipelines.yaml"}, cli.Options{Registry: registry(), Stdout: io.Discard}); code != 0 {
		t.Fatalf("pipeline-runner test: exit %d", code)
	}
}

// End to end on the embedded broker: the runner, embedded in a Go program,
// converts the amounts of real Kafka records.
func TestEndToEndOnEmbeddedBroker(t *testing.T) {
	emb, err := kafka.StartEmbedded("127.0.0.1:0", "", 3)
	if err != nil {
		t.Fatal(err)
	}
	defer emb.Close()
	env := map[string]string{"MILLRACE_BROKERS": emb.Addr()}
	cfg, err := config.Load("pipelines.yaml", config.Options{Registry: registry(), LookupEnv: func(k string) (string, bool) {
		v, ok := env[k]
		return v, ok
	}})
	if err != nil {
		t.Fatal(err)
	}
	r, err := pipeline.New(cfg, pipeline.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()

	cl, err := kgo.NewClient(kgo.SeedBrokers(emb.Addr()), kgo.ConsumeTopics("orders-eur"), kgo.AllowAutoTopicCreation())
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	pctx, pcancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer pcancel()
	if err := cl.ProduceSync(pctx,
		&kgo.Record{Topic: "orders", Key: []byte("o-1"), Value: []byte(`{"id":"o-1","amount":100,"currency":"GBP"}`)},
		&kgo.Record{Topic: "orders", Key: []byte("o-2"), Value: []byte(`{"id":"o-2","amount":-5,"currency":"USD"}`)},
		&kgo.Record{Topic: "orders", Key: []byte("o-3"), Value: []byte(`{"id":"o-3","amount":50,"currency":"USD"}`)},
	).FirstErr(); err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for len(got) < 2 && pctx.Err() == nil {
		cl.PollFetches(pctx).EachRecord(func(rec *kgo.Record) {
			var v struct {
				AmountEUR float64 `json:"amount_eur"`
			}
			if err := json.Unmarshal(rec.Value, &v); err != nil {
				t.Errorf("output %s: %v", rec.Value, err)
			}
			got[string(rec.Key)] = v.AmountEUR
		})
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("runner: %v", err)
	}
	if got["o-1"] != 117 || got["o-3"] != 46 || len(got) != 2 {
		t.Errorf("converted amounts: %v", got)
	}
}
