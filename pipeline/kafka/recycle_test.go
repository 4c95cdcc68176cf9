package kafka

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
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

// With RecycleRecords and an engine that reuses its works, as `run` has
// them, the memory of fetched records (compressed batches, so decompressed
// into pooled slices) and their entries serve later records while
// records are in flight and produces are slow: every output still carries
// its input's key and headers, every dead letter its input's bytes, and
// each key's outputs are in input order, read back with a client of the
// test's own. With a produce the broker refuses (its records are
// dead-lettered, the records failed with it rewind), the same holds but
// for the order, which has a known gap (see
// TestPipelinedPartitionFailureRewinds).
func TestRecycledRecordsWrittenIntact(t *testing.T) {
	t.Run("slow", func(t *testing.T) { recycledRun(t, 0) })
	t.Run("refused", func(t *testing.T) { recycledRun(t, 40) })
}

func recycledRun(t *testing.T, failAt int32) {
	const partitions, n int32 = 4, 1500
	cluster, addr := newCluster(t, kfake.SeedTopics(1, "out", "dlq"))
	cl := client(t, addr, kgo.RecordPartitioner(kgo.ManualPartitioner()), kgo.ProducerBatchCompression(kgo.Lz4Compression()))
	if _, err := kadm.NewClient(cl).CreateTopic(t.Context(), partitions, 1, nil, "in"); err != nil {
		t.Fatal(err)
	}
	type input struct {
		key   string
		value []byte
	}
	want := map[string]input{}    // by id
	lanes := map[string][]int32{} // partition and key: the offsets written to out, in order
	var recs []*kgo.Record
	for p := range partitions {
		for i := range n {
			id, key := fmt.Sprintf("p%d-i%d", p, i), fmt.Sprintf("k%d", i%13)
			value := fmt.Appendf(nil, `{"p":%d,"i":%d,"pad":%q}`, p, i, bytes.Repeat([]byte{byte('a' + i%26)}, int(i%300)))
			if i%11 == 0 {
				value = value[:len(value)-1] // not JSON: dead-lettered byte for byte
			} else {
				lane := fmt.Sprint(p, key)
				lanes[lane] = append(lanes[lane], i)
			}
			want[id] = input{key, value}
			recs = append(recs, &kgo.Record{Topic: "in", Partition: p, Key: []byte(key), Value: value,
				Headers: []kgo.RecordHeader{{Key: "id", Value: []byte(id)}}})
		}
	}
	if err := cl.ProduceSync(t.Context(), recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}

	var produces atomic.Int32
	cluster.ControlKey(int16(kmsg.Produce), func(req kmsg.Request) (kmsg.Response, error, bool) {
		cluster.KeepControl() // only the engine produces now
		if produces.Add(1) == failAt {
			return answer(req, kerr.InvalidRecord.Code), nil, true
		}
		// Slow: several produces in flight. The sleep holds kfake's
		// loop; its SleepControl, which would not, races with itself
		// under -race when two sleeps queue at once.
		time.Sleep(2 * time.Millisecond)
		return nil, nil, false
	})
	bp, err := NewBatchPublisher(BatchPublisherConfig{Brokers: []string{addr}})
	if err != nil {
		t.Fatal(err)
	}
	defer bp.Close()
	eng, err := engine.New(engine.Config{
		Pipeline: "p", DeadLetterTopic: "dlq",
		Destination: func(*transforms.Record) (string, error) { return "out", nil },
		Producer:    bp, NoProduceRetry: true, ReuseWork: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	sub, err := NewConcurrentSubscriber(ConcurrentSubscriberConfig{
		Brokers: []string{addr}, Group: "g", Start: "oldest", Ordering: OrderKey, Pipelined: true,
		NackResendSleep: 10 * time.Millisecond, CommitInterval: time.Millisecond, RecycleRecords: true,
		FetchMaxPartitionBytes: 16 << 10, // many small fetches, so memory comes back and goes out again
	})
	if err != nil {
		t.Fatal(err)
	}
	done, err := sub.Consume(t.Context(), "in", 4, eng.Process)
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, 60*time.Second, "every offset committed", func() bool {
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

	rd := client(t, addr, kgo.ConsumeTopics("out", "dlq"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	seen := map[string]bool{}
	type written struct {
		lane string
		i    int32
		id   string
	}
	var outs []written // in the order written to out (one partition)
	deadline := time.Now().Add(quickly)
	for len(seen) < len(want) && time.Now().Before(deadline) {
		for _, r := range rd.PollRecords(t.Context(), 1000).Records() {
			id := header(r, "id")
			in, ok := want[id]
			if !ok {
				t.Fatalf("%s: an output with id %q, which no input has", r.Topic, id)
			}
			seen[id] = true
			if string(r.Key) != in.key {
				t.Errorf("%s %s: key %q, want %q", r.Topic, id, r.Key, in.key)
			}
			if r.Topic == "dlq" {
				// Not JSON, or refused with the produce that failed.
				if !bytes.Equal(r.Value, in.value) {
					t.Errorf("dead letter %s: %q, want the input %q", id, r.Value, in.value)
				}
				continue
			}
			var got struct{ P, I int32 }
			var exp map[string]any
			if err := json.Unmarshal(r.Value, &exp); err != nil || !bytes.Equal(mustJSON(t, exp), mustJSON(t, jsonOf(t, in.value))) {
				t.Errorf("output %s: %s, want %s", id, r.Value, in.value)
				continue
			}
			_ = json.Unmarshal(r.Value, &got)
			outs = append(outs, written{fmt.Sprint(got.P, in.key), got.I, id})
		}
	}
	if failAt == 0 {
		// Nothing failed: each lane's outputs are its offsets, each once,
		// in order.
		got := map[string][]int32{}
		for _, o := range outs {
			got[o.lane] = append(got[o.lane], o.i)
		}
		for lane, l := range lanes {
			if !slices.Equal(got[lane], l) {
				t.Errorf("lane %s: wrote %v, want %v", lane, got[lane], l)
			}
		}
	}
	if len(seen) != len(want) {
		t.Errorf("read back the outputs of %d of %d records", len(seen), len(want))
	}
}

func jsonOf(t *testing.T, b []byte) any {
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	return v
}

func mustJSON(t *testing.T, v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// A recycled entry's next record starts a run of its own: the release of
// its last record, arriving late (its worker said so after the record
// was settled), does not end the new record's turn in its lane.
func TestRecycledEntryIgnoresLateEvents(t *testing.T) {
	s := &stream{cfg: &ConcurrentSubscriberConfig{MaxInFlight: 10}}
	w := newWindow(OrderPartition, 10)
	w.drain, w.free = true, &s.freeEntries
	w.add(rec(0, "k"), false)
	first := w.next(nil)[0]
	gen := first.gen
	w.settle(first, gen, true) // settled before its release
	s.recycleDrained(w)
	e := w.add(rec(1, "k"), false)
	if e != first {
		t.Fatal("the settled entry was not reused")
	}
	if o := offsets(w.next(nil)); len(o) != 1 || o[0] != 1 {
		t.Fatalf("handed out %v, want [1]", o)
	}
	w.add(rec(2, "k"), false)
	w.release(first, gen) // the late release of offset 0
	if o := offsets(w.next(nil)); len(o) != 0 {
		t.Errorf("handed out %v while offset 1 has its lane's turn", o)
	}
	w.release(e, e.gen)
	if o := offsets(w.next(nil)); len(o) != 1 || o[0] != 2 {
		t.Errorf("after offset 1's release: handed out %v, want [2]", o)
	}
}

// The free lists take a slice by its fit: the smallest that holds what is
// asked for, else (for decompression, which franz-go grows) the largest;
// a slice too small for a batch stays for a smaller one.
func TestFreeListFit(t *testing.T) {
	var l freeList[byte]
	for _, c := range []int{64, 16, 256, 32} {
		l.push(make([]byte, 0, c), 1<<20)
	}
	if s := l.fit(20, false); cap(s) != 32 {
		t.Errorf("fit(20) took capacity %d, want 32", cap(s))
	}
	if s := l.fit(1000, false); s != nil {
		t.Errorf("fit(1000) took capacity %d, want none", cap(s))
	}
	if s := l.fit(1000, true); cap(s) != 256 {
		t.Errorf("fit(1000) or the largest took capacity %d, want 256", cap(s))
	}
	if l.held != 64+16 || len(l.free) != 2 {
		t.Errorf("left %d slices holding %d, want 2 holding 80", len(l.free), l.held)
	}
	l.push(make([]byte, 0, 1<<20), 1<<20) // over the bound: not kept
	if len(l.free) != 2 {
		t.Errorf("a slice over the bound was kept")
	}
}
