package faults

import (
	"context"
	"testing"
	"time"
)

// A network partition between the runner and the broker for 30s: the
// runner runs in a network namespace of the test's own and reaches the
// broker only over a veth pair, whose host end is taken down and brought
// up again. Readiness degrades, then recovers; nothing is missing.
func TestNetworkPartition(t *testing.T) {
	needFaults(t)
	if netns == nil {
		t.Skipf("no network namespace: %s", netnsWhy)
	}
	const parts = 6
	l := newLoad(t, parts, nil)
	l.backlog(pick(10_000, 100_000))
	liveCtx, stopLive := context.WithCancel(context.Background())
	liveDone := make(chan struct{})
	go func() { l.prod.Live(liveCtx, pick(1_000, 5_000)); close(liveDone) }()
	defer func() { stopLive(); <-liveDone }()
	p := l.pipe()
	p.brokers = netns.brokerAddr
	r := startRunner(t, p, netns)
	r.waitReady(200, 60*time.Second)
	f := figures{scenario: "network partition runner–broker 30s (netns + veth)"}
	if err := netns.link(false); err != nil {
		t.Fatal(err)
	}
	healed := false
	defer func() {
		if !healed {
			_ = netns.link(true)
		}
	}()
	down := r.waitReady(503, 30*time.Second)
	time.Sleep(30*time.Second - down)
	if !r.alive() {
		t.Fatalf("the runner exited (%d) during the partition", r.code)
	}
	if err := netns.link(true); err != nil {
		t.Fatal(err)
	}
	healed = true
	up := r.waitReady(200, 60*time.Second)
	f.recovery = append(f.recovery, up)
	stopLive()
	<-liveDone
	waitLag(t, l.group, l.in, parts, 2*time.Minute)
	if _, code := r.term(60 * time.Second); code != 0 {
		t.Errorf("exit code %d", code)
	}
	f.peakRSS = r.peak.Load()
	f.note("/readyz 503 %.1fs into the partition, 200 %.1fs after it healed", down.Seconds(), up.Seconds())
	f.rep = l.check()
	expect(t, f.rep, -1)
	f.done(t)
}
