package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// An output the brokers can never take (larger than the producer's batch
// limit: MESSAGE_TOO_LARGE) is not retried. With a dead-letter topic the
// input goes there byte for byte, saying why, and the partition goes on;
// without one the pipeline stops at once with a clear error, the record
// uncommitted and the records before it committed, and the runner exits 1
// without a log line per retry.
func TestRefusedOutputIsNotRetried(t *testing.T) {
	eachBroker(t, func(t *testing.T, b broker) {
		for _, withDLQ := range []bool{true, false} {
			t.Run(fmt.Sprintf("dead_letter_topic=%v", withDLQ), func(t *testing.T) {
				in, out, dlq := topicName(t, "in"), topicName(t, "out"), topicName(t, "dlq")
				createTopics(t, b, 1, in, out, dlq)
				pad := strings.Repeat("x", 400_000) // three copies pass 1 MB
				big := []byte(`{"id":"b","big":true,"pad":"` + pad + `"}`)
				produce(t, b,
					&kgo.Record{Topic: in, Value: []byte(`{"id":"a"}`)},
					&kgo.Record{Topic: in, Value: big},
					&kgo.Record{Topic: in, Value: []byte(`{"id":"c"}`)},
				)
				errs := ""
				if withDLQ {
					errs = "      dead_letter_topic: " + dlq + "\n"
				}
				group := in + "-group"
				cfg := writeConfig(t, fmt.Sprintf(`version: 1
kafka:
  brokers: [%s]
runner:
  shutdown_timeout: 5s
admin:
  address: "off"
pipelines:
  - name: grow
    input: {topic: %s, group: %s, start: oldest, ordering: partition}
    transforms:
      - set: {pad2: pad, pad3: pad}
        when: 'big == true'
    output: {topic: %s}
    errors:
      retry: {max_retries: 2, initial_interval: 10ms, max_interval: 20ms}
%s`, b.Addr, in, group, out, errs))
				r := startRunner(t, "-c", cfg)
				if withDLQ {
					got := readTopic(t, b, out, 2, 60*time.Second)
					if string(got[0].Value) != `{"id":"a"}` || string(got[1].Value) != `{"id":"c"}` {
						t.Fatalf("outputs %s, %s; want a and c", got[0].Value, got[1].Value)
					}
					d := readTopic(t, b, dlq, 1, 60*time.Second)[0]
					if string(d.Value) != string(big) {
						t.Errorf("dead letter of %d bytes, want the input's %d unchanged", len(d.Value), len(big))
					}
					if step, _ := header(d, "millrace.error.step"); step != "publish" {
						t.Errorf("dead letter step %q", step)
					}
					if e, _ := header(d, "millrace.error"); !strings.Contains(e, "MESSAGE_TOO_LARGE") {
						t.Errorf("dead letter error %q", e)
					}
					waitCommitted(t, b, group, in, 30*time.Second)
					if code := r.stop(30 * time.Second); code != 0 {
						t.Fatalf("exit %d", code)
					}
					return
				}
				if code := r.wait(30 * time.Second); code != 1 {
					t.Fatalf("exit %d, want 1; output:\n%s", code, r.out.String())
				}
				log := r.out.String()
				if !strings.Contains(log, "pipeline grow stopped") || !strings.Contains(log, "offset 1 cannot be written") || !strings.Contains(log, "MESSAGE_TOO_LARGE") {
					t.Errorf("the log does not say why:\n%s", log)
				}
				if strings.Contains(log, "retries are spent") || strings.Count(log, "MESSAGE_TOO_LARGE") > 4 {
					t.Errorf("the refused output was retried:\n%s", log)
				}
				if c := committed(t, b, group, in); c[0] != 1 {
					t.Errorf("committed %v, want 1: up to the record that cannot be written", c)
				}
			})
		}
	})
}
