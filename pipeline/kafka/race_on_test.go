//go:build race

package kafka

// raceEnabled: the race detector's builds allocate more, and its
// sync.Pool drops some of what is put back.
const raceEnabled = true
