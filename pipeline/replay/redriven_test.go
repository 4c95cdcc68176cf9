package replay

import (
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/millrace-dev/millrace/pipeline/engine"
	"github.com/millrace-dev/millrace/transforms"
)

// The offsets a redrive processed, collected out of order, become compact
// intervals that answer membership exactly.
func TestOffsetSet(t *testing.T) {
	var l ledger
	for _, off := range []int64{5, 3, 4, 9, 0, 10} {
		l.add(1, off)
	}
	l.add(2, 7)
	sets := l.into(nil)
	if got := fmt.Sprint(sets[1]); got != "[[0 1] [3 6] [9 11]]" {
		t.Errorf("partition 1: %s", got)
	}
	l.add(1, 1)
	l.add(1, 2)
	sets = l.into(sets)
	if got := fmt.Sprint(sets[1]); got != "[[0 6] [9 11]]" {
		t.Errorf("partition 1 after 1 and 2: %s", got)
	}
	for off, want := range map[int64]bool{0: true, 5: true, 6: false, 8: false, 9: true, 10: true, 11: false, -1: false} {
		if sets[1].has(off) != want {
			t.Errorf("has(%d) = %v", off, !want)
		}
	}
	if !sets[2].has(7) || sets[2].has(6) || sets[3].has(0) {
		t.Errorf("partition 2 %v, 3 %v", sets[2], sets[3])
	}
}

// A later redrive skips what earlier redrives of the same topic redrove,
// counting it apart from the filters' skips; other modes and topics do not
// count.
func TestRedrivenBefore(t *testing.T) {
	dir := t.TempDir()
	at := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	for i, c := range []*Checkpoint{
		{Mode: ModeRedrive, Topic: "dlq", Redriven: map[int32]offsetSet{0: {{0, 3}}}},
		{Mode: ModeRedrive, Topic: "dlq", Redriven: map[int32]offsetSet{0: {{2, 5}}, 1: {{7, 8}}}},
		{Mode: ModeRedrive, Topic: "other-dlq", Redriven: map[int32]offsetSet{0: {{10, 20}}}},
		{Mode: ModeReplay, Topic: "dlq", Redriven: map[int32]offsetSet{0: {{30, 40}}}},
	} {
		c.Version, c.Pipeline, c.ID, c.CreatedAt = checkpointVersion, "p", newID(at.Add(time.Duration(i)*time.Minute)), at
		if _, err := c.save(dir); err != nil {
			t.Fatal(err)
		}
	}
	sets, err := redrivenBefore(dir, "p", "dlq", "")
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(sets[0]) != "[[0 5]]" || fmt.Sprint(sets[1]) != "[[7 8]]" {
		t.Errorf("redriven before: %v", sets)
	}
	f := filters{redriven: sets}
	f.already = new(atomic.Int64)
	rec := func(p int32, off int64) *engine.Record {
		return &engine.Record{Partition: p, Offset: off, Headers: transforms.Headers{}}
	}
	if !f.skip(rec(0, 4)) || f.skip(rec(0, 5)) || !f.skip(rec(1, 7)) {
		t.Error("skips the wrong dead letters")
	}
	if f.already.Load() != 2 {
		t.Errorf("already redriven %d, want 2", f.already.Load())
	}
}

// Dead letters a replay writes carry its id; its outputs do not.
func TestMarkDeadLetters(t *testing.T) {
	var got []*engine.Record
	next := producerFunc(func(recs []*engine.Record, done func(error)) { got = recs; done(nil) })
	shared := transforms.Headers{{Key: "trace", Value: []byte("t")}}
	dead := &engine.Record{Topic: "dlq", Headers: append(shared[:1:1], transforms.Header{Key: engine.HeaderError, Value: []byte("x")})}
	out := &engine.Record{Topic: "out", Headers: shared}
	markDeadLetters{next: next, topic: "dlq", id: "R1"}.Produce([]*engine.Record{dead, out}, func(error) {})
	if v, _ := got[0].Headers.Get(HeaderReplayID); v != "R1" {
		t.Errorf("dead letter headers %v", got[0].Headers)
	}
	if got[1].Headers.Has(HeaderReplayID) || shared.Has(HeaderReplayID) {
		t.Errorf("an output, or the input's headers, got the mark: %v %v", got[1].Headers, shared)
	}
	if !engine.IsDeadLetterHeader(HeaderReplayID) {
		t.Error("a redrive would keep the mark on the restored record")
	}
}

type producerFunc func([]*engine.Record, func(error))

func (f producerFunc) Produce(recs []*engine.Record, done func(error)) { f(recs, done) }
