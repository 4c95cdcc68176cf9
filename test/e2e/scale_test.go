package e2e

import (
	"context"
	"testing"
	"time"
)

// Two runners in one consumer group share the input; when the second
// joins and when the first stops, partitions move between them (revoked:
// in-flight records finish and are committed first). Nothing is lost;
// what is written twice stays within what was in flight.
func TestScaleOutRebalanceLosesNothing(t *testing.T) {
	eachBroker(t, func(t *testing.T, b broker) {
		tp := newTopics(t, b)
		const n = 150000
		produce(t, b, orders(tp.in, n, 101)...)
		cfg := writeConfig(t, enrichConfig(b, tp, true))
		group := tp.in + "-group"
		r1 := startRunner(t, "-c", cfg)
		readTopic(t, b, tp.out, 2000, 60*time.Second)
		r2 := startRunner(t, "-c", cfg)
		// Both are members once the group has rebalanced.
		deadline := time.Now().Add(60 * time.Second)
		for members(t, b, group) < 2 {
			if time.Now().After(deadline) {
				t.Fatalf("the second runner never joined the group")
			}
			time.Sleep(100 * time.Millisecond)
		}
		if code := r1.stop(30 * time.Second); code != 0 {
			t.Fatalf("first runner exit %d", code)
		}
		if done := sumOffsets(endOffsets(t, b, tp.out)); done >= n {
			t.Fatalf("all %d records done before the first runner stopped; the test needs more input", n)
		}
		waitCommitted(t, b, group, tp.in, 120*time.Second)
		if code := r2.stop(30 * time.Second); code != 0 {
			t.Fatalf("second runner exit %d", code)
		}
		all := readTopic(t, b, tp.out, int(sumOffsets(endOffsets(t, b, tp.out))), 60*time.Second)
		requireAllIDs(t, all, n)
		// Per rebalance, at most what was in flight in the partitions that
		// moved: max_in_flight (256) × 3 partitions, twice.
		dups := len(all) - n
		t.Logf("%d inputs, %d outputs: %d written twice", n, len(all), dups)
		if dups > 2*256*3 {
			t.Errorf("%d duplicates, more than two in-flight windows", dups)
		}
	})
}

// members returns how many members a consumer group has.
func members(t *testing.T, b broker, group string) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	gs, err := admin(t, b).DescribeGroups(ctx, group)
	if err != nil {
		return 0
	}
	return len(gs[group].Members)
}
