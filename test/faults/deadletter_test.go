package faults

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/millrace-dev/millrace/test/faults/verify"
)

// A dead-letter topic that refuses every dead letter (its
// max.message.bytes is 64 bytes: the brokers answer MESSAGE_TOO_LARGE; a
// plaintext broker without an authorizer has no ACLs to take the write
// permission away, and a deleted topic with creation off is only refused
// after the producer's retries) while two records fail: the partitions of
// those records stop at them, nothing committed past them, /readyz says
// why; the other partitions drain. Once the topic's limit is raised, the
// stalled records go to it and everything drains.
func TestDeadLetterUnwritable(t *testing.T) {
	needFaults(t)
	const parts = 6
	n := pick(30_000, 200_000)
	poison := func(in verify.Input) bool { return (in.Key == "k-7" || in.Key == "k-13") && in.Seq == 20 }
	l := newLoad(t, parts, &verify.Gen{Keys: 500, Pad: 100, Poison: poison})
	setTopicConfig(t, l.dlq, "max.message.bytes", "64")
	l.backlog(n)
	stallAt := map[int32]int64{}
	for _, at := range l.ledger.Find(func(in verify.Input) bool { return in.Poison }) {
		if o, ok := stallAt[at.Partition]; !ok || at.Offset < o {
			stallAt[at.Partition] = at.Offset
		}
	}
	f := figures{scenario: "dead-letter topic refuses every dead letter, 2 poison records"}
	ends, err := endsOf(ctxFor(t, 10*time.Second), l.adm, l.in)
	if err != nil {
		t.Fatal(err)
	}
	r := startRunner(t, l.pipe(), nil)
	start := time.Now()
	// The clean partitions drain; the stalled ones stop at their record.
	var got map[int32]int64
	for {
		got = l.committed()
		ok := got != nil
		for p, e := range ends {
			want := e
			if o, stalled := stallAt[p]; stalled {
				want = o
			}
			ok = ok && got[p] == want
		}
		if ok {
			break
		}
		if time.Since(start) > 90*time.Second {
			t.Fatalf("committed %v; want the ends %v except the stalled partitions at %v", got, ends, stallAt)
		}
		time.Sleep(100 * time.Millisecond)
	}
	f.note("clean partitions drained in %.1fs while %d stalled", time.Since(start).Seconds(), len(stallAt))
	// It is reported: readiness, status, metric.
	code, body := r.ready()
	deadline := time.Now().Add(15 * time.Second)
	for code != 503 && time.Now().Before(deadline) {
		time.Sleep(200 * time.Millisecond)
		code, body = r.ready()
	}
	if code != 503 || !strings.Contains(body, "partition stalled") || !strings.Contains(body, "MESSAGE_TOO_LARGE") {
		t.Errorf("/readyz %d %s; want 503 naming the stall and its cause", code, body)
	}
	for p, o := range stallAt {
		if !strings.Contains(body, fmt.Sprintf("partition %d at offset %d", p, o)) {
			t.Errorf("/readyz does not name partition %d at offset %d: %s", p, o, body)
		}
	}
	st := r.status()
	pipes, _ := st["pipelines"].([]any)
	if len(pipes) != 1 {
		t.Fatalf("/api/status pipelines: %v", st["pipelines"])
	}
	if stalled, _ := pipes[0].(map[string]any)["stalled"].([]any); len(stalled) != len(stallAt) {
		t.Errorf("/api/status stalled %v; want %d partitions", stalled, len(stallAt))
	}
	_, metrics, _ := r.get("/metrics")
	if want := fmt.Sprintf(`millrace_partitions_stalled{pipeline="faults"} %d`, len(stallAt)); !strings.Contains(metrics, want) {
		t.Errorf("/metrics lacks %s", want)
	}
	// Said, not retried in a loop: one error per attempt, an attempt
	// every 10s.
	refusals := strings.Count(r.logText(), "a dead letter was refused by the brokers")
	if limit := 2 * (int(time.Since(start)/(10*time.Second)) + 2); refusals == 0 || refusals > limit {
		t.Errorf("%d refusals logged in %s (want 1 to %d)", refusals, time.Since(start).Round(time.Second), limit)
	}
	f.note("%d refusals logged in %.0fs", refusals, time.Since(start).Seconds())
	// The topic takes them again: the stalled partitions go on by
	// themselves.
	setTopicConfig(t, l.dlq, "max.message.bytes", "1048588")
	lifted := time.Now()
	waitLag(t, l.group, l.in, parts, 60*time.Second)
	f.recovery = append(f.recovery, time.Since(lifted))
	r.waitReady(200, 15*time.Second)
	if _, code := r.term(60 * time.Second); code != 0 {
		t.Errorf("exit code %d", code)
	}
	f.peakRSS = r.peak.Load()
	f.rep = l.check()
	if f.rep.DeadLetters < 2 {
		t.Errorf("%d dead letters, want the 2 poison records", f.rep.DeadLetters)
	}
	expect(t, f.rep, parts*256)
	f.done(t)
}

