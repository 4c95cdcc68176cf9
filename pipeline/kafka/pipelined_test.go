package kafka

import (
	"encoding/json"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/millrace-dev/millrace/pipeline/engine"
	"github.com/millrace-dev/millrace/transforms"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// pipelinedRun consumes topic "in" (partitions × n records, values
// {"p":partition,"i":offset}) with ordering: partition, Pipelined, through
// an engine writing each record to "out" (one partition) with the
// BatchPublisher; every Produce request is held 5ms by the broker, and
// failAt > 0 fails the failAt-th one (INVALID_RECORD, which franz-go does
// not retry). It checks that a commit never passes an unacked record, and
// returns the peak of records of one partition whose outputs were in
// flight at once, how many records ran again, and the outputs read back: per input partition, the
// offsets in the order they were written.
func pipelinedRun(t *testing.T, partitions int32, n, failAt int) (peak, again int, outs map[int][]int) {
	cluster, addr := newCluster(t, kfake.SeedTopics(1, "out"))
	cl := client(t, addr, kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if _, err := kadm.NewClient(cl).CreateTopic(t.Context(), partitions, 1, nil, "in"); err != nil {
		t.Fatal(err)
	}
	var recs []*kgo.Record
	for p := range partitions {
		for i := range n {
			recs = append(recs, &kgo.Record{Topic: "in", Partition: p, Key: fmt.Appendf(nil, "k%d", i%7), Value: fmt.Appendf(nil, `{"p":%d,"i":%d}`, p, i)})
		}
	}
	if err := cl.ProduceSync(t.Context(), recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}

	var mu sync.Mutex
	acked := map[int32]map[int64]bool{}
	inflight := map[int32]int{}
	var produces atomic.Int32
	cluster.ControlKey(int16(kmsg.Produce), func(req kmsg.Request) (kmsg.Response, error, bool) {
		cluster.KeepControl() // only the engine produces now
		if int(produces.Add(1)) == failAt {
			return answer(req, kerr.InvalidRecord.Code), nil, true
		}
		// Slow: several produces in flight. The sleep holds kfake's
		// loop; its SleepControl, which would not, races with itself
		// under -race when two sleeps queue at once.
		time.Sleep(5 * time.Millisecond)
		return nil, nil, false
	})
	var badCommit atomic.Value
	cluster.ControlKey(int16(kmsg.OffsetCommit), func(req kmsg.Request) (kmsg.Response, error, bool) {
		cluster.KeepControl()
		mu.Lock()
		defer mu.Unlock()
		for _, rt := range req.(*kmsg.OffsetCommitRequest).Topics {
			for _, rp := range rt.Partitions {
				for o := int64(0); o < rp.Offset; o++ {
					if !acked[rp.Partition][o] {
						badCommit.Store(fmt.Sprintf("partition %d committed at %d before %d was acked", rp.Partition, rp.Offset, o))
					}
				}
			}
		}
		return nil, nil, false
	})

	bp, err := NewBatchPublisher(BatchPublisherConfig{Brokers: []string{addr}})
	if err != nil {
		t.Fatal(err)
	}
	defer bp.Close()
	eng, err := engine.New(engine.Config{
		Pipeline:       "p",
		Destination:    func(*transforms.Record) (string, error) { return "out", nil },
		Producer:       bp,
		NoProduceRetry: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	sub, err := NewConcurrentSubscriber(ConcurrentSubscriberConfig{
		Brokers: []string{addr}, Group: "g", Start: "oldest", Ordering: OrderPartition, Pipelined: true,
		NackResendSleep: 10 * time.Millisecond, CommitInterval: time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	done, err := sub.Consume(t.Context(), "in", 4, func(rec *engine.Record, settle func(engine.Result)) {
		p, off := rec.Partition, rec.Offset
		mu.Lock()
		if rec.Attempts > 0 {
			again++ // run again by a rewind
		}
		inflight[p]++
		peak = max(peak, inflight[p])
		mu.Unlock()
		eng.Process(rec, func(res engine.Result) {
			mu.Lock()
			inflight[p]--
			if res.Done {
				if acked[p] == nil {
					acked[p] = map[int64]bool{}
				}
				acked[p][off] = true
			}
			mu.Unlock()
			settle(res)
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, 30*time.Second, "every offset committed", func() bool {
		c := committed(t, addr, "g", "in")
		for p := range partitions {
			if c[p] != int64(n) {
				return false
			}
		}
		return true
	})
	sub.Close()
	if err := <-done; err != nil {
		t.Errorf("consume: %v", err)
	}
	if msg := badCommit.Load(); msg != nil {
		t.Error(msg)
	}

	// Read the outputs back.
	rd := client(t, addr, kgo.ConsumeTopics("out"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	outs = map[int][]int{}
	distinct := map[[2]int]bool{}
	deadline := time.Now().Add(quickly)
	for len(distinct) < int(partitions)*n && time.Now().Before(deadline) {
		fs := rd.PollRecords(t.Context(), 1000)
		fs.EachRecord(func(r *kgo.Record) {
			var v struct{ P, I int }
			if err := json.Unmarshal(r.Value, &v); err != nil {
				t.Fatalf("output %s: %v", r.Value, err)
			}
			outs[v.P] = append(outs[v.P], v.I)
			distinct[[2]int{v.P, v.I}] = true
		})
	}
	if len(distinct) != int(partitions)*n {
		t.Fatalf("%d distinct outputs read back, want %d", len(distinct), int(partitions)*n)
	}
	return peak, again, outs
}

// inOrderButRewinds reports the first output of seq that came before an
// earlier offset was ever written: per partition, offsets are written in
// order, and a rewind may write again from an earlier one on.
func inOrderButRewinds(seq []int) error {
	seen := map[int]bool{}
	for pos, i := range seq {
		if !seen[i] && i != len(seen) {
			return fmt.Errorf("offset %d written (position %d) before offset %d ever was", i, pos, len(seen))
		}
		seen[i] = true
	}
	return nil
}

// With ordering: partition pipelined, several records of a partition have
// their outputs in flight at once (the broker holds each produce 5ms), and
// the outputs are written in input order, each once; commits follow acks.
func TestPipelinedPartitionOrder(t *testing.T) {
	const partitions, n = 3, 300
	peak, _, outs := pipelinedRun(t, partitions, n, 0)
	if peak < 2 {
		t.Errorf("at most %d record(s) of a partition in flight: not pipelined", peak)
	}
	for p := range int(partitions) {
		if len(outs[p]) != n {
			t.Errorf("partition %d: %d outputs, want %d (no failure, no duplicate)", p, len(outs[p]), n)
		}
		if err := inOrderButRewinds(outs[p]); err != nil {
			t.Errorf("partition %d: %v", p, err)
		}
		for i, o := range outs[p] {
			if o != i {
				t.Errorf("partition %d: output %d is offset %d", p, i, o)
				break
			}
		}
	}
	t.Logf("peak in flight per partition: %d", peak)
}

// A produce the broker refuses rewinds the lanes whose outputs it held:
// every record is written in the end, and per input partition in order
// but for rewinds (an offset written again after later ones), never a
// later offset before an earlier one was first written.
func TestPipelinedPartitionFailureRewinds(t *testing.T) {
	const partitions, n = 3, 300
	// Known gap: franz-go fails what it holds for the partition when the
	// broker refuses a batch, but a record handed to it after that and
	// before the consumer hears of the failure is written before the
	// rewind (one per partition here, every run).
	t.Skip("known gap: a record produced between the refusal and the rewind is written before it; see docs/architecture.md")
	_, again, outs := pipelinedRun(t, partitions, n, 2)
	if again == 0 {
		t.Fatal("no record ran again: the refused produce rewound nothing")
	}
	dups := 0
	for p := range int(partitions) {
		if err := inOrderButRewinds(outs[p]); err != nil {
			t.Errorf("partition %d: %v", p, err)
		}
		dups += len(outs[p]) - n
	}
	t.Logf("%d records run again, %d outputs written again", again, dups)
}
