package faults

import (
	"testing"
	"time"

	"github.com/millrace-dev/millrace/test/faults/verify"
)

// A slow downstream: a producer quota on the runner's client id (the
// broker throttles its produces) with a large backlog. The runner's
// memory stays within 256 MiB, the lag stays, nothing is dropped; once the
// quota is lifted everything arrives.
func TestSlowDownstream(t *testing.T) {
	needFaults(t)
	const parts, bound = 6, 256 << 20
	l := newLoad(t, parts, &verify.Gen{Keys: 500, Pad: 300})
	n := pick(150_000, 1_000_000)
	l.backlog(n)
	p := l.pipe()
	p.clientID = "millrace-faults-quota"
	rate := 200_000.0 // bytes a second
	setProducerQuota(t, p.clientID, rate)
	lifted := false
	defer func() {
		if !lifted {
			setProducerQuota(t, p.clientID, 0)
		}
	}()
	r := startRunner(t, p, nil)
	r.waitReady(200, 60*time.Second)
	hold := pick(20*time.Second, 60*time.Second)
	time.Sleep(hold)
	lag := l.lag()
	if lag <= 0 {
		t.Errorf("lag %d after %s under a %.0f kB/s quota: the quota did not slow the runner", lag, hold, rate/1000)
	}
	throttled := r.peak.Load()
	setProducerQuota(t, p.clientID, 0)
	lifted = true
	start := time.Now()
	waitLag(t, l.group, l.in, parts, 5*time.Minute)
	f := figures{scenario: "producer quota 200 kB/s on the runner's client id, large backlog"}
	f.recovery = append(f.recovery, time.Since(start))
	f.peakRSS = r.peak.Load()
	if _, code := r.term(60 * time.Second); code != 0 {
		t.Errorf("exit code %d", code)
	}
	if f.peakRSS > bound {
		t.Errorf("peak RSS %d MiB, above the bound %d MiB", f.peakRSS>>20, bound>>20)
	}
	f.note("%d records backlog; lag %d after %s throttled; peak RSS %d MiB throttled (bound 256); recovery: until drained after the quota was lifted", n, lag, hold, throttled>>20)
	f.rep = l.check()
	expect(t, f.rep, -1)
	f.done(t)
}
