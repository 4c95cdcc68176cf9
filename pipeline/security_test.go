package pipeline_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/millrace-dev/millrace/pipeline/config"
	"github.com/millrace-dev/millrace/pipeline/kafka"
	"github.com/millrace-dev/millrace/pipeline/kafka/securitytest"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
)

// securedKafka adds TLS and SCRAM to runnerYAML's kafka section.
const securedKafka = `, tls: {ca_file: ca.pem}, sasl: {mechanism: SCRAM-SHA-512, username: alice, password: '${PASSWORD}'}`

// securedRunner starts kfake over TLS with SCRAM-SHA-512 and loads
// runnerYAML for it with password as the password; it returns the config
// and a client of the test with the right password.
func securedRunner(t *testing.T, adapter, password string) (*config.Config, *kgo.Client) {
	t.Helper()
	c := securitytest.StartCluster(t, "right-password", kfake.AllowAutoTopicCreation(), kfake.DefaultNumPartitions(2))
	dir := t.TempDir()
	securitytest.WriteFile(t, dir, "ca.pem", c.CA.PEM)
	path := securitytest.WriteFile(t, dir, "p.yaml", fmt.Appendf(nil, runnerYAML, c.Addr, adapter, securedKafka))
	cfg, err := config.Load(path, config.Options{LookupEnv: func(string) (string, bool) { return password, true }})
	if err != nil {
		t.Fatal(err)
	}
	right := cfg.Kafka
	right.SASL.Password = config.NewSecret("right-password")
	sec, err := kafka.SecurityFor(right, nil)
	if err != nil {
		t.Fatal(err)
	}
	cl, err := kafka.NewClient([]string{c.Addr}, "test", sec, kgo.AllowAutoTopicCreation(), kgo.ConsumeTopics("out"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return cfg, cl
}

// The runner on either adapter over TLS with SCRAM: records go through,
// and the stop is clean.
func TestRunnerSecured(t *testing.T) {
	for _, adapter := range []string{"millrace", "watermill-kafka"} {
		t.Run(adapter, func(t *testing.T) {
			cfg, cl := securedRunner(t, adapter, "right-password")
			ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
			defer cancel()
			if err := cl.ProduceSync(ctx, &kgo.Record{Topic: "in", Key: []byte("a"), Value: []byte(`{"amount":1.5}`)}).FirstErr(); err != nil {
				t.Fatal(err)
			}
			ran, stop := startRun(t, ctx, cfg, slog.New(slog.DiscardHandler))
			var out *kgo.Record
			for out == nil && ctx.Err() == nil {
				cl.PollFetches(ctx).EachRecord(func(r *kgo.Record) { out = r })
			}
			if out == nil || string(out.Value) != `{"amount":1.5,"total_cents":150}` {
				t.Fatalf("output %v", out)
			}
			stop()
			if err := <-ran; err != nil {
				t.Errorf("Run = %v", err)
			}
		})
	}
}

// A wrong password ends Run at once with the *kafka.SecurityError, logged
// once; the password shows nowhere.
func TestRunnerSecurityFailure(t *testing.T) {
	for _, adapter := range []string{"millrace", "watermill-kafka"} {
		t.Run(adapter, func(t *testing.T) {
			cfg, _ := securedRunner(t, adapter, "wrong-canary-pw")
			logs := securitytest.NewLog(t)
			start := time.Now()
			ran, _ := startRun(t, t.Context(), cfg, logs.Logger)
			var err2 error
			select {
			case err2 = <-ran:
			case <-time.After(20 * time.Second):
				t.Fatal("Run did not give up")
			}
			var se *kafka.SecurityError
			if !errors.As(err2, &se) || !strings.Contains(se.Error(), "SCRAM-SHA-512") || !strings.HasPrefix(se.Error(), "broker "+cfg.Kafka.Brokers[0]+": ") {
				t.Fatalf("Run = %v, want a *kafka.SecurityError", err2)
			}
			if d := time.Since(start); d > 10*time.Second {
				t.Errorf("Run took %v", d)
			}
			text := logs.String() + err2.Error()
			if strings.Contains(text, "wrong-canary-pw") || strings.Contains(text, "right-password") {
				t.Errorf("the password shows:\n%s", text)
			}
			if n := strings.Count(logs.String(), "cannot connect to the brokers"); n > 1 {
				t.Errorf("the failure is logged %d times:\n%s", n, logs.String())
			}
		})
	}
}
