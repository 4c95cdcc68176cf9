package offsets

import (
	"github.com/millrace-dev/millrace/transforms/spec"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestParse(t *testing.T) {
	for _, c := range []struct {
		parse func(string, string) (Spec, error)
		in    string
		want  Spec
	}{
		{ParseStart, "oldest", Spec{Kind: Oldest}},
		{ParseStart, "newest", Spec{Kind: Newest}},
		{ParseStart, "offset:42", Spec{Kind: Offset, Offset: 42}},
		{ParseStart, "0:5,3:7", Spec{Kind: PerPartition, Partitions: map[int32]int64{0: 5, 3: 7}}},
		{ParseStart, "time:2024-05-01T12:00:00Z", Spec{Kind: Time, Time: time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)}},
		{ParseStart, "group:audit", Spec{Kind: Group, Group: "audit"}},
		{ParseEnd, "end", Spec{Kind: Newest}},
		{ParseEnd, "offset:0", Spec{Kind: Offset}},
		{ParseReset, "newest", Spec{Kind: Newest}},
		{ParseReset, "2:9", Spec{Kind: PerPartition, Partitions: map[int32]int64{2: 9}}},
	} {
		got, err := c.parse("--x", c.in)
		if err != nil {
			t.Errorf("%q: %v", c.in, err)
			continue
		}
		if got.Kind != c.want.Kind || got.Offset != c.want.Offset || !got.Time.Equal(c.want.Time) || got.Group != c.want.Group ||
			!maps.Equal(got.Partitions, c.want.Partitions) || got.Text != c.in {
			t.Errorf("%q: got %+v, want %+v", c.in, got, c.want)
		}
	}
}

func TestParseErrors(t *testing.T) {
	for _, c := range []struct {
		parse func(string, string) (Spec, error)
		in    string
		want  string
	}{
		{ParseStart, "yesterday", `--x "yesterday"; use oldest, newest, offset:N, P:O[,P:O...], time:RFC3339 or group:NAME`},
		{ParseStart, "offset:-1", "the offset is not a non-negative integer"},
		{ParseStart, "offset:x", "the offset is not a non-negative integer"},
		{ParseStart, "0:1,0:2", "partition 0 is given twice"},
		{ParseStart, "0:1,a:2", `"a:2" is not PARTITION:OFFSET`},
		{ParseStart, "time:2024-05-01", "not an RFC 3339 time"},
		{ParseStart, "group:", "the group name is empty"},
		{ParseEnd, "group:x", "use end, offset:N, P:O[,P:O...] or time:RFC3339"},
		{ParseReset, "group:x", "use oldest, newest, offset:N, P:O[,P:O...] or time:RFC3339"},
	} {
		_, err := c.parse("--x", c.in)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: error %v, want it to contain %q", c.in, err, c.want)
		}
	}
}

func TestParsePartitions(t *testing.T) {
	got, err := ParsePartitions("--partitions", "3, 0,3")
	if err != nil || !slices.Equal(got, []int32{0, 3}) {
		t.Errorf("got %v %v", got, err)
	}
	for _, bad := range []string{"", ",", "x", "-1"} {
		if _, err := ParsePartitions("--partitions", bad); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

func TestOutOfRangeMessages(t *testing.T) {
	below := (&OutOfRangeError{Topic: "t", Partition: 1, Offset: 2, LogStart: 5, End: 9, What: "--from 1:2"}).Error()
	above := (&OutOfRangeError{Topic: "t", Partition: 1, Offset: 12, LogStart: 5, End: 9, What: "--to 1:12"}).Error()
	if !strings.Contains(below, "offset 2 of t partition 1 is below its log start 5") || !strings.Contains(above, "offset 12 of t partition 1 is beyond its end offset 9") {
		t.Errorf("messages:\n%s\n%s", below, above)
	}
	u := (&UnknownTopicError{Topic: "x", Known: []string{"a", "b"}}).Error()
	if u != `topic "x" does not exist; the cluster has: a, b` {
		t.Errorf("unknown topic: %s", u)
	}
}

func TestEditDistance(t *testing.T) {
	for _, c := range []struct {
		a, b string
		d    int
	}{{"", "", 0}, {"orders", "orders", 0}, {"orders", "order", 1}, {"orders", "odrers", 2}, {"", "abc", 3}} {
		if got := spec.Distance(c.a, c.b); got != c.d {
			t.Errorf("%q %q: %d, want %d", c.a, c.b, got, c.d)
		}
	}
}
