package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// A shutdown while the broker is gone ends within the shutdown timeout
// (plus short graces for the producer), the records that were in flight
// left uncommitted, rather than waiting for a broker that does not come
// back.
func TestShutdownWithBrokerGoneIsBounded(t *testing.T) {
	own := startOwnBroker(t)
	b := own.broker
	tp := newTopics(t, b)
	produce(t, b, orders(tp.in, 50000, 101)...)
	cfg := strings.Replace(enrichConfig(b, tp, true), "shutdown_timeout: 20s", "shutdown_timeout: 2s", 1)
	if cfg == enrichConfig(b, tp, true) {
		t.Fatal("the shutdown timeout was not set")
	}
	r := startRunner(t, "-c", writeConfig(t, cfg+"admin: {address: \"off\"}\n"))
	readTopic(t, b, tp.out, 1000, 60*time.Second)
	own.stop()
	start := time.Now()
	code := r.stop(30 * time.Second)
	took := time.Since(start)
	t.Logf("exit %d after %s", code, took.Round(time.Millisecond))
	// 2s of shutdown timeout, 2s of grace for the producer, and slack for
	// a loaded machine.
	if took > 12*time.Second {
		t.Errorf("shutdown took %s with the broker gone", took)
	}
	// The group session may end first (the partitions are lost, nothing is
	// committed, exit 0), or the shutdown times out or the last commit
	// fails (exit 1, said in the log).
	out := r.out.String()
	switch {
	case code == 0:
	case code == 1 && (strings.Contains(out, "shutdown timeout") || strings.Contains(out, "last offset commit")):
	default:
		t.Errorf("exit %d:\n%s", code, tail(out, 2000))
	}
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return fmt.Sprintf("...%s", s[len(s)-n:])
}
