package kafka

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/millrace-dev/millrace/pipeline/engine"
	"github.com/millrace-dev/millrace/transforms"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"golang.org/x/time/rate"
)

// bounded returns a bounded subscriber of ranges on addr.
func bounded(t *testing.T, addr string, cfg ConcurrentSubscriberConfig) *ConcurrentSubscriber {
	t.Helper()
	cfg.Brokers = []string{addr}
	sub, err := NewConcurrentSubscriber(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sub.Close() })
	return sub
}

// ended waits for Consume's channel and returns what it yielded.
func ended(t *testing.T, done <-chan error) error {
	t.Helper()
	select {
	case err := <-done:
		if _, open := <-done; open {
			t.Error("Consume's channel yielded twice")
		}
		return err
	case <-time.After(30 * time.Second):
		t.Fatal("the read did not end")
		return nil
	}
}

// A bounded read hands out exactly the records of its ranges, in key order
// per partition and never more than MaxInFlight of a partition at once;
// a record settled as not done comes again (the same record, attempts
// counted) and is counted delivered once. When every record is settled,
// Done closes, every range is complete at its end, and the read ends by
// itself: Consume's channel yields nil without a cancel.
func TestBoundedRanges(t *testing.T) {
	_, addr := newCluster(t)
	produce(t, addr, "in", 3, 100)
	const window = 8
	sub := bounded(t, addr, ConcurrentSubscriberConfig{
		Ranges:      []Range{{Partition: 1, Start: 0, End: 100}, {Partition: 0, Start: 10, End: 50}, {Partition: 2, Start: 40, End: 40}},
		MaxInFlight: window, NackResendSleep: time.Millisecond,
	})
	var mu sync.Mutex
	seen := map[string]int{}    // value → times settled done
	busy := map[string]bool{}   // partition/key in process
	last := map[string]int64{}  // partition/key → last offset handed out
	inflight := map[int32]int{} // by partition
	attempts := map[*engine.Record]int{}
	var peak atomic.Int64
	done, err := sub.Consume(t.Context(), "in", 4, func(rec *engine.Record, settle func(engine.Result)) {
		k := fmt.Sprintf("%d/%s", rec.Partition, rec.Key)
		mu.Lock()
		if busy[k] {
			t.Errorf("two records of key %s in process", k)
		}
		if off, ok := last[k]; ok && rec.Offset < off {
			t.Errorf("key %s: offset %d after %d", k, rec.Offset, off)
		}
		busy[k], last[k] = true, rec.Offset
		inflight[rec.Partition]++
		if n := int64(inflight[rec.Partition]); n > peak.Load() {
			peak.Store(n)
		}
		attempts[rec]++
		mu.Unlock()
		go func() {
			time.Sleep(time.Duration(rand.IntN(2000)) * time.Microsecond)
			mu.Lock()
			busy[k] = false
			inflight[rec.Partition]--
			ok := rand.IntN(10) != 0
			if ok {
				seen[string(rec.Value)]++
			}
			mu.Unlock()
			settle(engine.Result{Done: ok})
		}()
	})
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-sub.Done():
	case <-time.After(30 * time.Second):
		t.Fatalf("not done: %+v", sub.Progress())
	}
	if err := ended(t, done); err != nil {
		t.Fatalf("a complete read ended with %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	want := map[string]bool{}
	for i := 10; i < 50; i++ {
		want[fmt.Sprintf("0/%d", i)] = true
	}
	for i := range 100 {
		want[fmt.Sprintf("1/%d", i)] = true
	}
	for v, n := range seen {
		if !want[v] {
			t.Errorf("record %s outside the ranges", v)
		}
		if n != 1 {
			t.Errorf("record %s settled done %d times", v, n)
		}
	}
	if len(seen) != len(want) {
		t.Errorf("%d records settled done, want %d", len(seen), len(want))
	}
	if p := peak.Load(); p > window {
		t.Errorf("%d records of a partition in process at once, MaxInFlight %d", p, window)
	}
	again := 0
	for _, n := range attempts {
		again += n - 1
	}
	if len(attempts) != len(want) || again == 0 {
		t.Errorf("%d distinct records handed out (want %d), %d handed out again (want some)", len(attempts), len(want), again)
	}
	wantProgress := []Progress{
		{Partition: 0, Start: 10, End: 50, Next: 50, Delivered: 40, Acked: 40, Complete: true},
		{Partition: 1, Start: 0, End: 100, Next: 100, Delivered: 100, Acked: 100, Complete: true},
		{Partition: 2, Start: 40, End: 40, Next: 40, Complete: true},
	}
	if got := sub.Progress(); !slices.Equal(got, wantProgress) {
		t.Errorf("progress\n got %+v\nwant %+v", got, wantProgress)
	}
	if sub.Err() != nil {
		t.Errorf("Err %v", sub.Err())
	}
}

// Stopping with records unsettled leaves Next at the end of the settled
// prefix, also through Subscribe (a Watermill channel); a read from there
// gets the rest of the range and nothing past its end, even though the
// partition holds more.
func TestBoundedStopAndResume(t *testing.T) {
	_, addr := newCluster(t)
	produce(t, addr, "in", 1, 50)
	read := func(start int64, hold int64) ([]int64, Progress) {
		sub := bounded(t, addr, ConcurrentSubscriberConfig{
			Ranges: []Range{{Partition: 0, Start: start, End: 40}}, MaxInFlight: 4, ShutdownTimeout: 200 * time.Millisecond,
		})
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		msgs, err := sub.Subscribe(ctx, "in")
		if err != nil {
			t.Fatal(err)
		}
		var offs []int64
		for msg := range msgs {
			rec := engine.RecordOf(msg)
			if hold >= 0 && rec.Offset >= hold {
				// Left unsettled: with 4 in flight the next three
				// still come.
				if rec.Offset == hold+3 {
					cancel()
				}
				continue
			}
			offs = append(offs, rec.Offset)
			msg.Ack()
		}
		_ = sub.Close()
		return offs, sub.Progress()[0]
	}
	_, p := read(5, 20)
	if p.Next != 20 || p.Complete || p.Delivered != 19 || p.Acked != 15 {
		t.Fatalf("after stopping at 20: %+v", p)
	}
	offs, p := read(p.Next, -1)
	slices.Sort(offs) // keys run concurrently
	if len(offs) != 20 || offs[0] != 20 || offs[len(offs)-1] != 39 {
		t.Errorf("resumed read: %v", offs)
	}
	if !p.Complete || p.Next != 40 {
		t.Errorf("after resume: %+v", p)
	}
}

// Records Skip skips are never handed out and count as done; Skip sees
// the record as read, Rewrite changes it before the hand-out, and the
// record handed out is the one Skip saw (converted once).
func TestBoundedSkipAndRewrite(t *testing.T) {
	_, addr := newCluster(t)
	produce(t, addr, "in", 1, 20)
	var skipped sync.Map
	sub := bounded(t, addr, ConcurrentSubscriberConfig{
		Ranges: []Range{{Partition: 0, Start: 0, End: 20}},
		Skip: func(r *engine.Record) bool {
			if r.Offset%2 == 1 {
				skipped.Store(r.Offset, true)
				return true
			}
			skipped.Store(r, false)
			return false
		},
		Rewrite: func(r *engine.Record) {
			r.Headers = append(r.Headers, transforms.Header{Key: "rewritten", Value: []byte("yes")})
		},
	})
	var n atomic.Int64
	done, err := sub.Consume(t.Context(), "in", 2, func(rec *engine.Record, settle func(engine.Result)) {
		if rec.Offset%2 == 1 {
			t.Errorf("skipped offset %d handed out", rec.Offset)
		}
		if v, ok := skipped.Load(rec); !ok || v != false {
			t.Errorf("offset %d: not the record Skip saw", rec.Offset)
		}
		if v, _ := rec.Headers.Get("rewritten"); v != "yes" {
			t.Errorf("offset %d not rewritten: %v", rec.Offset, rec.Headers)
		}
		n.Add(1)
		settle(engine.Result{Done: true})
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := ended(t, done); err != nil {
		t.Fatal(err)
	}
	if p := sub.Progress()[0]; p.Skipped != 10 || p.Acked != 10 || p.Delivered != 10 || p.Next != 20 || !p.Complete || n.Load() != 10 {
		t.Errorf("progress %+v, %d processed", p, n.Load())
	}
}

// Control records (transaction markers) take offsets but are never
// handed out: a range whose last offset is a commit marker completes, with
// the marker counted in no count. An aborted transaction's records are
// read (the consumer reads uncommitted) and its marker skipped alike.
func TestBoundedControlRecords(t *testing.T) {
	_, addr := newCluster(t)
	cl := client(t, addr, kgo.TransactionalID("tx"), kgo.DefaultProduceTopic("in"), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if _, err := kadm.NewClient(cl).CreateTopic(t.Context(), 1, 1, nil, "in"); err != nil {
		t.Fatal(err)
	}
	for _, commit := range []kgo.TransactionEndTry{kgo.TryAbort, kgo.TryCommit} {
		if err := cl.BeginTransaction(); err != nil {
			t.Fatal(err)
		}
		for i := range 3 {
			if err := cl.ProduceSync(t.Context(), &kgo.Record{Value: []byte(strconv.Itoa(i))}).FirstErr(); err != nil {
				t.Fatal(err)
			}
		}
		if err := cl.EndTransaction(t.Context(), commit); err != nil {
			t.Fatal(err)
		}
	}
	ends, err := kadm.NewClient(cl).ListEndOffsets(t.Context(), "in")
	if err != nil {
		t.Fatal(err)
	}
	end, _ := ends.Lookup("in", 0)
	if end.Offset != 8 {
		t.Fatalf("end offset %d, want 8: two transactions of three records and a marker each", end.Offset)
	}
	sub := bounded(t, addr, ConcurrentSubscriberConfig{Ranges: []Range{{Partition: 0, Start: 0, End: end.Offset}}})
	var offs []int64
	var mu sync.Mutex
	done, err := sub.Consume(t.Context(), "in", 1, func(rec *engine.Record, settle func(engine.Result)) {
		mu.Lock()
		offs = append(offs, rec.Offset)
		mu.Unlock()
		settle(engine.Result{Done: true})
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := ended(t, done); err != nil {
		t.Fatal(err)
	}
	slices.Sort(offs)
	if !slices.Equal(offs, []int64{0, 1, 2, 4, 5, 6}) {
		t.Errorf("handed out %v, want the six data records", offs)
	}
	if p := sub.Progress()[0]; !p.Complete || p.Next != 8 || p.Acked != 6 || p.Delivered != 6 || p.Skipped != 0 {
		t.Errorf("progress %+v", p)
	}
}

// An offset of the range deleted before it is read is an error that ends
// the read (kerr.OffsetOutOfRange through Err and Consume's channel),
// never a silent jump to the log start: nothing is handed out, nothing is
// complete, and Done stays open.
func TestBoundedDeletedOffset(t *testing.T) {
	_, addr := newCluster(t)
	produce(t, addr, "in", 1, 20)
	res, err := kadm.NewClient(client(t, addr)).DeleteRecords(t.Context(), kadm.Offsets{"in": {0: {Topic: "in", Partition: 0, At: 10, LeaderEpoch: -1}}})
	if err != nil || res.Error() != nil {
		t.Fatalf("delete records: %v %v", err, res.Error())
	}
	sub := bounded(t, addr, ConcurrentSubscriberConfig{Ranges: []Range{{Partition: 0, Start: 5, End: 20}}})
	done, err := sub.Consume(t.Context(), "in", 1, func(rec *engine.Record, settle func(engine.Result)) {
		t.Errorf("offset %d handed out", rec.Offset)
		settle(engine.Result{Done: true})
	})
	if err != nil {
		t.Fatal(err)
	}
	err = ended(t, done)
	if !errors.Is(err, kerr.OffsetOutOfRange) || !strings.Contains(err.Error(), "read in partition 0") {
		t.Errorf("Consume ended with %v, want offset out of range", err)
	}
	if !errors.Is(sub.Err(), kerr.OffsetOutOfRange) {
		t.Errorf("Err %v", sub.Err())
	}
	select {
	case <-sub.Done():
		t.Error("Done closed after a failed read")
	default:
	}
	if p := sub.Progress()[0]; p.Complete || p.Next != 5 || p.Delivered != 0 {
		t.Errorf("progress %+v", p)
	}
}

// The Limiter paces the hand-out: at 200 records a second with a burst of
// one, 40 records take about 0.2s. Subscribe, which hands out from the
// loop, refuses a Limiter.
func TestBoundedLimiter(t *testing.T) {
	_, addr := newCluster(t)
	produce(t, addr, "in", 1, 40)
	lim := rate.NewLimiter(200, 1)
	sub := bounded(t, addr, ConcurrentSubscriberConfig{Ranges: []Range{{Partition: 0, Start: 0, End: 40}}, Limiter: lim})
	if _, err := sub.Subscribe(t.Context(), "in"); err == nil {
		t.Error("Subscribe took a Limiter")
	}
	start := time.Now()
	done, err := sub.Consume(t.Context(), "in", 4, func(_ *engine.Record, settle func(engine.Result)) { settle(engine.Result{Done: true}) })
	if err != nil {
		t.Fatal(err)
	}
	if err := ended(t, done); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < 150*time.Millisecond {
		t.Errorf("40 records at 200/s in %v", d)
	}
	if p := sub.Progress()[0]; !p.Complete || p.Acked != 40 {
		t.Errorf("progress %+v", p)
	}
}

// A subscriber has exactly one mode, its ranges are valid, and a bounded
// subscriber reads them once.
func TestBoundedConfig(t *testing.T) {
	for _, c := range []struct {
		cfg  ConcurrentSubscriberConfig
		want string
	}{
		{ConcurrentSubscriberConfig{}, "no brokers"},
		{ConcurrentSubscriberConfig{Brokers: []string{"x"}}, "neither a consumer group nor ranges"},
		{ConcurrentSubscriberConfig{Brokers: []string{"x"}, Group: "g", Ranges: []Range{{}}}, "a consumer group and ranges"},
		{ConcurrentSubscriberConfig{Brokers: []string{"x"}, Ranges: []Range{{Partition: 1}, {Partition: 1}}}, "partition 1 given twice"},
		{ConcurrentSubscriberConfig{Brokers: []string{"x"}, Ranges: []Range{{Start: -1, End: 3}}}, "negative offset"},
	} {
		if _, err := NewConcurrentSubscriber(c.cfg); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v, want %q", c.cfg, err, c.want)
		}
	}
	_, addr := newCluster(t)
	produce(t, addr, "in", 1, 1)
	sub := bounded(t, addr, ConcurrentSubscriberConfig{Ranges: []Range{{Partition: 0, Start: 0, End: 1}}})
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	if _, err := sub.Subscribe(ctx, "in"); err != nil {
		t.Fatal(err)
	}
	if _, err := sub.Consume(ctx, "in", 1, func(*engine.Record, func(engine.Result)) {}); err == nil || !strings.Contains(err.Error(), "read once") {
		t.Errorf("a second read: %v", err)
	}
}
