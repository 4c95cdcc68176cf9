package faults

import (
	"context"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/millrace-dev/millrace/test/faults/verify"
)

// Three runners in one group under live input; every few seconds one is
// stopped (SIGTERM or SIGKILL, at random) and another started, eight
// times: nothing is missing, no key's order skips, and the duplicates
// stay within the in-flight windows of the killed runners.
func TestChurn(t *testing.T) {
	needFaults(t)
	const parts, steps, inFlight = 6, 8, 256
	l := newLoad(t, parts, &verify.Gen{Keys: 500, Pad: 100})
	l.backlog(pick(20_000, 200_000))
	liveCtx, stopLive := context.WithCancel(context.Background())
	liveDone := make(chan struct{})
	go func() { l.prod.Live(liveCtx, pick(3_000, 10_000)); close(liveDone) }()
	defer func() { stopLive(); <-liveDone }()
	f := figures{scenario: "3 runners, one stopped and one started ×8"}
	var rs []*runner
	for range 3 {
		rs = append(rs, startRunner(t, l.pipe(), nil))
	}
	kills, terms := 0, 0
	for range steps {
		time.Sleep(time.Duration(pick(1000, 2000)+rand.IntN(pick(1000, 2000))) * time.Millisecond)
		i := rand.IntN(len(rs))
		r := rs[i]
		f.peakRSS = max(f.peakRSS, r.peak.Load())
		if rand.IntN(2) == 0 {
			r.kill()
			kills++
		} else {
			if _, code := r.term(60 * time.Second); code != 0 {
				t.Errorf("exit code %d after SIGTERM", code)
			}
			terms++
		}
		from := l.committed()
		rs[i] = startRunner(t, l.pipe(), nil)
		start := time.Now()
		if _, ok := l.waitProgress(from, 1, 60*time.Second); !ok {
			t.Fatalf("the group made no progress within 60s of a change")
		}
		f.recovery = append(f.recovery, time.Since(start))
	}
	stopLive()
	<-liveDone
	waitLag(t, l.group, l.in, parts, 2*time.Minute)
	for _, r := range rs {
		f.peakRSS = max(f.peakRSS, r.peak.Load())
		if _, code := r.term(60 * time.Second); code != 0 {
			t.Errorf("exit code %d", code)
		}
	}
	f.rep = l.check()
	f.note("%d SIGKILL, %d SIGTERM; recovery: until every partition moved again", kills, terms)
	expect(t, f.rep, (kills+1)*parts*inFlight)
	f.done(t)
}
