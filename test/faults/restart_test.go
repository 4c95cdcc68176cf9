package faults

import (
	"context"
	"fmt"
	"math/rand/v2"
	"regexp"
	"strings"
	"testing"
	"time"
)

// A runner killed with SIGKILL ten times during a drain, restarted each
// time: nothing is missing, no key's order skips, and the duplicates stay
// within what was in flight (each kill: max_in_flight per partition) plus
// what was acknowledged after the last commit.
func TestSIGKILLLoop(t *testing.T) {
	needFaults(t)
	restartLoop(t, "SIGKILL ×10 during a drain", false)
}

// The same with SIGTERM: a clean stop finishes what is in flight and
// commits it, so there are no duplicates at all; the runner leaves the
// consumer group, so the next one gets the partitions at once.
func TestSIGTERMLoop(t *testing.T) {
	needFaults(t)
	restartLoop(t, "SIGTERM ×10 during a drain", true)
}

func restartLoop(t *testing.T, scenario string, clean bool) {
	const stops, parts, inFlight = 10, 6, 256
	n := pick(100_000, 300_000)
	l := newLoad(t, parts, nil)
	l.backlog(n)
	// Live input besides the backlog, so that the runners stop while
	// there is work (a runner drains a small backlog in well under a
	// second).
	liveCtx, stopLive := context.WithCancel(context.Background())
	liveDone := make(chan struct{})
	go func() { l.prod.Live(liveCtx, pick(5_000, 10_000)); close(liveDone) }()
	defer func() { stopLive(); <-liveDone }()
	f := figures{scenario: scenario}
	logFrom := brokerOf.serverLogSize()
	// Each runner gets about a twelfth of the drain before it is stopped,
	// so that the ten stops fall inside it; it must commit on every
	// partition first, as a runner that has done work would.
	share := int64(n / (stops + 2))
	var stopTimes []time.Duration
	for i := range stops {
		from := l.committed()
		r := startRunner(t, l.pipe(), nil)
		rec, ok := l.waitProgress(from, share, 90*time.Second)
		if !ok {
			t.Fatalf("run %d: the runner made no progress on every partition within 90s (recovery so far %s)", i+1, rec)
		}
		f.recovery = append(f.recovery, rec)
		time.Sleep(time.Duration(500+rand.IntN(1000)) * time.Millisecond)
		if r.peak.Load() > f.peakRSS {
			f.peakRSS = r.peak.Load()
		}
		if clean {
			d, code := r.term(60 * time.Second)
			if code != 0 {
				t.Errorf("run %d: exit code %d after SIGTERM", i+1, code)
			}
			stopTimes = append(stopTimes, d)
		} else {
			r.kill()
		}
	}
	stopLive()
	<-liveDone
	from := l.committed()
	lagLeft := l.lag()
	r := startRunner(t, l.pipe(), nil)
	if rec, _ := l.waitProgress(from, 1, 90*time.Second); lagLeft > 0 {
		f.recovery = append(f.recovery, rec)
	}
	waitLag(t, l.group, l.in, parts, 5*time.Minute)
	if d, code := r.term(60 * time.Second); code != 0 {
		t.Errorf("last run: exit code %d after SIGTERM (%s)", code, d)
	}
	f.peakRSS = max(f.peakRSS, r.peak.Load())
	f.rep = l.check()
	bound := stops * parts * inFlight
	if clean {
		bound = 0
		lo, hi := stopTimes[0], stopTimes[0]
		for _, d := range stopTimes {
			lo, hi = min(lo, d), max(hi, d)
		}
		f.note("stop %.1f–%.1fs", lo.Seconds(), hi.Seconds())
	}
	// How the broker saw each runner go: a LeaveGroup, or a member whose
	// session expired.
	left, expired := groupDepartures(brokerOf.serverLog(logFrom), l.group)
	f.note("broker: %d LeaveGroup, %d session expiries", left, expired)
	if clean && expired > 0 {
		t.Errorf("%d of %d stopped runners did not leave the group (their sessions expired)", expired, stops)
	}
	f.note("duplicate bound %d", bound)
	var recs []string
	for _, d := range f.recovery {
		recs = append(recs, fmt.Sprintf("%.1f", d.Seconds()))
	}
	t.Logf("recovery per run (s): %s", strings.Join(recs, " "))
	expect(t, f.rep, bound)
	f.done(t)
}

// groupDepartures counts, in the broker's log, the members of group that
// left with a LeaveGroup and those removed when their session expired.
func groupDepartures(log, group string) (left, expired int) {
	re := regexp.MustCompile(`\[GroupCoordinator id=\d+\] (.*)`)
	for _, line := range strings.Split(log, "\n") {
		if !strings.Contains(line, group) {
			continue
		}
		m := re.FindStringSubmatch(line)
		text := line
		if m != nil {
			text = m[1]
		}
		switch {
		case strings.Contains(text, "LeaveGroup"):
			left++
		case strings.Contains(text, "has failed, removing it"), strings.Contains(text, "session expired"):
			expired++
		}
	}
	return left, expired
}
