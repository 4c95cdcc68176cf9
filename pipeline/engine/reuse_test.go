package engine_test

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/millrace-dev/millrace/pipeline/engine"
	"github.com/millrace-dev/millrace/transforms"
)

// With Config.ReuseWork, a record's outputs are reused only once it is
// settled: records run on several goroutines, their produces are
// acknowledged late, out of order, some after a failure and a retry, and
// every output is what a fresh engine writes for its input, unchanged
// from the produce to its acknowledgement.
func TestReuseWork(t *testing.T) {
	const n = 3000
	inputs := make([]*engine.Record, n)
	for i := range inputs {
		inputs[i] = reuseInput(i)
	}

	want := map[string]snapshot{}
	fresh := &producer{}
	e := newEngine(t, benchYAML, fresh, nil)
	for _, in := range inputs {
		process(e, cloneRecord(in))
	}
	for _, o := range fresh.got {
		want[string(o.Key)] = snap(o)
	}

	lag := newLaggard(t)
	e = newEngine(t, benchYAML, lag, reuseWork)
	var wg sync.WaitGroup
	settled := make([]int, n)
	var mu sync.Mutex
	feed := make(chan int)
	for range 4 {
		wg.Go(func() {
			for i := range feed {
				wg.Add(1)
				e.Process(cloneRecord(inputs[i]), func(r engine.Result) {
					defer wg.Done()
					if !r.Done {
						t.Errorf("record %d not done: %v", i, r.Err)
					}
					mu.Lock()
					settled[i]++
					mu.Unlock()
				})
			}
		})
	}
	for i := range n {
		feed <- i
	}
	close(feed)
	wg.Wait()
	lag.stop()

	for i, c := range settled {
		if c != 1 {
			t.Errorf("record %d settled %d times", i, c)
		}
	}
	got := lag.acked()
	if len(got) != len(want) {
		t.Errorf("%d records acknowledged, want %d", len(got), len(want))
	}
	for k, w := range want {
		if g, ok := got[k]; !ok || !g.equal(w) {
			t.Errorf("record %s: wrote\n%s\nwant\n%s", k, g, w)
		}
	}
	if lag.retried == 0 {
		t.Error("no produce failed: the test does not cover retries")
	}
}

// reuseInput is record i of TestReuseWork: most pass the chain; some are
// filtered, fail it (dead letters), are not JSON, or are large, so that
// reused buffers grow.
func reuseInput(i int) *engine.Record {
	amount := fmt.Sprintf("%d.%02d", i%500, i%100)
	switch {
	case i%10 == 0:
		amount = "0"
	case i%13 == 0:
		amount = `"ten"`
	}
	debug := "worker-07"
	if i%17 == 0 {
		debug = strings.Repeat("x", 3000+i)
	}
	value := fmt.Sprintf(`{"id":"evt-%d","user":"user-%d","amount":%s,"debug":{"host":%q},"ts":%d}`, i, i%77, amount, debug, 1709283600123+i)
	if i%19 == 0 {
		value = value[:len(value)-1] // not JSON: the full path's dead letter
	}
	tp := fmt.Sprintf("00-%032x-%016x-01", i+1, i+1)
	return &engine.Record{Topic: "in", Offset: int64(i), Key: fmt.Appendf(nil, "k-%d", i), Value: []byte(value),
		Headers: transforms.HeadersOf("source", "test", "traceparent", tp), Timestamp: time.UnixMilli(int64(1709283600123 + i))}
}

func cloneRecord(r *engine.Record) *engine.Record {
	c := *r
	c.Headers = append(make(transforms.Headers, 0, len(r.Headers)+1), r.Headers...)
	return &c
}

// snapshot is a copy of what an output holds.
type snapshot struct {
	topic, key, value string
	headers           []string
}

func snap(r *engine.Record) snapshot {
	s := snapshot{topic: r.Topic, key: string(r.Key), value: string(r.Value)}
	for _, h := range r.Headers {
		s.headers = append(s.headers, h.Key+"="+string(h.Value))
	}
	return s
}

// equal compares two outputs, but for a dead letter's time and attempts.
func (s snapshot) equal(o snapshot) bool {
	if s.topic != o.topic || s.key != o.key || s.value != o.value || len(s.headers) != len(o.headers) {
		return false
	}
	for i := range s.headers {
		if s.headers[i] != o.headers[i] && !strings.HasPrefix(s.headers[i], "millrace.attempts=") && !strings.HasPrefix(s.headers[i], "millrace.failed_at=") {
			return false
		}
	}
	return true
}

func (s snapshot) String() string {
	return fmt.Sprintf("%s %s %s %v", s.topic, s.key, s.value, s.headers)
}

// laggard acknowledges produces late, on other goroutines, in no order;
// the first produce of one call in seven fails (the engine retries it). Before it acks, it
// checks that the outputs did not change since the produce.
type laggard struct {
	t       *testing.T
	mu      sync.Mutex
	calls   int
	retried int
	got     map[string]snapshot
	failed  map[string]bool
	queue   chan func()
	wg      sync.WaitGroup
}

func newLaggard(t *testing.T) *laggard {
	l := &laggard{t: t, got: map[string]snapshot{}, failed: map[string]bool{}, queue: make(chan func(), 64)}
	for range 3 {
		l.wg.Go(func() {
			for f := range l.queue {
				time.Sleep(time.Duration(rand.IntN(200)) * time.Microsecond)
				f()
			}
		})
	}
	return l
}

func (l *laggard) Produce(recs []*engine.Record, done func(error)) {
	snaps := make([]snapshot, len(recs))
	for i, r := range recs {
		snaps[i] = snap(r)
	}
	l.mu.Lock()
	l.calls++
	// The first produce of one call in seven fails, never a retry.
	fail := l.calls%7 == 0 && !l.failed[snaps[0].key]
	if fail {
		l.failed[snaps[0].key] = true
	}
	l.mu.Unlock()
	l.queue <- func() {
		for i, r := range recs {
			if now := snap(r); !now.equal(snaps[i]) || !bytes.Equal(r.Value, []byte(snaps[i].value)) {
				l.t.Errorf("an output changed while in flight:\n%s\nwas\n%s", now, snaps[i])
			}
		}
		if fail {
			l.mu.Lock()
			l.retried++
			l.mu.Unlock()
			done(errors.New("broker busy"))
			return
		}
		l.mu.Lock()
		for _, s := range snaps {
			l.got[s.key] = s
		}
		l.mu.Unlock()
		done(nil)
	}
}

func (l *laggard) stop() {
	close(l.queue)
	l.wg.Wait()
}

func (l *laggard) acked() map[string]snapshot {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.got
}
