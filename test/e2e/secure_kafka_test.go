package e2e

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// secured reads the secured listeners of the test Apache Kafka broker
// (test/kafka/kafka.sh secure-env, exported by test/run.sh); without them
// the test skips (test/secure fails the run when they are missing).
func secured(t *testing.T) map[string]string {
	t.Helper()
	env := map[string]string{}
	for _, k := range []string{"SASL_SSL", "SSL", "CA_FILE", "CERT_FILE", "KEY_FILE", "UNTRUSTED_CA_FILE", "EXPIRED_CERT_FILE", "EXPIRED_KEY_FILE",
		"SASL_USERNAME", "SASL_PASSWORD", "SASL_PASSWORD_FILE", "SCRAM512_USERNAME", "SCRAM512_PASSWORD"} {
		v := os.Getenv("MILLRACE_TEST_KAFKA_" + k)
		if v == "" {
			t.Skip("the secured listeners of test/kafka are not set (MILLRACE_TEST_KAFKA_*; ./test/run.sh sets them)")
		}
		env[k] = v
	}
	return env
}

// kafkaSecuredConfig is a pipeline over a secured listener: kafka is the YAML
// of the kafka section's tls and sasl keys.
func kafkaSecuredConfig(addr, kafka, in, out, dlq string) string {
	return fmt.Sprintf(`version: 1
kafka:
  brokers: [%s]
  client_id: e2e-secure
%s
runner: {shutdown_timeout: 20s}
admin: {address: "off"}
pipelines:
  - name: enrich
    input: {topic: %s, group: %s-group, start: oldest}
    transforms:
      - filter: 'amount > 0'
      - set: {total_cents: 'int(amount * 100)'}
    output: {topic: %s}
    errors: {dead_letter_topic: %s}
`, addr, kafka, in, in, out, dlq)
}

