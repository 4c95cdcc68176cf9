package kafka

// Settling a record reads its entry and its lane, which the loop last
// touched milliseconds before, when it handed the record out: by then both
// are usually out of this core's caches. Settled one after another, each
// record waits for its entry, then (the lane's address is in the entry)
// for its lane. The touch functions load a word of every entry of a batch
// of settlements, then of every lane, before the loop settles them: the
// loads of a pass do not depend on each other, so the core waits for
// their misses together instead of one after another. What they load is
// summed into stream.touched only so that the loads are not compiled away.

// touchReleased loads the entries and lanes of a batch of releases.
func touchReleased(ps []pending) (sum int) {
	for i := range ps {
		sum += ps[i].e.gen
	}
	for i := range ps {
		if l := ps[i].e.lane; l != nil {
			sum += l.next
		}
	}
	return sum
}

// touchSettled loads the entries and lanes of the settlements in evs.
func touchSettled(evs []ackEvent) (sum int) {
	for i := range evs {
		if e := evs[i].e; e != nil {
			sum += e.gen
		}
	}
	for i := range evs {
		if e := evs[i].e; e != nil && e.lane != nil {
			sum += e.lane.next
		}
	}
	return sum
}
