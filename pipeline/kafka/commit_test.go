package kafka

import (
	"sync"
	"testing"
	"time"

	"github.com/millrace-dev/millrace/pipeline/engine"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// A commit the broker refuses is sent again, and the committed offset then
// reaches the settled prefix. The group's first two OffsetCommit requests
// are answered with an error for every partition, without being applied.
// REQUEST_TIMED_OUT is retriable but franz-go hands it back to the caller:
// the consumer itself commits again, RetryInterval after the failure and
// not at once, so a broker that is gone is not sent a commit every few
// milliseconds. NOT_COORDINATOR is one franz-go answers by finding the
// coordinator again and resending the request; the offsets get there all
// the same.
func TestCommitRetry(t *testing.T) {
	for _, c := range []struct {
		name     string
		code     int16
		retryGap bool // the consumer retries, after RetryInterval
	}{
		{"request timed out", kerr.RequestTimedOut.Code, true},
		{"not coordinator", kerr.NotCoordinator.Code, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			cluster, addr := newCluster(t)
			produce(t, addr, "in", 1, 10)
			var mu sync.Mutex
			var commits []time.Time // every OffsetCommit of the group, failed or not
			failures := 2
			cluster.ControlKey(int16(kmsg.OffsetCommit), func(req kmsg.Request) (kmsg.Response, error, bool) {
				mu.Lock()
				defer mu.Unlock()
				commits = append(commits, time.Now())
				if failures == 0 {
					return nil, nil, false // applied by the cluster; the control stays to count
				}
				failures--
				cluster.KeepControl()
				return answer(req, c.code), nil, true
			})
			const retry = 300 * time.Millisecond
			sub, err := NewConcurrentSubscriber(ConcurrentSubscriberConfig{Brokers: []string{addr}, Group: "g", RetryInterval: retry})
			if err != nil {
				t.Fatal(err)
			}
			done, err := sub.Consume(t.Context(), "in", 2, func(_ *engine.Record, settle func(engine.Result)) {
				settle(engine.Result{Done: true})
			})
			if err != nil {
				t.Fatal(err)
			}
			waitFor(t, 20*time.Second, "the commit of offset 10", func() bool { return committed(t, addr, "g", "in")[0] == 10 })
			mu.Lock()
			if len(commits) < 3 {
				t.Errorf("%d commit requests, want two refused and one applied", len(commits))
			}
			for i := 1; c.retryGap && i < 3 && i < len(commits); i++ {
				if gap := commits[i].Sub(commits[i-1]); gap < retry {
					t.Errorf("commit %d came %v after a refused one, before RetryInterval %v", i, gap, retry)
				}
			}
			mu.Unlock()
			_ = sub.Close()
			if err := ended(t, done); err != nil {
				t.Errorf("the consumer ended with %v", err)
			}
		})
	}
}
