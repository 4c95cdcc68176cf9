package faults

import (
	"context"
	"testing"
	"time"

	"github.com/millrace-dev/millrace/test/faults/verify"
	"github.com/twmb/franz-go/pkg/kadm"
)

// load is a scenario's topics and input.
type load struct {
	t          *testing.T
	in, out    string
	dlq, group string
	parts      int32
	gen        *verify.Gen
	ledger     *verify.Ledger
	prod       *verify.Producer
	adm        *kadm.Client
}

// newLoad creates the input, output and dead-letter topics with parts
// partitions and a producer for the input.
func newLoad(t *testing.T, parts int32, gen *verify.Gen) *load {
	t.Helper()
	in, out, dlq, group := names(t)
	createTopics(t, parts, nil, in, out, dlq)
	if gen == nil {
		gen = &verify.Gen{Keys: 500, Pad: 100}
	}
	l := &load{t: t, in: in, out: out, dlq: dlq, group: group, parts: parts, gen: gen, ledger: verify.NewLedger(), adm: adminClient(t)}
	var err error
	if l.prod, err = verify.NewProducer(bootstrap(), in, gen, l.ledger); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(l.prod.Close)
	return l
}

// backlog writes n input records and waits for their acknowledgements.
func (l *load) backlog(n int) {
	l.t.Helper()
	if err := l.prod.Produce(ctxFor(l.t, 5*time.Minute), n); err != nil {
		l.t.Fatalf("produce the input: %v", err)
	}
}

func (l *load) pipe() pipe {
	return pipe{in: l.in, out: l.out, dlq: l.dlq, group: l.group}
}

func (l *load) committed() map[int32]int64 {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := offsetsOf(ctx, l.adm, l.group, l.in, l.parts)
	if err != nil {
		return nil
	}
	return c
}

func (l *load) lag() int64 { return lagOf(context.Background(), l.adm, l.group, l.in, l.parts) }

// waitProgress waits until the group committed at least n more records
// than in from, on every partition that had records left, and returns
// the time until the first commit moved (the recovery) and whether it
// saw all that before timeout.
func (l *load) waitProgress(from map[int32]int64, n int64, timeout time.Duration) (time.Duration, bool) {
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	ends, _ := endsOf(ctx, l.adm, l.in)
	cancel()
	var first time.Duration
	for time.Since(start) < timeout {
		c := l.committed()
		if c != nil {
			var moved int64
			all := true
			for p, e := range ends {
				d := c[p] - max(0, from[p])
				moved += max(0, d)
				if d <= 0 && max(0, from[p]) < e {
					all = false
				}
			}
			if moved > 0 && first == 0 {
				first = time.Since(start)
			}
			if all && moved >= n {
				return first, true
			}
			if l.lag() == 0 {
				return first, true
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	return first, false
}

// check runs the verifier over the outputs and the dead letters.
func (l *load) check() verify.Report {
	l.t.Helper()
	rep, err := verify.Check(ctxFor(l.t, 3*time.Minute), bootstrap(), l.ledger, []string{l.out}, l.dlq)
	if err != nil {
		l.t.Fatalf("verify: %v", err)
	}
	return rep
}

// expect fails the test when the report breaks the promise: nothing
// missing, no order skips, nothing that was never input, no poison in the
// outputs and no clean record in the dead letters; and at most maxDup
// duplicates (-1: any).
func expect(t *testing.T, rep verify.Report, maxDup int) {
	t.Helper()
	if rep.Missing > 0 {
		t.Errorf("%d record(s) missing, e.g. ids %v", rep.Missing, rep.MissingIDs)
	}
	if rep.Skips > 0 {
		t.Errorf("%d per-key order skip(s): %v", rep.Skips, rep.SkipExamples)
	}
	if rep.NeverInput > 0 {
		t.Errorf("%d output(s) that were never input", rep.NeverInput)
	}
	if rep.PoisonInOut > 0 || rep.CleanInDead > 0 {
		t.Errorf("%d poison record(s) in the outputs, %d clean record(s) in the dead letters", rep.PoisonInOut, rep.CleanInDead)
	}
	if maxDup >= 0 && rep.Duplicates > maxDup {
		t.Errorf("%d duplicates, more than the bound %d", rep.Duplicates, maxDup)
	}
}
