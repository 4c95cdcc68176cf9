package codec

import (
	"encoding/json"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// TestSpliceRunsAsSpaced: Splice copies consecutive members of a compact
// input with one copy, and those of an input with whitespace one by one;
// the two give the same bytes, for random documents and edits.
func TestSpliceRunsAsSpaced(t *testing.T) {
	pool := []string{"a", "b", "c", "d", "e", "user", "amount", "debug"}
	values := [][2]string{{`1`, `1`}, {`"x y"`, `"x y"`}, {`[1,2]`, `[ 1 , 2 ]`}, {`{"k":1}`, `{ "k" : 1 }`}, {`1.50`, `1.50`}, {`null`, `null`}, {`true`, `true`}}
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range 20000 {
		keys := slices.Clone(pool)
		rng.Shuffle(len(keys), func(a, b int) { keys[a], keys[b] = keys[b], keys[a] })
		keys = keys[:rng.IntN(len(keys)+1)]
		var compact, spaced []string
		for _, k := range keys {
			v := values[rng.IntN(len(values))]
			compact = append(compact, `"`+k+`":`+v[0])
			spaced = append(spaced, `"`+k+`" : `+v[1])
		}
		docs := [2]string{"{" + strings.Join(compact, ",") + "}", "{ " + strings.Join(spaced, " , ") + " }"}

		var reads, writes, deletes []string
		for _, k := range pool[:5] { // user and amount are for the move
			switch rng.IntN(4) {
			case 1:
				reads = append(reads, k)
			case 2:
				writes = append(writes, k)
			case 3:
				deletes = append(deletes, k)
			}
		}
		only := rng.IntN(4) == 0
		move := rng.IntN(2) == 0
		newEdit := func() *Edit {
			e := NewEdit(reads, writes, deletes, only)
			if move {
				e.Move("user", "amount")
			}
			return e
		}
		drop := rng.Uint64()
		var out [2]string
		for j, doc := range docs {
			var o Object
			if err := o.Scan([]byte(doc)); err != nil {
				t.Fatalf("Scan(%s): %v", doc, err)
			}
			e := newEdit()
			m, err := e.Decode(&o)
			if err != nil {
				t.Fatal(err)
			}
			for n, k := range writes {
				if drop>>n&1 == 0 {
					m[k] = "w-" + k
				} else {
					delete(m, k)
				}
			}
			for n, k := range reads {
				if drop>>(n+8)&1 == 1 {
					delete(m, k)
				}
			}
			b, err := e.Splice(nil, &o, m)
			if err != nil {
				t.Fatalf("Splice(%s): %v", doc, err)
			}
			if !json.Valid(b) {
				t.Fatalf("Splice(%s) = %s, not JSON", doc, b)
			}
			out[j] = string(b)
		}
		if out[0] != out[1] {
			t.Fatalf("case %d (reads %q, writes %q, deletes %q, only %v, move %v):\ncompact %s → %s\nspaced  %s → %s",
				i, reads, writes, deletes, only, move, docs[0], out[0], docs[1], out[1])
		}
	}
}
