package e2e

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/millrace-dev/millrace/pipeline/config"
	"github.com/millrace-dev/millrace/pipeline/kafka"
	"github.com/millrace-dev/millrace/pipeline/kafka/securitytest"
	"github.com/millrace-dev/millrace/pipeline/observe"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
)

// The runner and the CLI against a broker that takes only TLS with
// SCRAM-SHA-512 (kfake in this process, its certificate made by the
// test). The password is a canary, given as ${KAFKA_PASSWORD}: no text
// the runner or the CLI writes, and no page of the admin server, contains
// it. A wrong password, or a CA the client does not trust, makes run and
// the CLI commands exit 1 at once with one error naming the broker and
// the cause.

const canaryPassword = "canary-e2e-Pa55w0rd-41c9"

type securedBroker = *securitytest.Cluster

func startSecuredBroker(t *testing.T) securedBroker {
	return securitytest.StartCluster(t, canaryPassword, kfake.DefaultNumPartitions(2))
}

// securedConfig is a pipeline on the secured broker; tls is the kafka.tls
// mapping.
func securedConfig(b securedBroker, tls, in, out string) string {
	return fmt.Sprintf(`version: 1
kafka:
  brokers: [%s]
  client_id: e2e-secured
  tls: %s
  sasl:
    mechanism: SCRAM-SHA-512
    username: alice
    password: ${KAFKA_PASSWORD}
runner:
  shutdown_timeout: 10s
admin:
  address: 127.0.0.1:0
  poll_interval: 1s
pipelines:
  - name: secured
    input: {topic: %s, start: oldest}
    transforms:
      - set: {seen: 'true'}
    output: {topic: %s}
`, b.Addr, tls, in, out)
}

