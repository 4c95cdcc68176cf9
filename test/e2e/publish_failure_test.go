package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// A produce that fails for good (here an output larger than the producer's
// batch limit) is retried with the pipeline's backoff, then the record is
// handed out again: it is never acked, so the committed offset stays before
// it, while the records around it are written. A stop leaves it
// uncommitted.
func TestFailedPublishIsRetriedNotSkipped(t *testing.T) {
	eachBroker(t, func(t *testing.T, b broker) {
		in, out := topicName(t, "in"), topicName(t, "out")
		createTopics(t, b, 1, in, out)
		pad := strings.Repeat("x", 400_000) // three copies pass 1 MB
		produce(t, b,
			&kgo.Record{Topic: in, Value: []byte(`{"id":"a"}`)},
			&kgo.Record{Topic: in, Value: []byte(`{"id":"b","big":true,"pad":"` + pad + `"}`)},
			&kgo.Record{Topic: in, Value: []byte(`{"id":"c"}`)},
		)
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
    input: {topic: %s, group: %s, start: oldest, ordering: none}
    transforms:
      - set: {pad2: pad, pad3: pad}
        when: 'big == true'
    output: {topic: %s}
    errors:
      retry: {max_retries: 2, initial_interval: 10ms, max_interval: 20ms}
`, b.Addr, in, group, out))
		r := startRunner(t, "-c", cfg)
		got := readTopic(t, b, out, 2, 60*time.Second)
		ids := map[string]bool{}
		for _, rec := range got {
			ids[string(rec.Value)[:10]] = true
		}
		if !ids[`{"id":"a"}`] || !ids[`{"id":"c"}`] {
			t.Fatalf("outputs %v, want a and c", ids)
		}
		// The record comes back after its retries, again and again.
		deadline := time.Now().Add(30 * time.Second)
		for strings.Count(r.out.String(), "retries are spent") < 2 {
			if time.Now().After(deadline) {
				t.Fatalf("the failed record was not handed out again; output:\n%s", r.out.String())
			}
			time.Sleep(100 * time.Millisecond)
		}
		if c := committed(t, b, group, in); c[0] != 1 {
			t.Fatalf("committed %v while offset 1 is not written, want 1", c)
		}
		if code := r.stop(30 * time.Second); code != 0 {
			t.Fatalf("exit %d", code)
		}
		if c := committed(t, b, group, in); c[0] != 1 {
			t.Errorf("after the stop, committed %v, want 1", c)
		}
		// max_retries: 2 is three attempts before the record is handed back.
		for _, line := range strings.Split(r.out.String(), "\n") {
			if strings.Contains(line, "retries are spent") && !strings.Contains(line, `"attempts":3`) {
				t.Errorf("want 3 attempts: %s", line)
			}
		}
	})
}