// Over Apache Kafka's SASL_SSL listener (SCRAM-SHA-512, a password file)
// a pipeline runs and commits, and produce, consume, offsets and replay
// work; kcat writes into the pipeline with PLAIN over SASL_SSL and reads
// its outputs over the mutual-TLS listener; over that listener Millrace
// reads with its client certificate; wrong credentials and an untrusted CA
// end a command with exit 1 and one error naming the broker.
func TestSecuredKafka(t *testing.T) {
	env := secured(t)
	in, out, dlq, again := topicName(t, "in"), topicName(t, "out"), topicName(t, "dlq"), topicName(t, "again")
	scram := fmt.Sprintf("  tls: {ca_file: %q}\n  sasl: {mechanism: SCRAM-SHA-512, username: %s, password_file: %q}",
		env["CA_FILE"], env["SASL_USERNAME"], env["SASL_PASSWORD_FILE"])
	cfg := writeConfig(t, kafkaSecuredConfig(env["SASL_SSL"], scram, in, out, dlq))

	r := startRunner(t, "-c", cfg)
	var lines []string
	for i := range 4 {
		lines = append(lines, fmt.Sprintf(`{"id":"s%d","amount":%d}`, i, i))
	}
	if stdout, stderr, code := cliWithin(t, strings.Join(lines, "\n")+"\n", "-c", cfg, "produce", "--topic", in, "--key-field", "id"); code != 0 {
		t.Fatalf("produce: exit %d\n%s%s", code, stdout, stderr)
	}
	kcatRun(t, `{"id":"k1","amount":7}`+"\n", "-b", env["SASL_SSL"], "-X", "security.protocol=SASL_SSL", "-X", "sasl.mechanisms=PLAIN",
		"-X", "sasl.username="+env["SASL_USERNAME"], "-X", "sasl.password="+env["SASL_PASSWORD"], "-X", "ssl.ca.location="+env["CA_FILE"],
		"-P", "-t", in, "-k", "k1")
	// amount 0 is filtered: 3 of produce's 4 and kcat's 1.
	stdout, stderr, code := cliWithin(t, "", "-c", cfg, "consume", "--topic", out, "--from", "oldest", "--max", "4", "--json")
	if code != 0 {
		t.Fatalf("consume: exit %d\n%s", code, stderr)
	}
	ids := map[string]bool{}
	for _, l := range strings.Split(strings.TrimSpace(stdout), "\n") {
		var rec struct{ Value string }
		if err := json.Unmarshal([]byte(l), &rec); err != nil {
			t.Fatalf("consume --json line %q: %v", l, err)
		}
		var v struct{ ID string }
		_ = json.Unmarshal([]byte(rec.Value), &v)
		ids[v.ID] = true
	}
	if len(ids) != 4 || !ids["k1"] || ids["s0"] {
		t.Errorf("outputs %v, want s1, s2, s3 and k1", ids)
	}
	if code := r.stop(30 * time.Second); code != 0 {
		t.Fatalf("run over SASL_SSL: exit %d\n%s", code, r.out.String())
	}
	// The stop committed every input: offsets, over SASL_SSL, shows no lag.
	stdout, stderr, code = cliWithin(t, "", "-c", cfg, "offsets", "enrich", "--json")
	var view struct {
		Topic  string
		Totals struct{ Records, Lag int64 }
	}
	if err := json.Unmarshal([]byte(stdout), &view); code != 0 || err != nil || view.Topic != in || view.Totals.Records != 5 || view.Totals.Lag != 0 {
		t.Errorf("offsets: exit %d, %+v (%v), want 5 records and no lag\n%s%s", code, view, err, stdout, stderr)
	}
	if _, stderr, code := cliWithin(t, "", "-c", cfg, "replay", "enrich", "--from", "oldest", "--to-topic", again, "--json"); code != 0 {
		t.Errorf("replay: exit %d\n%s", code, stderr)
	}

	// kcat reads the outputs over the mutual-TLS listener.
	got := kcatRun(t, "", "-b", env["SSL"], "-X", "security.protocol=SSL", "-X", "ssl.ca.location="+env["CA_FILE"],
		"-X", "ssl.certificate.location="+env["CERT_FILE"], "-X", "ssl.key.location="+env["KEY_FILE"],
		"-C", "-t", again, "-o", "beginning", "-e", "-q", "-f", "%s\n")
	if n := strings.Count(got, "total_cents"); n != 4 {
		t.Errorf("kcat over SSL read %d replayed outputs, want 4:\n%s", n, got)
	}
	// Millrace over the mutual-TLS listener with its client certificate.
	mtls := fmt.Sprintf("  tls: {ca_file: %q, cert_file: %q, key_file: %q}", env["CA_FILE"], env["CERT_FILE"], env["KEY_FILE"])
	mcfg := writeConfig(t, kafkaSecuredConfig(env["SSL"], mtls, in, out, dlq))
	if stdout, stderr, code := cliWithin(t, "", "-c", mcfg, "consume", "--topic", again, "--from", "oldest", "--max", "4"); code != 0 || strings.Count(stdout, "total_cents") != 4 {
		t.Errorf("consume over mutual TLS: exit %d\n%s%s", code, stdout, stderr)
	}

	// Failures: one clear error, exit 1, the secret never shown.
	wrong := fmt.Sprintf("  tls: {ca_file: %q}\n  sasl: {mechanism: SCRAM-SHA-512, username: %s, password: not-the-password}", env["CA_FILE"], env["SASL_USERNAME"])
	untrusted := fmt.Sprintf("  tls: {ca_file: %q}\n  sasl: {mechanism: SCRAM-SHA-512, username: %s, password_file: %q}",
		env["UNTRUSTED_CA_FILE"], env["SASL_USERNAME"], env["SASL_PASSWORD_FILE"])
	noCert := fmt.Sprintf("  tls: {ca_file: %q}", env["CA_FILE"])
	expired := fmt.Sprintf("  tls: {ca_file: %q, cert_file: %q, key_file: %q}", env["CA_FILE"], env["EXPIRED_CERT_FILE"], env["EXPIRED_KEY_FILE"])
	otherName := fmt.Sprintf("  tls: {ca_file: %q, cert_file: %q, key_file: %q, server_name: kafka.invalid}", env["CA_FILE"], env["CERT_FILE"], env["KEY_FILE"])
	for name, c := range map[string]struct{ addr, kafka, want string }{
		"wrong password":        {env["SASL_SSL"], wrong, "authentication"},
		"untrusted CA":          {env["SASL_SSL"], untrusted, "certificate"},
		"no client certificate": {env["SSL"], noCert, "certificate"},
		"expired certificate":   {env["SSL"], expired, "certificate"},
		"name mismatch":         {env["SSL"], otherName, "kafka.invalid"},
	} {
		bad := writeConfig(t, kafkaSecuredConfig(c.addr, c.kafka, in, out, dlq))
		stdout, stderr, code := cliWithin(t, "", "-c", bad, "consume", "--topic", out, "--from", "oldest", "--max", "1")
		msg := stdout + stderr
		if code != 1 || !strings.Contains(msg, c.addr) || !strings.Contains(strings.ToLower(msg), c.want) {
			t.Errorf("%s: exit %d, want 1 and an error naming %s and %q:\n%s", name, code, c.addr, c.want, msg)
		}
		if strings.Contains(msg, env["SASL_PASSWORD"]) || strings.Contains(msg, "not-the-password") {
			t.Errorf("%s: the password shows:\n%s", name, msg)
		}
	}
}

