package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// consumed is one line of consume --json.
type consumed struct {
	Partition int32  `json:"partition"`
	Offset    int64  `json:"offset"`
	Value     string `json:"value"`
}

// consumeJSON runs consume --json with args and returns the records
// printed; it fails the test unless the exit code is 0.
func consumeJSON(t *testing.T, b broker, topic string, args ...string) []consumed {
	t.Helper()
	stdout, stderr, code := cli(t, "", append([]string{"consume", "--brokers", b.Addr, "--topic", topic, "--json", "--timeout", "120s"}, args...)...)
	if code != 0 {
		t.Fatalf("consume %v: exit %d: %s", args, code, stderr)
	}
	var out []consumed
	for line := range strings.SplitSeq(strings.TrimSpace(stdout), "\n") {
		if line == "" {
			continue
		}
		var c consumed
		if err := json.Unmarshal([]byte(line), &c); err != nil {
			t.Fatalf("consume %v printed %q: %v", args, line, err)
		}
		out = append(out, c)
	}
	return out
}

// positions renders records as partition:offset, sorted by partition, then
// offset (consume prints each partition in order).
func positions(cs []consumed) string {
	byPart := map[int32][]string{}
	for _, c := range cs {
		byPart[c.Partition] = append(byPart[c.Partition], fmt.Sprint(c.Offset))
	}
	var parts []string
	for p := int32(0); p < 8; p++ {
		if offs := byPart[p]; len(offs) > 0 {
			parts = append(parts, fmt.Sprintf("%d:%s", p, strings.Join(offs, ",")))
		}
	}
	return strings.Join(parts, " ")
}

// consume takes kcat's positions (--from oldest, newest, N, -N,
// time:RFC3339), --partition and --exit-at-end, and says at once when the
// topic, a partition or the broker is not there.
func TestConsumePositions(t *testing.T) {
	eachBroker(t, func(t *testing.T, b broker) {
		topic := topicName(t, "c")
		createTopics(t, b, 3, topic)
		// Partition 0: five records a second apart from 2024-01-01T00:00:00Z;
		// partition 1: three; partition 2: none.
		t0 := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
		var recs []*kgo.Record
		for i := range 5 {
			recs = append(recs, &kgo.Record{Topic: topic, Partition: 0, Timestamp: t0.Add(time.Duration(i) * time.Second), Value: fmt.Appendf(nil, `{"p":0,"i":%d}`, i)})
		}
		for i := range 3 {
			recs = append(recs, &kgo.Record{Topic: topic, Partition: 1, Timestamp: t0, Value: fmt.Appendf(nil, `{"p":1,"i":%d}`, i)})
		}
		cl := client(t, b, kgo.RecordPartitioner(kgo.ManualPartitioner()))
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
			t.Fatal(err)
		}

		for _, c := range []struct {
			args []string
			want string
		}{
			{[]string{"-e"}, "0:0,1,2,3,4 1:0,1,2"},
			{[]string{"--exit-at-end", "--from", "oldest"}, "0:0,1,2,3,4 1:0,1,2"},
			{[]string{"-e", "--from", "newest"}, ""},
			{[]string{"-e", "--from", "-2"}, "0:3,4 1:1,2"},
			{[]string{"-e", "--from", "-10"}, "0:0,1,2,3,4 1:0,1,2"},
			{[]string{"-e", "--from", "2", "--partition", "0"}, "0:2,3,4"},
			{[]string{"-e", "--partition", "1", "--partition", "2"}, "1:0,1,2"},
			{[]string{"-e", "--from", "time:2024-01-01T00:00:03Z", "--partition", "0"}, "0:3,4"},
			{[]string{"-e", "--from", "time:2030-01-01T00:00:00Z"}, ""},
		} {
			if got := positions(consumeJSON(t, b, topic, c.args...)); got != c.want {
				t.Errorf("consume %v: got %q, want %q", c.args, got, c.want)
			}
		}

		// A group with -e reads to the end and commits; again, it has nothing
		// left and exits at once.
		group := topic + "-g"
		if got := consumeJSON(t, b, topic, "-e", "--group", group); len(got) != 8 {
			t.Errorf("group consume -e printed %d record(s), want 8", len(got))
		}
		if got := consumeJSON(t, b, topic, "-e", "--group", group); len(got) != 0 {
			t.Errorf("second group consume -e printed %s, want nothing", positions(got))
		}

		for _, c := range []struct {
			args []string
			code int
			want string
		}{
			{[]string{"--topic", topic + "-nope"}, 2, fmt.Sprintf("topic %q does not exist", topic+"-nope")},
			{[]string{"--topic", topic, "--partition", "7"}, 2, fmt.Sprintf("topic %q has no partition 7", topic)},
			{[]string{"--topic", topic, "--from", "99"}, 2, "beyond its end offset"},
			{[]string{"--topic", topic, "--from", "-0"}, 2, "-N takes a positive count"},
			{[]string{"--topic", topic, "--from", "yesterday"}, 2, "use oldest, newest, N"},
			{[]string{"--topic", topic, "--group", "g", "--partition", "0"}, 2, "--partition reads by assignment"},
		} {
			_, stderr, code := cli(t, "", append([]string{"consume", "--brokers", b.Addr, "--max", "1", "--timeout", "120s"}, c.args...)...)
			if code != c.code || !strings.Contains(stderr, c.want) || strings.Contains(stderr, "timed out") {
				t.Errorf("consume %v: exit %d, stderr %q; want exit %d and %q", c.args, code, stderr, c.code, c.want)
			}
		}
	})
	_, stderr, code := cli(t, "", "consume", "--brokers", "127.0.0.1:1", "--topic", "t", "--max", "1", "--timeout", "120s")
	if code != 1 || !strings.Contains(stderr, "cannot reach the brokers 127.0.0.1:1") || strings.Contains(stderr, "timed out") {
		t.Errorf("unreachable broker: exit %d, stderr %q", code, stderr)
	}
}
