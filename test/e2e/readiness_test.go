package e2e

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// Readiness follows the group join, not the next regular poll: with
// admin.poll_interval at two minutes, /readyz turns 200 and "pipeline
// ready" is logged well before a second regular poll could happen, once
// a member that held the group's rebalance lets it go.
func TestReadyFollowsTheJoin(t *testing.T) {
	eachBroker(t, func(t *testing.T, b broker) {
		tp := newTopics(t, b)
		holder := holdGroup(t, b, tp.in+"-group", tp.in)
		cfg := strings.Replace(obsConfig(b, tp, "join"), "poll_interval: 1s", "poll_interval: 2m", 1)
		r, base := startObserved(t, writeConfig(t, cfg))
		var rd readiness
		if code := getJSON(t, base+"/readyz", &rd); code != http.StatusServiceUnavailable {
			t.Fatalf("/readyz %d %+v, want 503 while the group is held", code, rd)
		}
		time.Sleep(time.Second) // past the first poll: the join has to be seen by a later one
		holder.AllowRebalance()
		holder.Close()
		// Generous, and still far below the two-minute interval.
		waitReady(t, base, http.StatusOK, 60*time.Second)
		if !strings.Contains(r.out.String(), `"msg":"pipeline ready"`) {
			t.Errorf("no \"pipeline ready\" line:\n%s", r.out.String())
		}
		produce(t, b, &kgo.Record{Topic: tp.in, Value: order("x", 1, "FR")})
		readTopic(t, b, tp.out, 1, 60*time.Second)
		if code := r.stop(30 * time.Second); code != 0 {
			t.Fatalf("exit code %d", code)
		}
	})
}