// An output larger than the brokers take (kafka.producer.max_message_bytes
// says 4 MB, the output topic takes 1 MB): its input goes to the
// dead-letter topic with the cause, the records behind it flow, and it is
// not retried. The matrix found the records batched with it dead-lettered
// too (the brokers refuse a batch whole); the runner now caps its batches
// at the output topics' max.message.bytes, so the producer refuses the
// large record alone.
func TestOutputTooLarge(t *testing.T) {
	needFaults(t)
	const parts = 6
	n := pick(20_000, 100_000)
	big := func(in verify.Input) bool { return in.ID%5000 == 1234 }
	l := newLoad(t, parts, &verify.Gen{Keys: 500, Pad: 100, Big: big, BigPad: 400_000})
	l.backlog(n)
	p := l.pipe()
	p.kafkaExtra = "  producer: {max_message_bytes: 4000000}\n"
	p.steps = "      - set: {pad2: pad, pad3: pad}\n        when: 'big'\n"
	r := startRunner(t, p, nil)
	f := figures{scenario: "outputs larger than the broker takes"}
	f.recovery = append(f.recovery, waitLag(t, l.group, l.in, parts, 2*time.Minute))
	r.waitReady(200, 15*time.Second)
	bigs := len(l.ledger.Find(func(in verify.Input) bool { return in.Big }))
	log := r.logText()
	if c := strings.Count(log, "MESSAGE_TOO_LARGE"); c > 3*bigs {
		t.Errorf("MESSAGE_TOO_LARGE %d times in the log for %d records: retried", c, bigs)
	}
	if strings.Contains(log, "retries are spent") || strings.Contains(log, "partition stalled") {
		t.Errorf("a refused output was retried or stalled its partition")
	}
	dead, err := verify.ReadAll(ctxFor(t, time.Minute), bootstrap(), l.dlq)
	if err != nil {
		t.Fatal(err)
	}
	cause := regexp.MustCompile(`MESSAGE_TOO_LARGE`)
	for _, d := range dead {
		var why string
		for _, h := range d.Headers {
			if h.Key == "millrace.error" {
				why = string(h.Value)
			}
		}
		if !cause.MatchString(why) {
			t.Errorf("dead letter at offset %d says %q; want the brokers' MESSAGE_TOO_LARGE", d.Offset, why)
		}
	}
	if _, code := r.term(60 * time.Second); code != 0 {
		t.Errorf("exit code %d", code)
	}
	f.peakRSS = r.peak.Load()
	f.rep = l.check()
	if f.rep.DeadLetters != bigs {
		t.Errorf("%d dead letters for %d big records", f.rep.DeadLetters, bigs)
	}
	f.note("%d outputs refused, dead-lettered with the cause", bigs)
	expect(t, f.rep, 0)
	f.done(t)
}
