package verify

import (
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"
)

// check finds what was planted: a lost record, a duplicate, a per-key
// order skip, a rewind (allowed), a record never input, a poison record
// among the outputs, and none of them in a clean run.
func TestCheckFindsPlantedFaults(t *testing.T) {
	g := &Gen{Keys: 1, Poison: func(in Input) bool { return in.ID == 9 }}
	l := NewLedger()
	var recs []*kgo.Record
	var ins []Input
	for i := range 10 {
		in, r := g.Next("in")
		r.Partition, r.Offset = 0, int64(i)
		l.add(in, r, nil)
		ins, recs = append(ins, in), append(recs, r)
	}
	clean, poison := recs[:9], recs[9:]
	out := func(idx ...int) []*kgo.Record {
		var o []*kgo.Record
		for _, i := range idx {
			o = append(o, clean[i])
		}
		return o
	}
	all := []int{0, 1, 2, 3, 4, 5, 6, 7, 8}
	never := &kgo.Record{Value: []byte(`{"id":999,"key":"k-0","seq":0}`)}
	cases := []struct {
		name       string
		outs, dead []*kgo.Record
		want       func(Report) bool
	}{
		{"clean", out(all...), poison, func(r Report) bool {
			return r.Missing == 0 && r.Duplicates == 0 && r.Skips == 0 && r.Rewinds == 0 && r.NeverInput == 0 && r.PoisonInOut == 0 && r.CleanInDead == 0
		}},
		{"lost", out(0, 1, 2, 3, 5, 6, 7, 8), poison, func(r Report) bool {
			return r.Missing == 1 && r.MissingIDs[0] == ins[4].ID && r.Skips == 1
		}},
		{"duplicate", out(0, 1, 2, 2, 3, 4, 5, 6, 7, 8), poison, func(r Report) bool { return r.Duplicates == 1 && r.MaxCopies == 2 && r.Skips == 0 }},
		{"skip", out(0, 1, 3, 2, 4, 5, 6, 7, 8), poison, func(r Report) bool { return r.Skips == 1 && r.Missing == 0 }},
		{"rewind", out(0, 1, 2, 3, 4, 2, 3, 4, 5, 6, 7, 8), poison, func(r Report) bool {
			return r.Rewinds == 1 && r.Skips == 0 && r.Duplicates == 3
		}},
		{"never input", append(out(all...), never), poison, func(r Report) bool { return r.NeverInput == 1 }},
		{"poison in the outputs", append(out(all...), poison...), nil, func(r Report) bool { return r.PoisonInOut == 1 }},
		{"clean record dead-lettered", out(all...), append(out(3), poison...), func(r Report) bool { return r.CleanInDead == 1 && r.Duplicates == 1 }},
	}
	for _, c := range cases {
		if r := check(l, c.outs, c.dead); !c.want(r) {
			t.Errorf("%s: %s (poison in outputs %d, clean in dead letters %d)", c.name, r, r.PoisonInOut, r.CleanInDead)
		}
	}
}
