package secure

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// kcat (librdkafka) is a second, independent client of the secured
// listeners. Debian's kcat is built on librdkafka 2.0.2, whose SCRAM
// exchange Kafka 4.x refuses, so it authenticates with PLAIN on SASL_SSL and
// with its certificate on SSL.

func needKcat(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("kcat")
	if err == nil {
		return path
	}
	if os.Getenv("MILLRACE_TEST_BROKERS") != "" {
		t.Fatal("kcat is required by the test command (apt-get install kcat)")
	}
	t.Skip("kcat is not installed; ./test/run.sh installs and requires it")
	return ""
}

// kcatSASLPlain returns kcat's connection arguments for the SASL_SSL
// listener with PLAIN.
func kcatSASLPlain(e *secureEnv) []string {
	return []string{"-b", e.SASLSSL,
		"-X", "security.protocol=SASL_SSL",
		"-X", "sasl.mechanisms=PLAIN",
		"-X", "sasl.username=" + e.Username,
		"-X", "sasl.password=" + e.Password,
		"-X", "ssl.ca.location=" + e.CAFile,
	}
}

// kcatMutualTLS returns kcat's connection arguments for the SSL listener
// with the client certificate.
func kcatMutualTLS(e *secureEnv) []string {
	return []string{"-b", e.SSL,
		"-X", "security.protocol=SSL",
		"-X", "ssl.ca.location=" + e.CAFile,
		"-X", "ssl.certificate.location=" + e.CertFile,
		"-X", "ssl.key.location=" + e.KeyFile,
	}
}

func kcatRun(t *testing.T, stdin string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, needKcat(t), args...)
	cmd.Stdin = strings.NewReader(stdin)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("kcat %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return string(out)
}

// kcatProduce writes key|value lines with a header through conn.
func kcatProduce(t *testing.T, conn []string, topic string, recs []*kgo.Record) {
	t.Helper()
	var lines strings.Builder
	for _, r := range recs {
		fmt.Fprintf(&lines, "%s|%s\n", r.Key, r.Value)
	}
	h := recs[0].Headers[0]
	args := append(append([]string{}, conn...), "-P", "-t", topic, "-K", "|", "-H", h.Key+"="+string(h.Value))
	kcatRun(t, lines.String(), args...)
}

// kcatConsume reads n records of topic through conn.
func kcatConsume(t *testing.T, conn []string, topic string, n int) []*kgo.Record {
	t.Helper()
	args := append(append([]string{}, conn...), "-C", "-t", topic, "-o", "beginning", "-c", fmt.Sprint(n), "-J", "-q")
	out := kcatRun(t, "", args...)
	var recs []*kgo.Record
	for line := range strings.SplitSeq(strings.TrimSpace(out), "\n") {
		var j struct {
			Headers []string `json:"headers"`
			Key     *string  `json:"key"`
			Payload *string  `json:"payload"`
		}
		if err := json.Unmarshal([]byte(line), &j); err != nil {
			t.Fatalf("kcat output %q: %v", line, err)
		}
		if j.Key == nil || j.Payload == nil {
			t.Fatalf("kcat record without key or value: %s", line)
		}
		r := &kgo.Record{Topic: topic, Key: []byte(*j.Key), Value: []byte(*j.Payload)}
		for i := 0; i+1 < len(j.Headers); i += 2 {
			r.Headers = append(r.Headers, kgo.RecordHeader{Key: j.Headers[i], Value: []byte(j.Headers[i+1])})
		}
		recs = append(recs, r)
	}
	if len(recs) != n {
		t.Fatalf("kcat read %d record(s), want %d", len(recs), n)
	}
	return recs
}

// kcat produces and consumes over SASL_SSL with PLAIN; franz-go reads the
// same records over the SSL listener.
func TestKcatSASLPlain(t *testing.T) {
	e := need(t)
	needKcat(t)
	topic := topicName(t)
	createTopic(t, saslSSL(t, e, "PLAIN", e.Username, e.Password), topic)
	want := sameHeader(testRecords(topic, 4))
	kcatProduce(t, kcatSASLPlain(e), topic, want)
	requireRecords(t, kcatConsume(t, kcatSASLPlain(e), topic, len(want)), want)
	requireRecords(t, consume(t, mutualTLS(t, e), topic, len(want)), want)
}

// kcat consumes what franz-go wrote with SCRAM-SHA-512, and produces, over
// the SSL listener with its client certificate.
func TestKcatMutualTLS(t *testing.T) {
	e := need(t)
	needKcat(t)
	topic := topicName(t)
	sasl := saslSSL(t, e, "SCRAM-SHA-512", e.Username, e.Password)
	createTopic(t, sasl, topic)
	want := sameHeader(testRecords(topic, 5))
	produce(t, sasl, want[:2]...)
	requireRecords(t, kcatConsume(t, kcatMutualTLS(e), topic, 2), want[:2])
	kcatProduce(t, kcatMutualTLS(e), topic, want[2:])
	requireRecords(t, kcatConsume(t, kcatMutualTLS(e), topic, len(want)), want)
}

// sameHeader gives every record the first one's header: kcat -P sets the
// same headers on all the records it writes.
func sameHeader(recs []*kgo.Record) []*kgo.Record {
	for _, r := range recs {
		r.Headers = recs[0].Headers
	}
	return recs
}
