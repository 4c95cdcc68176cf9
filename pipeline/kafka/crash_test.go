package kafka

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/millrace-dev/millrace/pipeline/engine"
	"github.com/millrace-dev/millrace/transforms"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
)

// crashSetup writes n records {"i":offset} to "in" (one partition) and
// commits offset at for group "g" with metadata md, as a runner that died
// with the record at `at` in flight left it; a negative at commits nothing.
func crashSetup(t *testing.T, n int, at int64, md string) string {
	t.Helper()
	_, addr := newCluster(t, kfake.SeedTopics(1, "out", "dlq"))
	cl := client(t, addr)
	if _, err := kadm.NewClient(cl).CreateTopic(t.Context(), 1, 1, nil, "in"); err != nil {
		t.Fatal(err)
	}
	var recs []*kgo.Record
	for i := range n {
		recs = append(recs, &kgo.Record{Topic: "in", Key: fmt.Appendf(nil, "k%d", i%3), Value: fmt.Appendf(nil, `{"i":%d}`, i),
			Headers: []kgo.RecordHeader{{Key: "h", Value: []byte("v")}}})
	}
	if err := cl.ProduceSync(t.Context(), recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
	if at < 0 {
		return addr // a group without a committed offset
	}
	var os kadm.Offsets
	os.Add(kadm.Offset{Topic: "in", Partition: 0, At: at, LeaderEpoch: -1, Metadata: md})
	if err := kadm.NewClient(cl).CommitAllOffsets(t.Context(), "g", os); err != nil {
		t.Fatal(err)
	}
	return addr
}

// commitOf is group g's committed offset of partition 0 of "in" and its
// metadata; -1 while there is none.
func commitOf(t *testing.T, addr string) (int64, string) {
	t.Helper()
	res, err := kadm.NewClient(client(t, addr)).FetchOffsetsForTopics(t.Context(), "g", "in")
	if errors.Is(err, kerr.GroupIDNotFound) {
		return -1, ""
	}
	if err != nil {
		t.Fatal(err)
	}
	o, _ := res.Lookup("in", 0)
	return o.At, o.Metadata
}

// crashRun consumes "in" with MaxCrashes 3 through an engine that writes
// to "out" and dead-letters to "dlq"; hold, if set, is called with each
// record before it is processed, on the worker; opts amend the config.
type crashRun struct {
	sub       *ConcurrentSubscriber
	done      <-chan error
	mu        sync.Mutex
	processed []int64
}

func startCrashRun(t *testing.T, addr string, ordering Ordering, hold func(*engine.Record), opts ...func(*ConcurrentSubscriberConfig)) *crashRun {
	t.Helper()
	bp, err := NewBatchPublisher(BatchPublisherConfig{Brokers: []string{addr}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { bp.Close() })
	eng, err := engine.New(engine.Config{
		Pipeline:        "p",
		InputTopic:      "in",
		Destination:     func(*transforms.Record) (string, error) { return "out", nil },
		DeadLetterTopic: "dlq",
		Producer:        bp,
		NoProduceRetry:  true,
	})
	if err != nil {
		t.Fatal(err)
	}
	r := &crashRun{}
	cfg := ConcurrentSubscriberConfig{
		Brokers: []string{addr}, Group: "g", Start: "oldest", Ordering: ordering, Pipelined: ordering != OrderNone,
		NackResendSleep: 10 * time.Millisecond, CommitInterval: time.Millisecond,
		MaxCrashes: 3,
		Poisoned: func(rec *engine.Record, crashes int, settle func(engine.Result)) {
			eng.DeadLetter(rec, CrashReason(crashes), settle)
		},
	}
	for _, o := range opts {
		o(&cfg)
	}
	r.sub, err = NewConcurrentSubscriber(cfg)
	if err != nil {
		t.Fatal(err)
	}
	r.done, err = r.sub.Consume(t.Context(), "in", 4, func(rec *engine.Record, settle func(engine.Result)) {
		if hold != nil {
			hold(rec)
		}
		r.mu.Lock()
		r.processed = append(r.processed, rec.Offset)
		r.mu.Unlock()
		eng.Process(rec, settle)
	})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func (r *crashRun) stop(t *testing.T) []int64 {
	t.Helper()
	r.sub.Close()
	if err := <-r.done; err != nil {
		t.Errorf("consume: %v", err)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Sorted(slices.Values(r.processed))
}

// readAll reads the records of topic, until it has n or for quickly.
func readAll(t *testing.T, addr, topic string, n int) []*kgo.Record {
	t.Helper()
	rd := client(t, addr, kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	var out []*kgo.Record
	ctx, cancel := context.WithTimeout(t.Context(), quickly)
	defer cancel()
	for len(out) < n && ctx.Err() == nil {
		out = append(out, rd.PollFetches(ctx).Records()...)
	}
	return out
}

func header(r *kgo.Record, key string) string {
	for _, h := range r.Headers {
		if h.Key == key {
			return string(h.Value)
		}
	}
	return ""
}

// The runner died 3 times with the record at the committed offset in
// flight (the count is 3): the next start dead-letters it unprocessed,
// byte for byte, and goes on with the records after it; the commit that
// moves the offset resets the count.
func TestCrashesDeadLetterTheRecordAtTheCommittedOffset(t *testing.T) {
	addr := crashSetup(t, 5, 2, crashMetadata(3))
	r := startCrashRun(t, addr, OrderKey, nil)
	waitFor(t, 30*time.Second, "offset 5 committed", func() bool { o, _ := commitOf(t, addr); return o == 5 })
	if got := r.stop(t); !slices.Equal(got, []int64{3, 4}) {
		t.Errorf("processed %v, want [3 4]: the record at 2 is not processed", got)
	}
	if _, md := commitOf(t, addr); parseCrashes(md) != 0 {
		t.Errorf("metadata %q after the offset moved: the count is not reset", md)
	}
	dead := readAll(t, addr, "dlq", 1)
	if len(dead) != 1 {
		t.Fatalf("%d dead letters, want 1", len(dead))
	}
	d := dead[0]
	if string(d.Value) != `{"i":2}` || string(d.Key) != "k2" || d.Headers[0].Key != "h" || string(d.Headers[0].Value) != "v" {
		t.Errorf("dead letter %q %q %v: not the input byte for byte", d.Key, d.Value, d.Headers)
	}
	if got := header(d, engine.HeaderStep); got != engine.StepCrash {
		t.Errorf("%s = %q, want %q", engine.HeaderStep, got, engine.StepCrash)
	}
	if got, want := header(d, engine.HeaderError), "the runner died 3 times in a row while this record was in flight"; got != want {
		t.Errorf("%s = %q, want %q", engine.HeaderError, got, want)
	}
	if got := header(d, engine.HeaderSourceOffset); got != "2" {
		t.Errorf("%s = %q, want 2", engine.HeaderSourceOffset, got)
	}
	if outs := readAll(t, addr, "out", 2); len(outs) != 2 {
		t.Errorf("%d outputs, want 2", len(outs))
	}
}

// Below the limit the record is processed as usual, and the count is
// written (1 → 2) before it is.
func TestCrashesCountedBeforeTheRecordIsProcessed(t *testing.T) {
	addr := crashSetup(t, 5, 2, crashMetadata(1))
	var seen string
	r := startCrashRun(t, addr, OrderKey, func(rec *engine.Record) {
		if rec.Offset == 2 && seen == "" {
			_, seen = commitOf(t, addr)
		}
	})
	waitFor(t, 30*time.Second, "offset 5 committed", func() bool { o, _ := commitOf(t, addr); return o == 5 })
	if got := r.stop(t); !slices.Equal(got, []int64{2, 3, 4}) {
		t.Errorf("processed %v, want [2 3 4]", got)
	}
	if seen != crashMetadata(2) {
		t.Errorf("metadata while the record at 2 was processed: %q, want %q", seen, crashMetadata(2))
	}
	if _, md := commitOf(t, addr); parseCrashes(md) != 0 {
		t.Errorf("metadata %q after the offset moved: the count is not reset", md)
	}
	if dead := readAll(t, addr, "dlq", 1); len(dead) != 0 {
		t.Errorf("%d dead letters", len(dead))
	}
}

// At the limit (2 → 3) the record runs alone: nothing else of its
// partition is in flight, and its offset is committed before the others
// run, so that their crashes are not counted against it.
func TestCrashesAtTheLimitTheRecordRunsAlone(t *testing.T) {
	addr := crashSetup(t, 6, 2, crashMetadata(2))
	var mu sync.Mutex
	var others int
	var seen string
	release := make(chan struct{})
	r := startCrashRun(t, addr, OrderNone, func(rec *engine.Record) {
		if rec.Offset == 2 {
			_, seen = commitOf(t, addr)
			time.Sleep(200 * time.Millisecond) // the others would start now
			mu.Lock()
			n := others
			mu.Unlock()
			if n != 0 {
				t.Errorf("%d other records processed while the record at 2 ran alone", n)
			}
			close(release)
			return
		}
		select {
		case <-release:
		case <-time.After(quickly):
		}
		mu.Lock()
		others++
		mu.Unlock()
		if o, md := commitOf(t, addr); o < 3 || parseCrashes(md) != 0 {
			t.Errorf("record %d processed before offset 3 was committed with the count reset: %d %q", rec.Offset, o, md)
		}
	})
	waitFor(t, 30*time.Second, "offset 6 committed", func() bool { o, _ := commitOf(t, addr); return o == 6 })
	if got := r.stop(t); !slices.Equal(got, []int64{2, 3, 4, 5}) {
		t.Errorf("processed %v, want [2 3 4 5]", got)
	}
	if seen != crashMetadata(3) {
		t.Errorf("metadata while the record at 2 ran: %q, want %q", seen, crashMetadata(3))
	}
}

// A clean stop that did not move the offset writes the count back: a
// stop is no crash.
func TestCrashesCleanStopRestoresTheCount(t *testing.T) {
	addr := crashSetup(t, 3, 1, crashMetadata(1))
	started := make(chan struct{}, 16)
	bp, err := NewBatchPublisher(BatchPublisherConfig{Brokers: []string{addr}})
	if err != nil {
		t.Fatal(err)
	}
	defer bp.Close()
	sub, err := NewConcurrentSubscriber(ConcurrentSubscriberConfig{
		Brokers: []string{addr}, Group: "g", Ordering: OrderNone, NackResendSleep: 10 * time.Millisecond,
		MaxCrashes: 3,
		Poisoned:   func(_ *engine.Record, _ int, settle func(engine.Result)) { settle(engine.Result{Done: true}) },
	})
	if err != nil {
		t.Fatal(err)
	}
	done, err := sub.Consume(t.Context(), "in", 2, func(rec *engine.Record, settle func(engine.Result)) {
		if rec.Offset == 1 {
			select {
			case started <- struct{}{}:
			default:
			}
			settle(engine.Result{}) // never done
			return
		}
		settle(engine.Result{Done: true})
	})
	if err != nil {
		t.Fatal(err)
	}
	<-started
	if _, md := commitOf(t, addr); md != crashMetadata(2) {
		t.Errorf("metadata while running: %q, want %q", md, crashMetadata(2))
	}
	sub.Close()
	<-done
	if o, md := commitOf(t, addr); o != 1 || md != crashMetadata(1) {
		t.Errorf("after a clean stop: offset %d metadata %q, want 1 %q", o, md, crashMetadata(1))
	}
}

// crashWith runs group "g" from start until the record at offset at is in
// flight, then stops it with that record still in flight past the
// shutdown timeout: as when the runner dies with it, the count is not
// written back. Nothing is settled, so nothing moves the offset.
// running, if set, is called once the consumer is started.
func crashWith(t *testing.T, addr, start string, at int64, running func()) {
	t.Helper()
	inFlight := make(chan struct{})
	var once sync.Once
	sub, err := NewConcurrentSubscriber(ConcurrentSubscriberConfig{
		Brokers: []string{addr}, Group: "g", Start: start, Ordering: OrderNone,
		ShutdownTimeout: 200 * time.Millisecond, MaxCrashes: 3,
		Poisoned: func(*engine.Record, int, func(engine.Result)) { t.Error("a record was poisoned before the limit") },
	})
	if err != nil {
		t.Fatal(err)
	}
	done, err := sub.Consume(t.Context(), "in", 2, func(rec *engine.Record, _ func(engine.Result)) {
		if rec.Offset == at {
			once.Do(func() { close(inFlight) })
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if running != nil {
		running()
	}
	select {
	case <-inFlight:
	case <-time.After(30 * time.Second):
		t.Fatalf("the record at %d was not handed out", at)
	}
	sub.Close()
	<-done // the shutdown timeout's error: the record was in flight
}

// values are the values of recs, sorted.
func values(recs []*kgo.Record) []string {
	var vs []string
	for _, r := range recs {
		vs = append(vs, string(r.Value))
	}
	slices.Sort(vs)
	return vs
}

// A new group (no committed offset) whose first record kills the runner
// 3 times: the first start commits that record's offset with the count 1
// (the group had none to count in), the next ones raise it, and the
// fourth dead-letters the record; the records after it are processed
// once each.
func TestCrashesCountedFromAGroupWithoutOffsets(t *testing.T) {
	addr := crashSetup(t, 5, -1, "")
	for n := 1; n <= 3; n++ {
		crashWith(t, addr, "oldest", 0, nil)
		if o, md := commitOf(t, addr); o != 0 || md != crashMetadata(n) {
			t.Errorf("after crash %d: committed %d %q, want 0 %q", n, o, md, crashMetadata(n))
		}
	}
	r := startCrashRun(t, addr, OrderKey, nil)
	waitFor(t, 30*time.Second, "offset 5 committed", func() bool { o, _ := commitOf(t, addr); return o == 5 })
	if got := r.stop(t); !slices.Equal(got, []int64{1, 2, 3, 4}) {
		t.Errorf("processed %v, want [1 2 3 4]", got)
	}
	dead := readAll(t, addr, "dlq", 2)
	if len(dead) != 1 || string(dead[0].Value) != `{"i":0}` || header(dead[0], engine.HeaderStep) != engine.StepCrash {
		t.Fatalf("dead letters %v, want the record at 0 with step crash", values(dead))
	}
	if got, want := values(readAll(t, addr, "out", 5)), []string{`{"i":1}`, `{"i":2}`, `{"i":3}`, `{"i":4}`}; !slices.Equal(got, want) {
		t.Errorf("outputs %v, want %v", got, want)
	}
}

// An "oldest" group without an offset starts at the log start, here past
// deleted records: the commit made on assignment is that offset with the
// count 1 before the record is processed, and every record from there is
// processed once.
func TestCrashesOldestGroupStartsAtTheLogStart(t *testing.T) {
	addr := crashSetup(t, 5, -1, "")
	var del kadm.Offsets
	del.Add(kadm.Offset{Topic: "in", Partition: 0, At: 2, LeaderEpoch: -1})
	if res, err := kadm.NewClient(client(t, addr)).DeleteRecords(t.Context(), del); err != nil || res.Error() != nil {
		t.Fatalf("delete records: %v %v", err, res.Error())
	}
	var seen string
	r := startCrashRun(t, addr, OrderKey, func(rec *engine.Record) {
		if rec.Offset == 2 && seen == "" {
			o, md := commitOf(t, addr)
			seen = fmt.Sprintf("%d %s", o, md)
		}
	})
	waitFor(t, 30*time.Second, "offset 5 committed", func() bool { o, _ := commitOf(t, addr); return o == 5 })
	if got := r.stop(t); !slices.Equal(got, []int64{2, 3, 4}) {
		t.Errorf("processed %v, want [2 3 4]", got)
	}
	if want := "2 " + crashMetadata(1); seen != want {
		t.Errorf("committed while the record at 2 was processed: %q, want %q", seen, want)
	}
	if got, want := values(readAll(t, addr, "out", 4)), []string{`{"i":2}`, `{"i":3}`, `{"i":4}`}; !slices.Equal(got, want) {
		t.Errorf("outputs %v, want %v", got, want)
	}
}

// A "newest" group starts at the end it found on its first assignment,
// also after a runner that died before its first commit: the records
// written since are processed, none skipped for a later end, none of
// those before read.
func TestCrashesNewestGroupKeepsItsStart(t *testing.T) {
	addr := crashSetup(t, 3, -1, "")
	crashWith(t, addr, "newest", 3, func() {
		waitFor(t, 10*time.Second, "offset 3 committed on assignment", func() bool { o, _ := commitOf(t, addr); return o == 3 })
		cl := client(t, addr)
		for i := 3; i < 5; i++ {
			if err := cl.ProduceSync(t.Context(), &kgo.Record{Topic: "in", Value: fmt.Appendf(nil, `{"i":%d}`, i)}).FirstErr(); err != nil {
				t.Fatal(err)
			}
		}
	})
	if o, md := commitOf(t, addr); o != 3 || parseCrashes(md) != 0 {
		t.Errorf("after the crash: committed %d %q, want 3 and no count (the record was not there at the start)", o, md)
	}
	r := startCrashRun(t, addr, OrderKey, nil, func(c *ConcurrentSubscriberConfig) { c.Start = "newest" })
	waitFor(t, 30*time.Second, "offset 5 committed", func() bool { o, _ := commitOf(t, addr); return o == 5 })
	if got := r.stop(t); !slices.Equal(got, []int64{3, 4}) {
		t.Errorf("processed %v, want [3 4]", got)
	}
	if got, want := values(readAll(t, addr, "out", 3)), []string{`{"i":3}`, `{"i":4}`}; !slices.Equal(got, want) {
		t.Errorf("outputs %v, want %v", got, want)
	}
}
