package kafka

import (
	"bytes"
	"encoding/json"
	"fmt"
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
// into pooled slices) serves later fetches while records are in flight,
// produces are slow, one fails and its lanes rewind: every output still
// carries its input's key and headers, every dead letter its input's
// bytes, read back with a client of the test's own.
func TestRecycledRecordsWrittenIntact(t *testing.T) {
	const partitions, n int32 = 4, 1500
	cluster, addr := newCluster(t, kfake.SeedTopics(1, "out", "dlq"))
	cl := client(t, addr, kgo.RecordPartitioner(kgo.ManualPartitioner()), kgo.ProducerBatchCompression(kgo.Lz4Compression()))
	if _, err := kadm.NewClient(cl).CreateTopic(t.Context(), partitions, 1, nil, "in"); err != nil {
		t.Fatal(err)
	}
	want := map[string][]byte{} // key: the input's value
	var recs []*kgo.Record
	for p := range partitions {
		for i := range n {
			key := fmt.Sprintf("p%d-i%d", p, i)
			value := fmt.Appendf(nil, `{"p":%d,"i":%d,"pad":%q}`, p, i, bytes.Repeat([]byte{byte('a' + i%26)}, int(i%300)))
			if i%11 == 0 {
				value = value[:len(value)-1] // not JSON: dead-lettered byte for byte
			}
			want[key] = value
			recs = append(recs, &kgo.Record{Topic: "in", Partition: p, Key: []byte(key), Value: value,
				Headers: []kgo.RecordHeader{{Key: "h", Value: []byte("h-" + key)}}})
		}
	}
	if err := cl.ProduceSync(t.Context(), recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}

	var produces atomic.Int32
	cluster.ControlKey(int16(kmsg.Produce), func(req kmsg.Request) (kmsg.Response, error, bool) {
		cluster.KeepControl() // only the engine produces now
		if produces.Add(1) == 40 {
			return answer(req, kerr.InvalidRecord.Code), nil, true
		}
		cluster.SleepControl(func() { time.Sleep(2 * time.Millisecond) })
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
	deadline := time.Now().Add(quickly)
	for len(seen) < len(want) && time.Now().Before(deadline) {
		for _, r := range rd.PollRecords(t.Context(), 1000).Records() {
			key := string(r.Key)
			in, ok := want[key]
			if !ok {
				t.Fatalf("%s: an output with key %q, which no input has", r.Topic, key)
			}
			seen[key] = true
			if h := header(r, "h"); h != "h-"+key {
				t.Errorf("%s %s: header h = %q", r.Topic, key, h)
			}
			if r.Topic == "dlq" {
				if !bytes.Equal(r.Value, in) {
					t.Errorf("dead letter %s: %q, want the input %q", key, r.Value, in)
				}
				continue
			}
			var got, exp map[string]any
			if err := json.Unmarshal(r.Value, &got); err != nil || json.Unmarshal(in, &exp) != nil || fmt.Sprint(got) != fmt.Sprint(exp) {
				t.Errorf("output %s: %s, want %s", key, r.Value, in)
			}
		}
	}
	if len(seen) != len(want) {
		t.Errorf("read back the outputs of %d of %d records", len(seen), len(want))
	}
}
