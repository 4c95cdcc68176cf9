package cli

import (
	"bytes"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/millrace-dev/millrace/pipeline/replay"
)

// lockedBuffer is a buffer the bar's goroutine writes while the test reads.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// The bar shows the replay's own rate, records done over time elapsed,
// and no rate before a second has passed.
func TestBarShowsTheReplayRate(t *testing.T) {
	if got := rateText(replay.Progress{Done: 10, Elapsed: 300 * time.Millisecond}); got != "- rec/s" {
		t.Errorf("before a second: %q", got)
	}
	var mu sync.Mutex
	p := replay.Progress{Total: 60_000}
	progress := func() replay.Progress { mu.Lock(); defer mu.Unlock(); return p }
	var w lockedBuffer
	b := startBarOf(progress, &w)
	mu.Lock()
	p.Done, p.Elapsed = 12_000, 2*time.Second
	mu.Unlock()
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(w.String(), "replay 6000 rec/s") && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	b.stop(false)
	out := w.String()
	if !strings.Contains(out, "replay 6000 rec/s") || strings.Contains(out, "rec/hr") || strings.Contains(out, "it/s") {
		t.Errorf("bar output %q", out)
	}
}

// Without --verbose, the engine's per-record failure messages are dropped
// and one line sums them up; other messages pass.
func TestQuietRecords(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(quietRecords{slog.NewTextHandler(&buf, nil)}).With("pipeline", "p")
	log.Warn("record failed", "offset", 3)
	log.Warn("record dead-lettered unprocessed")
	log.Warn("checkpoint not saved")
	if out := buf.String(); strings.Contains(out, "record failed") || strings.Contains(out, "unprocessed") || !strings.Contains(out, "checkpoint not saved") {
		t.Errorf("log %q", out)
	}
	var w bytes.Buffer
	writeFailures(&w, &replay.Summary{ID: "R1", DeadLettered: 3}, "dlq")
	if got, want := w.String(), "3 record(s) failed and went to the dead-letter topic dlq, marked millrace.replay.id=R1; --verbose logs each failure\n"; got != want {
		t.Errorf("failures line %q, want %q", got, want)
	}
	w.Reset()
	writeFailures(&w, &replay.Summary{ID: "R1"}, "dlq")
	if w.Len() != 0 {
		t.Errorf("no failures, yet %q", w.String())
	}
}

func TestShellQuote(t *testing.T) {
	for in, want := range map[string]string{"a.yaml": "a.yaml", "/tmp/x y.yaml": "'/tmp/x y.yaml'", "it's": `'it'\''s'`, "k1:9092,k2:9092": "k1:9092,k2:9092"} {
		if got := shellQuote(in); got != want {
			t.Errorf("shellQuote(%q) = %q, want %q", in, got, want)
		}
	}
}
