package kafka

import (
	"sync"
	"testing"
	"time"

	"github.com/millrace-dev/millrace/pipeline/engine"
)

// A paused subscriber hands out nothing beyond what it had handed out,
// keeps its group generation, and after Resume hands out the rest: every
// record once.
func TestPauseResume(t *testing.T) {
	_, addr := newCluster(t)
	const parts, n = 2, 200
	produce(t, addr, "t", parts, n)
	sub, err := NewConcurrentSubscriber(ConcurrentSubscriberConfig{Brokers: []string{addr}, Group: "g", Start: "oldest", MaxInFlight: 4})
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	seen := map[string]int{}
	count := func() int {
		mu.Lock()
		defer mu.Unlock()
		return len(seen)
	}
	gate := make(chan struct{}) // holds the first records until the pause
	done, err := sub.Consume(t.Context(), "t", 4, func(rec *engine.Record, settle func(engine.Result)) {
		mu.Lock()
		seen[string(rec.Value)]++
		mu.Unlock()
		go func() {
			<-gate
			settle(engine.Result{Done: true})
		}()
	})
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, 30*time.Second, "the first records", func() bool { return count() > 0 && sub.GroupGeneration() > 0 })
	sub.Pause()
	gen, atPause := sub.GroupGeneration(), count()
	close(gate)
	waitFor(t, 30*time.Second, "the records in flight", func() bool { return sub.InFlight() == 0 })
	time.Sleep(500 * time.Millisecond) // a record handed out after the pause would show by now
	if got := count(); got != atPause || got >= parts*n {
		t.Fatalf("%d records handed out while paused, %d at the pause", got, atPause)
	}
	if g := sub.GroupGeneration(); g != gen {
		t.Fatalf("generation %d after the pause, %d before", g, gen)
	}
	sub.Resume()
	waitFor(t, 30*time.Second, "every record", func() bool { return count() == parts*n })
	if err := sub.Close(); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	for v, c := range seen {
		if c != 1 {
			t.Errorf("record %s handed out %d times", v, c)
		}
	}
	if g := sub.GroupGeneration(); g != gen {
		t.Errorf("generation %d at the end, %d at the pause", g, gen)
	}
}
