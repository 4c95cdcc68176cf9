package kafka

import (
	"sync"
	"testing"
	"time"

	"github.com/millrace-dev/millrace/pipeline/engine"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// A partition revoked while one of its records stays unsettled is held
// for its wait (ShutdownTimeout, at most 20s) and then released, and its
// offset is not committed past the unsettled record although the records
// after it were settled. Member A holds offset 2 of each of two
// partitions unsettled and settles the others (ordering none, so they
// run); member B then joins, and the eager range balancer revokes both
// partitions from A. The group's OffsetCommit requests are watched
// (kfake's ControlKey, not handled): none of A's goes past 2. B gets its
// first record no sooner than A's wait after it joined, and not much
// later: the revocation waited, then let go. B starts its partition at the
// unsettled record, offset 2.
func TestRevokeTimeout(t *testing.T) {
	cluster, addr := newCluster(t, kfake.GroupMinSessionTimeout(500*time.Millisecond))
	produce(t, addr, "in", 2, 6)
	var mu sync.Mutex
	byMember := map[string]map[int32]int64{} // highest offset committed, by member and partition
	cluster.ControlKey(int16(kmsg.OffsetCommit), func(req kmsg.Request) (kmsg.Response, error, bool) {
		r := req.(*kmsg.OffsetCommitRequest)
		mu.Lock()
		defer mu.Unlock()
		m := byMember[r.MemberID]
		if m == nil {
			m = map[int32]int64{}
			byMember[r.MemberID] = m
		}
		for _, rt := range r.Topics {
			for _, rp := range rt.Partitions {
				m[rp.Partition] = max(m[rp.Partition], rp.Offset)
			}
		}
		return nil, nil, false
	})
	const wait = 2 * time.Second
	member := func(process Process) (*ConcurrentSubscriber, <-chan error) {
		sub, err := NewConcurrentSubscriber(ConcurrentSubscriberConfig{
			Brokers: []string{addr}, Group: "g", Ordering: OrderNone, ShutdownTimeout: wait,
			RetryInterval: 50 * time.Millisecond, SessionTimeout: 2 * time.Second,
			ClientOpts: []kgo.Opt{kgo.Balancers(kgo.RangeBalancer())},
		})
		if err != nil {
			t.Fatal(err)
		}
		done, err := sub.Consume(t.Context(), "in", 4, process)
		if err != nil {
			t.Fatal(err)
		}
		return sub, done
	}
	settledA := map[int32]int{}
	a, doneA := member(func(rec *engine.Record, settle func(engine.Result)) {
		if rec.Offset == 2 {
			return // held: never settled
		}
		mu.Lock()
		settledA[rec.Partition]++
		mu.Unlock()
		settle(engine.Result{Done: true})
	})
	waitFor(t, 20*time.Second, "A to settle all but offset 2", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return settledA[0] >= 5 && settledA[1] >= 5
	})
	idA := a.GroupMemberID()

	joined := time.Now()
	var firstB time.Duration
	firstOffset := map[int32]int64{}
	b, doneB := member(func(rec *engine.Record, settle func(engine.Result)) {
		mu.Lock()
		if len(firstOffset) == 0 {
			firstB = time.Since(joined)
		}
		if _, ok := firstOffset[rec.Partition]; !ok {
			firstOffset[rec.Partition] = rec.Offset
		}
		mu.Unlock()
		settle(engine.Result{Done: true})
	})
	waitFor(t, 30*time.Second, "B to commit its partition to the end", func() bool {
		c := committed(t, addr, "g", "in")
		return c[0] == 6 || c[1] == 6
	})
	_ = b.Close()
	_ = a.Close()
	<-doneA // a shutdown timeout: A still holds offset 2
	<-doneB

	mu.Lock()
	defer mu.Unlock()
	t.Logf("B's first record %v after it joined; highest commits by member: %v (A is %s)", firstB.Round(time.Millisecond), byMember, idA)
	if idA == "" || byMember[idA] == nil {
		t.Fatalf("no commit by A (%q) among %v", idA, byMember)
	}
	for p, off := range byMember[idA] {
		if off > 2 {
			t.Errorf("A committed partition %d at %d, past its unsettled offset 2", p, off)
		}
	}
	if len(firstOffset) != 1 {
		t.Fatalf("B read partitions %v, want one", firstOffset)
	}
	for p, off := range firstOffset {
		if off != 2 {
			t.Errorf("B started partition %d at %d, want the unsettled offset 2", p, off)
		}
	}
	if firstB < wait || firstB > wait+15*time.Second {
		t.Errorf("B's first record came %v after it joined; A's revocation should wait %v, then let go", firstB, wait)
	}
}
