package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// topics lists topics with partitions, records and end offsets; topics
// describe shows each partition's offsets and the groups reading it.
func TestTopicsListAndDescribe(t *testing.T) {
	eachBroker(t, func(t *testing.T, b broker) {
		topic := topicName(t, "t")
		createTopics(t, b, 2, topic)
		var recs []*kgo.Record
		for i, p := range []int32{0, 0, 0, 1} {
			recs = append(recs, &kgo.Record{Topic: topic, Partition: p, Value: fmt.Appendf(nil, `{"i":%d}`, i)})
		}
		cl := client(t, b, kgo.RecordPartitioner(kgo.ManualPartitioner()))
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
			t.Fatal(err)
		}
		group := topic + "-g"
		commitOffsets(t, b, group, topic, map[int32]int64{0: 2})

		stdout, stderr, code := cli(t, "", "topics", "--brokers", b.Addr, "--json")
		if code != 0 {
			t.Fatalf("topics --json: exit %d: %s", code, stderr)
		}
		var list []struct {
			Topic      string  `json:"topic"`
			Partitions int     `json:"partitions"`
			Records    int64   `json:"records"`
			EndOffsets []int64 `json:"end_offsets"`
		}
		if err := json.Unmarshal([]byte(stdout), &list); err != nil {
			t.Fatalf("topics --json printed %q: %v", stdout, err)
		}
		found := false
		for _, l := range list {
			if l.Topic == topic {
				found = true
				if l.Partitions != 2 || l.Records != 4 || fmt.Sprint(l.EndOffsets) != "[3 1]" {
					t.Errorf("topics --json: %+v, want 2 partitions, 4 records, end offsets [3 1]", l)
				}
			}
			if strings.HasPrefix(l.Topic, "__") {
				t.Errorf("topics lists the internal topic %s", l.Topic)
			}
		}
		if !found {
			t.Errorf("topics --json lacks %s:\n%s", topic, stdout)
		}
		stdout, _, _ = cli(t, "", "topics", "--brokers", b.Addr)
		if !regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(topic) + `\s+2\s+4\s+0:3 1:1$`).MatchString(stdout) {
			t.Errorf("topics lacks the line of %s:\n%s", topic, stdout)
		}

		stdout, stderr, code = cli(t, "", "topics", "describe", topic, "--brokers", b.Addr, "--json")
		if code != 0 {
			t.Fatalf("topics describe --json: exit %d: %s", code, stderr)
		}
		var d struct {
			Records    int64 `json:"records"`
			Partitions []struct {
				Partition int32 `json:"partition"`
				LogStart  int64 `json:"log_start"`
				End       int64 `json:"end"`
				Leader    int32 `json:"leader"`
			} `json:"partitions"`
			Groups []struct {
				Group     string           `json:"group"`
				Committed map[string]int64 `json:"committed"`
				Lag       int64            `json:"lag"`
			} `json:"groups"`
		}
		if err := json.Unmarshal([]byte(stdout), &d); err != nil {
			t.Fatalf("topics describe --json printed %q: %v", stdout, err)
		}
		if d.Records != 4 || len(d.Partitions) != 2 || d.Partitions[0].End != 3 || d.Partitions[1].End != 1 || d.Partitions[0].Leader < 0 {
			t.Errorf("topics describe: %+v", d)
		}
		if len(d.Groups) != 1 || d.Groups[0].Group != group || d.Groups[0].Committed["0"] != 2 {
			t.Errorf("topics describe groups: %+v, want %s with partition 0 at 2", d.Groups, group)
		}
		stdout, _, _ = cli(t, "", "topics", "describe", topic, "--brokers", b.Addr)
		for _, want := range []string{fmt.Sprintf("topic %s: 2 partition(s), 4 record(s)", topic), "groups reading it:", group, "0:2"} {
			if !strings.Contains(stdout, want) {
				t.Errorf("topics describe lacks %q:\n%s", want, stdout)
			}
		}

		_, stderr, code = cli(t, "", "topics", "describe", topic+"-nope", "--brokers", b.Addr)
		if code != 2 || !strings.Contains(stderr, "does not exist") {
			t.Errorf("unknown topic: exit %d, %s", code, stderr)
		}
	})
	_, stderr, code := cli(t, "", "topics", "--brokers", "127.0.0.1:1")
	if code != 1 || !strings.Contains(stderr, "cannot reach the brokers 127.0.0.1:1") {
		t.Errorf("unreachable broker: exit %d, %s", code, stderr)
	}
}
