package e2e

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/millrace-dev/millrace/pipeline/replay/offsets"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// commitOffsets commits offsets for group as an admin would.
func commitOffsets(t *testing.T, b broker, group, topic string, at map[int32]int64) {
	t.Helper()
	var os kadm.Offsets
	for p, o := range at {
		os.Add(kadm.Offset{Topic: topic, Partition: p, At: o, LeaderEpoch: -1})
	}
	if err := admin(t, b).CommitAllOffsets(t.Context(), group, os); err != nil {
		t.Fatalf("commit: %v", err)
	}
}

// offsets shows committed offset, log start, end and lag per partition;
// --reset-to plans a reset, applies it only with --execute, and refuses
// while the group has members.
func TestOffsetsShowAndReset(t *testing.T) {
	eachBroker(t, func(t *testing.T, b broker) {
		tp := newTopics(t, b)
		var recs []*kgo.Record
		for p := range int32(3) {
			for range 10 {
				recs = append(recs, &kgo.Record{Topic: tp.in, Partition: p, Value: order("x", 1, "FR")})
			}
		}
		produceTo(t, b, recs...)
		group := tp.in + "-group"
		commitOffsets(t, b, group, tp.in, map[int32]int64{0: 4, 1: 10})
		cfg := writeConfig(t, enrichConfig(b, tp, true))
		dir := t.TempDir()

		stdout, stderr, code := cliIn(t, dir, "offsets", "enrich", "-c", cfg, "--json")
		if code != 0 {
			t.Fatalf("offsets: exit %d\n%s", code, stderr)
		}
		var v offsets.GroupView
		if err := json.Unmarshal([]byte(stdout), &v); err != nil {
			t.Fatalf("offsets --json: %v\n%s", err, stdout)
		}
		if v.Group != group || v.Topic != tp.in || len(v.Partitions) != 3 || len(v.Members) != 0 {
			t.Fatalf("view: %+v", v)
		}
		for _, p := range v.Partitions {
			want := map[int32]struct {
				committed *int64
				lag       int64
			}{0: {ptr(4), 6}, 1: {ptr(10), 0}, 2: {nil, 10}}[p.Partition]
			if !equalPtr(p.Committed, want.committed) || p.Lag != want.lag || p.LogStart != 0 || p.End != 10 {
				t.Errorf("partition %d: %+v, want committed %v lag %d", p.Partition, p, show(want.committed), want.lag)
			}
		}
		if v.Totals.Lag != 16 || v.Totals.Records != 30 {
			t.Errorf("totals: %+v", v.Totals)
		}
		stdout, _, _ = cliIn(t, dir, "offsets", "enrich", "-c", cfg)
		for _, want := range []string{"group " + group + " on topic " + tp.in, "committed", "log start", "lag", "total"} {
			if !strings.Contains(stdout, want) {
				t.Errorf("offsets output lacks %q:\n%s", want, stdout)
			}
		}

		// A dry run shows the plan and changes nothing.
		stdout, stderr, code = cliIn(t, dir, "offsets", "enrich", "-c", cfg, "--reset-to", "oldest")
		if code != 0 || !strings.Contains(stdout, "dry run; add --execute to apply") {
			t.Errorf("dry run: exit %d\n%s%s", code, stdout, stderr)
		}
		if c := committed(t, b, group, tp.in); c[0] != 4 || c[1] != 10 {
			t.Errorf("a dry run changed the offsets: %v", c)
		}
		stdout, _, _ = cliIn(t, dir, "offsets", "enrich", "-c", cfg, "--reset-to", "oldest", "--json")
		var plan struct {
			Plan     offsets.ResetPlan `json:"plan"`
			Executed bool              `json:"executed"`
		}
		if err := json.Unmarshal([]byte(stdout), &plan); err != nil || plan.Executed || len(plan.Plan.Changes) != 3 {
			t.Errorf("dry-run plan: %v %s", err, stdout)
		}
		for _, c := range plan.Plan.Changes {
			if c.To != 0 {
				t.Errorf("plan to oldest: %+v", c)
			}
		}

		// --execute applies it.
		if _, stderr, code := cliIn(t, dir, "offsets", "enrich", "-c", cfg, "--reset-to", "offset:2", "--execute"); code != 0 {
			t.Fatalf("execute: exit %d\n%s", code, stderr)
		}
		if c := committed(t, b, group, tp.in); c[0] != 2 || c[1] != 2 || c[2] != 2 {
			t.Errorf("after reset to offset:2: %v", c)
		}
		if _, stderr, code := cliIn(t, dir, "offsets", "enrich", "-c", cfg, "--reset-to", "1:7", "--execute"); code != 0 {
			t.Fatalf("execute: exit %d\n%s", code, stderr)
		}
		if c := committed(t, b, group, tp.in); c[0] != 2 || c[1] != 7 || c[2] != 2 {
			t.Errorf("after reset to 1:7: %v", c)
		}
		for _, c := range []struct {
			args []string
			want string
		}{
			{[]string{"--reset-to", "offset:11"}, "is beyond its end offset 10"},
			{[]string{"--reset-to", "group:x"}, `--reset-to "group:x"`},
			{[]string{"--execute"}, "--execute applies a --reset-to"},
			{[]string{"--partitions", "5"}, "has no partition 5"},
		} {
			_, stderr, code := cliIn(t, dir, append([]string{"offsets", "enrich", "-c", cfg}, c.args...)...)
			if code != 2 || !strings.Contains(stderr, c.want) {
				t.Errorf("%v: exit %d, stderr lacks %q:\n%s", c.args, code, c.want, stderr)
			}
		}

		// While the pipeline runs, a reset is refused.
		live := startRunner(t, "-c", cfg)
		waitMembers(t, b, group)
		stdout, stderr, code = cliIn(t, dir, "offsets", "enrich", "-c", cfg, "--reset-to", "oldest", "--execute")
		if code != 1 || !strings.Contains(stderr, "is active") || !strings.Contains(stderr, "stop its consumers") {
			t.Errorf("reset of an active group: exit %d\n%s%s", code, stdout, stderr)
		}
		for p, o := range committed(t, b, group, tp.in) {
			if o == 0 {
				t.Errorf("partition %d was reset while the group was active", p)
			}
		}
		stdout, _, _ = cliIn(t, dir, "offsets", "enrich", "-c", cfg, "--reset-to", "oldest")
		if !strings.Contains(stdout, "the group is active") {
			t.Errorf("the dry run should warn that the group is active:\n%s", stdout)
		}
		if code := live.stop(30 * time.Second); code != 0 {
			t.Fatalf("runner exit %d", code)
		}
		if _, stderr, code := cliIn(t, dir, "offsets", "enrich", "-c", cfg, "--reset-to", "offset:3", "--execute"); code != 0 {
			t.Fatalf("reset after the runner stopped: exit %d\n%s", code, stderr)
		}
		if c := committed(t, b, group, tp.in); c[0] != 3 || c[1] != 3 || c[2] != 3 {
			t.Errorf("after reset to offset:3: %v", c)
		}
	})
}

// waitMembers waits until group has members.
func waitMembers(t *testing.T, b broker, group string) {
	t.Helper()
	adm := admin(t, b)
	deadline := time.Now().Add(time.Minute)
	for {
		ds, err := adm.DescribeGroups(t.Context(), group)
		if err == nil && len(ds[group].Members) > 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("group %s has no members: %v %+v", group, err, ds)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func ptr(n int64) *int64 { return &n }

func equalPtr(a, b *int64) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}

func show(p *int64) any {
	if p == nil {
		return "none"
	}
	return *p
}
