package e2e

import (
	"strings"
	"testing"
	"time"

	"github.com/millrace-dev/millrace/pipeline/engine"
	"github.com/twmb/franz-go/pkg/kgo"
)

// kafka.adapter: watermill-kafka runs the same engine under a Watermill
// router over Watermill's Sarama adapter: outputs are routed and
// transformed as on the default adapter, a record that fails goes to the
// dead-letter topic with the same headers, and a stop commits what was
// written.
func TestWatermillKafkaAdapter(t *testing.T) {
	eachBroker(t, func(t *testing.T, b broker) {
		tp := newTopics(t, b)
		produce(t, b,
			&kgo.Record{Topic: tp.in, Key: []byte("k1"), Value: order("1", 12.5, "FR"), Headers: []kgo.RecordHeader{{Key: "trace", Value: []byte("t-1")}}},
			&kgo.Record{Topic: tp.in, Key: []byte("k2"), Value: order("2", -3, "FR")},
			&kgo.Record{Topic: tp.in, Key: []byte("k3"), Value: order("3", 2, "DE")},
			&kgo.Record{Topic: tp.in, Key: []byte("k4"), Value: []byte(`{"amount":"ten"}`)},
		)
		cfg := strings.Replace(enrichConfig(b, tp, true), "  client_id: e2e\n", "  client_id: e2e\n  adapter: watermill-kafka\n", 1)
		path := writeConfig(t, cfg)
		r := startRunner(t, "-c", path)
		outs := readTopic(t, b, tp.out, 1, 60*time.Second)
		de := readTopic(t, b, tp.de, 1, 60*time.Second)
		dead := readTopic(t, b, tp.dlq, 1, 60*time.Second)
		if got := decodeValue(t, outs[0]); got["total_cents"] != 1250.0 || got["user_id"] != "u-1" || string(outs[0].Key) != "k1" {
			t.Errorf("output %s key %q", outs[0].Value, outs[0].Key)
		}
		if v, _ := header(outs[0], "trace"); v != "t-1" {
			t.Errorf("output lost its header: %v", outs[0].Headers)
		}
		if got := decodeValue(t, de[0]); got["id"] != "3" {
			t.Errorf("route output %s", de[0].Value)
		}
		if string(dead[0].Value) != `{"amount":"ten"}` || string(dead[0].Key) != "k4" {
			t.Errorf("dead letter %q key %q", dead[0].Value, dead[0].Key)
		}
		for k, want := range map[string]string{engine.HeaderStep: "filter", engine.HeaderPipeline: "enrich", engine.HeaderSourceTopic: tp.in, engine.HeaderAttempts: "1"} {
			if v, _ := header(dead[0], k); v != want {
				t.Errorf("dead letter %s = %q, want %q", k, v, want)
			}
		}
		if code := r.stop(30 * time.Second); code != 0 {
			t.Fatalf("exit code %d", code)
		}
		// The stop committed every input: none would be read again.
		var done int64
		for _, o := range committed(t, b, tp.in+"-group", tp.in) {
			done += o
		}
		if done != 4 {
			t.Errorf("committed offsets add up to %d, want all 4 inputs", done)
		}
	})
}
