package kafka

import (
	"bytes"
	"errors"
	"fmt"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/millrace-dev/millrace/pipeline/engine"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// A produce the broker refuses reaches the caller, and nothing waits on
// it. Every Produce request is answered INVALID_RECORD, an error franz-go
// does not retry: Produce returns at once, and its done is called once,
// with the broker's error, for the two records of the call; Publish (the
// Watermill path, which waits) returns the error too. Once the broker
// accepts records again the producer writes them (it reloads its producer
// id, the refused batches having left a gap in its sequence numbers), and
// Close returns promptly, leaving no goroutine behind.
func TestProduceFailure(t *testing.T) {
	cluster, addr := newCluster(t)
	if _, err := kadm.NewClient(client(t, addr)).CreateTopic(t.Context(), 1, 1, nil, "out"); err != nil {
		t.Fatal(err)
	}
	var refuse atomic.Bool
	refuse.Store(true)
	cluster.ControlKey(int16(kmsg.Produce), func(req kmsg.Request) (kmsg.Response, error, bool) {
		cluster.KeepControl()
		if !refuse.Load() {
			return nil, nil, false
		}
		return answer(req, kerr.InvalidRecord.Code), nil, true
	})
	goroutines := runtime.NumGoroutine()
	p, err := NewBatchPublisher(BatchPublisherConfig{Brokers: []string{addr}, DeliveryTimeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	var calls atomic.Int32
	done := make(chan error, 2)
	start := time.Now()
	p.Produce([]*engine.Record{{Topic: "out", Value: []byte("a")}, {Topic: "out", Value: []byte("b")}}, func(err error) {
		calls.Add(1)
		done <- err
	})
	if d := time.Since(start); d > 100*time.Millisecond {
		t.Errorf("Produce took %v: it must not wait", d)
	}
	select {
	case err := <-done:
		if !errors.Is(err, kerr.InvalidRecord) {
			t.Errorf("done(%v), want INVALID_RECORD", err)
		}
	case <-time.After(quickly):
		t.Fatal("done was not called")
	}
	if err := p.Publish("out", message.NewMessage("m", []byte("c"))); !errors.Is(err, kerr.InvalidRecord) {
		t.Errorf("Publish: %v, want INVALID_RECORD", err)
	}

	refuse.Store(false)
	p.Produce([]*engine.Record{{Topic: "out", Value: []byte("d")}}, func(err error) {
		calls.Add(1)
		done <- err
	})
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("a produce once the broker accepts again: %v", err)
		}
	case <-time.After(quickly):
		t.Fatal("done was not called")
	}
	if n := calls.Load(); n != 2 {
		t.Errorf("done called %d times for two calls", n)
	}
	start = time.Now()
	if err := p.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("Close took %v", d)
	}
	waitFor(t, quickly, "the producer's goroutines to end", func() bool { return runtime.NumGoroutine() <= goroutines })
}

// toKafka keeps each record's headers, in order, whether they fit the
// room given or not, and no record's headers run into another's.
func TestToKafkaHeaders(t *testing.T) {
	for _, n := range []int{0, 1, 3, 4, 9} {
		recs := []*engine.Record{{Topic: "a"}, {Topic: "b"}}
		for i := range n {
			recs[0].Headers.Add(fmt.Sprint("a", i), "x")
			recs[1].Headers.Add(fmt.Sprint("b", i), "y")
		}
		dst := make([]kgo.Record, len(recs))
		var room [4]kgo.RecordHeader
		toKafka(dst, room[:], recs)
		for i, r := range recs {
			if dst[i].Topic != r.Topic || len(dst[i].Headers) != len(r.Headers) || cap(dst[i].Headers) != len(r.Headers) {
				t.Fatalf("%d headers: record %d has %d (cap %d)", n, i, len(dst[i].Headers), cap(dst[i].Headers))
			}
			for j, h := range r.Headers {
				if dst[i].Headers[j].Key != h.Key || string(dst[i].Headers[j].Value) != string(h.Value) {
					t.Errorf("%d headers: record %d header %d is %v", n, i, j, dst[i].Headers[j])
				}
			}
		}
	}
}

// A topic that takes less than the producer's limit gets a producer of
// its own: a record too large for it is refused (for good: Rejected)
// while the same record is written to a topic that takes it, and records
// batched with the refused one are written.
func TestTopicMaxMessageBytes(t *testing.T) {
	_, addr := newCluster(t)
	if _, err := kadm.NewClient(client(t, addr)).CreateTopic(t.Context(), 1, 1, nil, "small"); err != nil {
		t.Fatal(err)
	}
	if _, err := kadm.NewClient(client(t, addr)).CreateTopic(t.Context(), 1, 1, nil, "wide"); err != nil {
		t.Fatal(err)
	}
	p, err := NewBatchPublisher(BatchPublisherConfig{Brokers: []string{addr}, DeliveryTimeout: 10 * time.Second,
		TopicMaxMessageBytes: map[string]int{"small": 4096, "wide": 2_000_000}})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if len(p.clients) != 2 || p.clientFor("small") == p.cl || p.clientFor("wide") != p.cl {
		t.Fatalf("%d producers; small's is the default: %v; wide's: %v", len(p.clients), p.clientFor("small") == p.cl, p.clientFor("wide") == p.cl)
	}
	big := bytes.Repeat([]byte("x"), 10_000)
	produce := func(recs ...*engine.Record) error { return produceWith(t, p, recs...) }
	if err := produce(&engine.Record{Topic: "wide", Value: big}); err != nil {
		t.Errorf("a 10 kB record to a topic that takes it: %v", err)
	}
	if err := produce(&engine.Record{Topic: "small", Value: big}); !engine.IsRejected(err) {
		t.Errorf("a 10 kB record to a topic that takes 4 kB: %v, want refused for good", err)
	}
	for range 3 {
		if err := produce(&engine.Record{Topic: "small", Value: []byte("fits")}); err != nil {
			t.Errorf("a small record after the refused one: %v", err)
		}
	}
}
