//go:build race

package engine_test

// raceEnabled: the race detector's builds allocate more.
const raceEnabled = true
