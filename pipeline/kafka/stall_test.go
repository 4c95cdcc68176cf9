package kafka

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/millrace-dev/millrace/pipeline/engine"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// A record settled as stalled (its dead letter refused) stops its
// partition only: nothing of it is committed past the record, the other
// partitions are read to their end although the stalled one has buffered
// more than the stream's buffer holds, OnStall reports it, the record runs
// again after StallRetryInterval (not at once), and once it is done the
// partition goes on to its end.
func TestStallStopsItsPartitionOnly(t *testing.T) {
	for _, ordering := range []Ordering{OrderKey, OrderPartition, OrderNone} {
		t.Run(ordering.String(), func(t *testing.T) {
			_, addr := newCluster(t)
			cl := client(t, addr, kgo.RecordPartitioner(kgo.ManualPartitioner()))
			const parts, n, bad = 3, 3000, 500 // partition 1, offset 500
			if _, err := kadm.NewClient(cl).CreateTopic(t.Context(), parts, 1, nil, "in"); err != nil {
				t.Fatal(err)
			}
			var recs []*kgo.Record
			for p := range int32(parts) {
				for i := range n {
					recs = append(recs, &kgo.Record{Topic: "in", Partition: p, Key: fmt.Appendf(nil, "k%d", i%20), Value: []byte("{}")})
				}
			}
			if err := cl.ProduceSync(t.Context(), recs...).FirstErr(); err != nil {
				t.Fatal(err)
			}
			var refusing atomic.Bool
			refusing.Store(true)
			var attempts atomic.Int32
			var mu sync.Mutex
			var events []string
			sub, err := NewConcurrentSubscriber(ConcurrentSubscriberConfig{
				Brokers: []string{addr}, Group: "g", Start: "oldest", Ordering: ordering, Pipelined: ordering != OrderNone,
				MaxInFlight: 16, CommitInterval: time.Millisecond, NackResendSleep: 10 * time.Millisecond,
				StallRetryInterval: 300 * time.Millisecond,
				OnStall: func(p int32, off int64, err error) {
					mu.Lock()
					defer mu.Unlock()
					events = append(events, fmt.Sprintf("%d@%d:%v", p, off, err != nil))
				},
			})
			if err != nil {
				t.Fatal(err)
			}
			done, err := sub.Consume(t.Context(), "in", 4, func(rec *engine.Record, settle func(engine.Result)) {
				if rec.Partition == 1 && rec.Offset == bad {
					attempts.Add(1)
					if refusing.Load() {
						// Later, from another goroutine, as a producer's
						// callback: after the process call returned.
						time.AfterFunc(time.Microsecond, func() {
							settle(engine.Result{Err: fmt.Errorf("dead letter refused"), Stall: true})
						})
						return
					}
				}
				settle(engine.Result{Done: true})
			})
			if err != nil {
				t.Fatal(err)
			}
			waitFor(t, 30*time.Second, "the other partitions read to their end, the stalled one at its record", func() bool {
				c := committed(t, addr, "g", "in")
				return c[0] == n && c[2] == n && c[1] == bad
			})
			// Counted from here: the wait above may take long on a busy
			// machine. Timers run late there, never early: at least one
			// try in a second, and no storm of them.
			attempts.Store(0)
			time.Sleep(time.Second)
			if c := committed(t, addr, "g", "in"); c[1] != bad {
				t.Fatalf("stalled partition committed at %d, want %d", c[1], bad)
			}
			if a := attempts.Load(); a < 1 || a > 6 {
				t.Errorf("%d attempts at the record in about 1s with a retry every 300ms", a)
			}
			refusing.Store(false)
			waitFor(t, 30*time.Second, "the stalled partition read to its end", func() bool {
				return committed(t, addr, "g", "in")[1] == n
			})
			sub.Close()
			if err := <-done; err != nil {
				t.Errorf("consume: %v", err)
			}
			mu.Lock()
			defer mu.Unlock()
			if len(events) < 2 || events[0] != fmt.Sprintf("1@%d:true", bad) || events[len(events)-1] != "1@-1:false" {
				t.Errorf("OnStall events %v", events)
			}
		})
	}
}
