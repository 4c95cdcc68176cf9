package replay

import (
	"slices"
	"sync"
)

// offsetSet is a set of offsets of one partition as sorted, disjoint,
// non-adjacent [start, end) intervals: the dead letters a redrive has
// redriven, which stay compact however many there are (a redrive covers
// runs of offsets).
type offsetSet [][2]int64

// has reports whether off is in the set.
func (s offsetSet) has(off int64) bool {
	i, _ := slices.BinarySearchFunc(s, off, func(iv [2]int64, off int64) int {
		switch {
		case iv[1] <= off:
			return -1
		case iv[0] > off:
			return 1
		}
		return 0
	})
	return i < len(s) && s[i][0] <= off && off < s[i][1]
}

// union returns the set with the offsets of o added.
func (s offsetSet) union(o offsetSet) offsetSet {
	all := slices.Concat(s, o)
	slices.SortFunc(all, func(a, b [2]int64) int { return int(a[0] - b[0]) })
	var out offsetSet
	for _, iv := range all {
		if n := len(out); n > 0 && iv[0] <= out[n-1][1] {
			out[n-1][1] = max(out[n-1][1], iv[1])
			continue
		}
		out = append(out, iv)
	}
	return out
}

// ledger collects the offsets a running redrive processed, by partition.
type ledger struct {
	mu    sync.Mutex
	parts map[int32][]int64
}

func (l *ledger) add(partition int32, offset int64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.parts == nil {
		l.parts = map[int32][]int64{}
	}
	l.parts[partition] = append(l.parts[partition], offset)
}

// into merges what was collected into sets and forgets it.
func (l *ledger) into(sets map[int32]offsetSet) map[int32]offsetSet {
	l.mu.Lock()
	defer l.mu.Unlock()
	if sets == nil {
		sets = map[int32]offsetSet{}
	}
	for p, offs := range l.parts {
		ivs := make(offsetSet, len(offs))
		for i, off := range offs {
			ivs[i] = [2]int64{off, off + 1}
		}
		sets[p] = sets[p].union(ivs)
	}
	l.parts = nil
	return sets
}

// redrivenBefore is the union of what the pipeline's earlier redrives of
// topic (their checkpoints in dir, except except's) redrove.
func redrivenBefore(dir, pipeline, topic, except string) (map[int32]offsetSet, error) {
	cps, err := listCheckpoints(dir, pipeline)
	if err != nil {
		return nil, err
	}
	out := map[int32]offsetSet{}
	for _, c := range cps {
		if c.Mode != ModeRedrive || c.Topic != topic || c.ID == except {
			continue
		}
		for p, s := range c.Redriven {
			out[p] = out[p].union(s)
		}
	}
	return out, nil
}