// securedClient is a client of the test, secured as the config says.
func securedClient(t *testing.T, b securedBroker, opts ...kgo.Opt) *kgo.Client {
	t.Helper()
	sec, err := kafka.SecurityFor(config.Kafka{Brokers: []string{b.Addr},
		TLS:  config.TLS{Enabled: true, CA: b.CA.PEM, MinVersion: "1.2"},
		SASL: config.SASL{Mechanism: config.MechanismScram512, Username: "alice", Password: config.NewSecret(canaryPassword)}}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	cl, err := kafka.NewClient([]string{b.Addr}, "e2e-test", sec, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return cl
}

func noCanary(t *testing.T, what, text string) {
	t.Helper()
	if strings.Contains(text, canaryPassword) {
		t.Errorf("%s shows the password:\n%s", what, text)
	}
}

func TestSecuredRunnerAndCLI(t *testing.T) {
	b := startSecuredBroker(t)
	in, out := topicName(t, "in"), topicName(t, "out")
	cfg := writeConfig(t, securedConfig(b, "{ca_file: "+b.CAFile+"}", in, out))
	t.Setenv("KAFKA_PASSWORD", canaryPassword)

	stdout, stderr, code := cli(t, "", "validate", "-c", cfg)
	if code != 0 {
		t.Fatalf("validate: %d\n%s%s", code, stdout, stderr)
	}
	noCanary(t, "validate", stdout+stderr)

	r, base := startObserved(t, cfg, "--log-level", "debug")
	const n = 10
	var recs []*kgo.Record
	for i := range n {
		recs = append(recs, &kgo.Record{Topic: in, Key: fmt.Appendf(nil, "k%d", i), Value: order(fmt.Sprint(i), i+1, "FR")})
	}
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	pc := securedClient(t, b, kgo.AllowAutoTopicCreation())
	if err := pc.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
	cc := securedClient(t, b, kgo.ConsumeTopics(out), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	got := 0
	for got < n && ctx.Err() == nil {
		fs := cc.PollFetches(ctx)
		got += len(fs.Records())
	}
	if got < n {
		t.Fatalf("%d of %d outputs over TLS and SCRAM; runner:\n%s", got, n, r.out.String())
	}
	waitMetric(t, base, 30*time.Second, "the pipeline ready", func(m metrics) bool {
		return m.value(observe.MetricPipelineReady, "pipeline", "secured") == 1
	})
	for _, page := range []string{"/", "/api/status", "/metrics", "/readyz", "/healthz"} {
		code, body := get(t, base+page)
		if code != http.StatusOK {
			t.Errorf("%s: %d\n%s", page, code, body)
		}
		noCanary(t, page, string(body))
	}

	stdout, stderr, code = cli(t, "", "produce", "-c", cfg, "--topic", in, `{"id":"cli","amount":1}`)
	if code != 0 {
		t.Errorf("produce: %d\n%s", code, stderr)
	}
	noCanary(t, "produce", stdout+stderr)
	stdout, stderr, code = cli(t, "", "consume", "-c", cfg, "--topic", in, "--max", "3", "--timeout", "30s")
	if code != 0 || strings.Count(stdout, "\n") != 3 {
		t.Errorf("consume: %d\n%s%s", code, stdout, stderr)
	}
	noCanary(t, "consume", stdout+stderr)
	stdout, stderr, code = cli(t, "", "offsets", "-c", cfg, "secured")
	if code != 0 || !strings.Contains(stdout, in) {
		t.Errorf("offsets: %d\n%s%s", code, stdout, stderr)
	}
	noCanary(t, "offsets", stdout+stderr)
	stdout, stderr, code = cli(t, "", "replay", "-c", cfg, "secured", "--dry-run")
	if code != 0 {
		t.Errorf("replay --dry-run: %d\n%s%s", code, stdout, stderr)
	}
	noCanary(t, "replay", stdout+stderr)

	if code := r.stop(30 * time.Second); code != 0 {
		t.Errorf("runner exited %d", code)
	}
	logs := r.out.String()
	noCanary(t, "the runner's log", logs)
	if !strings.Contains(logs, `"sasl":"SCRAM-SHA-512"`) {
		t.Errorf("the log does not say how the runner connects:\n%s", logs)
	}
}

// A refused password and an untrusted CA: run exits 1 within its
// shutdown timeout, with one error naming the broker and the cause; so do
// the CLI commands. Neither the wrong nor the right password shows.
func TestSecuredFailures(t *testing.T) {
	b := startSecuredBroker(t)
	in, out := topicName(t, "in"), topicName(t, "out")
	const wrong = "wrong-canary-7e1d"
	for _, c := range []struct {
		name, tls, password, cause string
	}{
		{"wrong password", "{ca_file: " + b.CAFile + "}", wrong, "SASL SCRAM-SHA-512 authentication"},
		{"untrusted ca", "{}", canaryPassword, "signed by an unknown authority"},
		{"other ca", "{ca_file: " + securitytest.WriteFile(t, t.TempDir(), "other.pem", securitytest.NewCA(t, "other").PEM) + "}", canaryPassword, "signed by an unknown authority"},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg := writeConfig(t, securedConfig(b, c.tls, in, out))
			t.Setenv("KAFKA_PASSWORD", c.password)
			check := func(what, text string) {
				t.Helper()
				if !strings.Contains(text, "broker "+b.Addr+": ") || !strings.Contains(text, c.cause) {
					t.Errorf("%s: no error naming broker %s and %q:\n%s", what, b.Addr, c.cause, text)
				}
				noCanary(t, what, text)
				if strings.Contains(text, wrong) {
					t.Errorf("%s shows the wrong password:\n%s", what, text)
				}
			}
			start := time.Now()
			r := startRunner(t, "-c", cfg)
			if code := r.wait(30 * time.Second); code != 1 {
				t.Errorf("run exited %d, want 1", code)
			}
			if d := time.Since(start); d > 20*time.Second {
				t.Errorf("run took %v to give up", d)
			}
			check("run", r.out.String())
			if n := strings.Count(r.out.String(), c.cause); n > 3 {
				t.Errorf("the cause is told %d times:\n%s", n, r.out.String())
			}
			for _, args := range [][]string{
				{"produce", "-c", cfg, "--topic", in, `{"a":1}`},
				{"consume", "-c", cfg, "--topic", in, "--max", "1", "--timeout", "20s"},
				{"offsets", "-c", cfg, "secured"},
				{"replay", "-c", cfg, "secured", "--dry-run"},
			} {
				start := time.Now()
				stdout, stderr, code := cli(t, "", args...)
				if code != 1 || time.Since(start) > 15*time.Second {
					t.Errorf("%s: exit %d after %v, want 1 at once\n%s%s", args[0], code, time.Since(start), stdout, stderr)
				}
				check(args[0], stdout+stderr)
			}
		})
	}
}

// A password written in the config itself is hidden as one from the
// environment is: validate's errors do not show it.
func TestSecuredLiteralPassword(t *testing.T) {
	cfg := writeConfig(t, `version: 1
kafka:
  brokers: [b1.example.com:9092]
  sasl:
    mechanism: PLAIN
    username: alice
    password: `+canaryPassword+`
    pasword: `+canaryPassword+`
pipelines:
  - name: p
    input: {topic: in}
    output: {topic: out}
`)
	stdout, stderr, code := cli(t, "", "validate", "-c", filepath.Clean(cfg))
	if code != 2 || !strings.Contains(stderr, "without TLS") || !strings.Contains(stderr, `unknown key "pasword"`) {
		t.Errorf("validate: %d\n%s%s", code, stdout, stderr)
	}
	noCanary(t, "validate", stdout+stderr)
}
