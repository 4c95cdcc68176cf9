package faults

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/millrace-dev/millrace/test/faults/verify"
)

// A bounded replay of a range of the input (from offset 100 of every
// partition to the end as of its start, while live input goes on past it)
// killed with SIGKILL three times and resumed each time: the whole range is
// written, and nothing outside it.
func TestReplayKilledAndResumed(t *testing.T) {
	needFaults(t)
	const parts, kills, skip = 6, 3, 100
	l := newLoad(t, parts, nil)
	l.backlog(pick(40_000, 300_000))
	ends, err := endsOf(ctxFor(t, 10*time.Second), l.adm, l.in)
	if err != nil {
		t.Fatal(err)
	}
	var from []string
	for p := range int32(parts) {
		from = append(from, fmt.Sprintf("%d:%d", p, skip))
	}
	target := l.out + "-replay"
	createTopics(t, parts, nil, target)
	p := l.pipe()
	dir := t.TempDir()
	rate := pick("10000", "30000")
	f := figures{scenario: "bounded replay, SIGKILL ×3 and --resume"}
	r := startProcess(t, p, nil, "replay", "faults", "--from", strings.Join(from, ","), "--to-topic", target, "--rate", rate, "--checkpoint-dir", dir)
	// Live input past the range's end once the replay has fixed it.
	for !strings.Contains(r.logText(), "→") {
		if !r.alive() {
			t.Fatalf("replay exited (%d):\n%s", r.code, r.logText())
		}
		time.Sleep(20 * time.Millisecond)
	}
	liveCtx, stopLive := context.WithCancel(context.Background())
	liveDone := make(chan struct{})
	go func() { l.prod.Live(liveCtx, 1_000); close(liveDone) }()
	defer func() { stopLive(); <-liveDone }()
	for i := range kills {
		time.Sleep(time.Duration(1000+rand.IntN(1000)) * time.Millisecond)
		if !r.alive() {
			t.Fatalf("replay run %d ended (%d) before it was killed; output:\n%s", i+1, r.code, r.logText())
		}
		r.kill()
		r = startProcess(t, p, nil, "replay", "faults", "--resume", "--rate", rate, "--checkpoint-dir", dir)
	}
	select {
	case <-r.exited:
	case <-time.After(5 * time.Minute):
		t.Fatal("the resumed replay did not finish")
	}
	if r.code != 0 {
		t.Fatalf("the last --resume exited %d:\n%s", r.code, r.logText())
	}
	stopLive()
	<-liveDone
	want := l.ledger.Subset(func(_ verify.Input, at verify.Position) bool {
		return at.Offset >= skip && at.Offset < ends[at.Partition]
	})
	f.rep, err = verify.Check(ctxFor(t, 3*time.Minute), bootstrap(), want, []string{target}, "")
	if err != nil {
		t.Fatal(err)
	}
	f.note("range of %d records; never input = written from outside the range", want.Len())
	expect(t, f.rep, -1)
	f.done(t)
}
