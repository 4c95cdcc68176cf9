package faults

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"
)

// Kafka killed with SIGKILL and relaunched on the same data three times
// during a drain with live input: the runner stays up and finishes, /readyz
// is 503 while the broker is down and 200 after, and the lag is back to 0
// within 30s of each restart; nothing is missing.
func TestKafkaHardBounce(t *testing.T) {
	needFaults(t)
	const parts, bounces = 6, 3
	l := newLoad(t, parts, nil)
	l.backlog(pick(20_000, 200_000))
	liveCtx, stopLive := context.WithCancel(context.Background())
	liveDone := make(chan struct{})
	rate := pick(1_000, 5_000)
	go func() { l.prod.Live(liveCtx, rate); close(liveDone) }()
	defer func() { stopLive(); <-liveDone }()
	r := startRunner(t, l.pipe(), nil)
	r.waitReady(200, 60*time.Second)
	f := figures{scenario: "Kafka kill -9 ×3 under live input"}
	var down, up []string
	for i := range bounces {
		time.Sleep(time.Duration(1000+rand.IntN(1000)) * time.Millisecond)
		if err := brokerOf.kill9(); err != nil {
			t.Fatal(err)
		}
		killed := time.Now()
		d := r.waitReady(503, 30*time.Second)
		down = append(down, fmt.Sprintf("%.1f", d.Seconds()))
		if err := brokerOf.start(); err != nil {
			t.Fatalf("bounce %d: %v", i+1, err)
		}
		back := time.Now()
		t.Logf("bounce %d: broker down %.1fs", i+1, back.Sub(killed).Seconds())
		u := r.waitReady(200, 30*time.Second)
		up = append(up, fmt.Sprintf("%.1f", u.Seconds()))
		// Caught up within 30s of the restart: the lag down to what one
		// second of live input adds (it is never 0 while input flows).
		caught := false
		for time.Since(back) < 30*time.Second {
			if lag := l.lag(); lag >= 0 && lag <= int64(rate) {
				caught = true
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
		if !caught {
			t.Errorf("bounce %d: lag %d after 30s", i+1, l.lag())
		}
		if !r.alive() {
			t.Fatalf("bounce %d: the runner exited (%d)", i+1, r.code)
		}
		f.recovery = append(f.recovery, time.Since(back))
	}
	stopLive()
	<-liveDone
	last := time.Now()
	waitLag(t, l.group, l.in, parts, 60*time.Second)
	if d := time.Since(last); d > 30*time.Second {
		t.Errorf("lag back to 0 %.1fs after the last restart, want within 30s", d.Seconds())
	}
	f.note("recovery: lag caught up after each restart; /readyz 503 after %ss, 200 %ss after each restart", join(down), join(up))
	if _, code := r.term(60 * time.Second); code != 0 {
		t.Errorf("exit code %d", code)
	}
	f.peakRSS = r.peak.Load()
	f.rep = l.check()
	expect(t, f.rep, -1)
	f.done(t)
}

func join(xs []string) string {
	s := ""
	for i, x := range xs {
		if i > 0 {
			s += "/"
		}
		s += x
	}
	return s
}