// OAUTHBEARER over SASL_SSL: Millrace takes a token from the test's token
// endpoint (client credentials) and Kafka's unsecured JWT validator
// accepts it; a refused token request ends the command with exit 1 and
// never shows the client secret.
func TestSecuredKafkaOAuthBearer(t *testing.T) {
	env := secured(t)
	const secret = "oauth-canary-secret-77e1"
	var issued atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, sec, ok := r.BasicAuth()
		if !ok {
			_ = r.ParseForm()
			id, sec = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
		}
		if r.FormValue("grant_type") != "client_credentials" || id != "millrace" || sec != secret {
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = io.WriteString(w, `{"error":"invalid_client"}`)
			return
		}
		issued.Add(1)
		now := time.Now().Unix()
		enc := base64.RawURLEncoding.EncodeToString
		jwt := enc([]byte(`{"alg":"none"}`)) + "." + enc(fmt.Appendf(nil, `{"sub":"millrace","iat":%d,"exp":%d}`, now, now+3600)) + "."
		w.Header().Set("Content-Type", "application/json")
		_, _ = fmt.Fprintf(w, `{"access_token":%q,"token_type":"Bearer","expires_in":3600}`, jwt)
	}))
	defer srv.Close()
	topic := topicName(t, "oauth")
	oauth := func(sec string) string {
		return fmt.Sprintf("  tls: {ca_file: %q}\n  sasl: {mechanism: OAUTHBEARER, token_endpoint: %q, client_id: millrace, client_secret: %q}",
			env["CA_FILE"], srv.URL+"/token", sec)
	}
	cfg := writeConfig(t, kafkaSecuredConfig(env["SASL_SSL"], oauth(secret), topic, topic+"-out", topic+"-dlq"))
	if stdout, stderr, code := cliWithin(t, `{"id":"o1","amount":1}`+"\n", "-c", cfg, "produce", "--topic", topic); code != 0 {
		t.Fatalf("produce over OAUTHBEARER: exit %d\n%s%s", code, stdout, stderr)
	}
	stdout, stderr, code := cliWithin(t, "", "-c", cfg, "consume", "--topic", topic, "--from", "oldest", "--max", "1")
	if code != 0 || !strings.Contains(stdout, `"o1"`) {
		t.Fatalf("consume over OAUTHBEARER: exit %d\n%s%s", code, stdout, stderr)
	}
	if issued.Load() == 0 {
		t.Error("no token was fetched from the token endpoint")
	}
	bad := writeConfig(t, kafkaSecuredConfig(env["SASL_SSL"], oauth("wrong-secret"), topic, topic+"-out", topic+"-dlq"))
	stdout, stderr, code = cliWithin(t, "", "-c", bad, "consume", "--topic", topic, "--from", "oldest", "--max", "1")
	if msg := stdout + stderr; code != 1 || strings.Contains(msg, "wrong-secret") || strings.Contains(msg, secret) {
		t.Errorf("refused token request: exit %d, want 1 without the secret:\n%s", code, msg)
	}
}

// cliWithin is cli bounded in time: a command that waits for records that
// never come (consume --max) fails the test instead of hanging it.
func cliWithin(t *testing.T, stdin string, args ...string) (string, string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, args...)
	cmd.Dir = t.TempDir()
	cmd.Stdin = strings.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("pipeline-runner %s did not end within 2m\n%s%s", strings.Join(args, " "), stdout.String(), stderr.String())
	}
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return stdout.String(), stderr.String(), code
}
