package main

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestJITThreads reads a made-up /proc: only the compiler threads count,
// a thread that is gone keeps the time it had, and one that starts later
// is found by the next scan.
func TestJITThreads(t *testing.T) {
	root := t.TempDir()
	thread := func(tid int, comm string, utime, stime int) {
		dir := filepath.Join(root, "7", "task", fmt.Sprint(tid))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		stat := fmt.Sprintf("%d (%s) S 1 7 7 0 -1 4194368 10 0 0 0 %d %d 0 0 20 0 90 0 100 0 0", tid, comm, utime, stime)
		if err := os.WriteFile(filepath.Join(dir, "stat"), []byte(stat), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "comm"), []byte(comm+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	thread(8, "C2 CompilerThre", 300, 20)
	thread(9, "C1 CompilerThre", 50, 0)
	thread(10, "data-plane-kafk", 9000, 900)
	thread(11, "GC Thread#0", 700, 0)
	j := &jitThreads{root: root, pid: 7, last: map[int]time.Duration{}}
	if got, want := j.cpu(), 3700*time.Millisecond; got != want {
		t.Fatalf("compiler threads' CPU = %v, want %v (C2 3.2 s + C1 0.5 s, the others left out)", got, want)
	}
	thread(8, "C2 CompilerThre", 400, 20)
	if got, want := j.cpu(), 4700*time.Millisecond; got != want {
		t.Fatalf("after C2 compiled 1 s more: %v, want %v", got, want)
	}
	if err := os.RemoveAll(filepath.Join(root, "7", "task", "9")); err != nil {
		t.Fatal(err)
	}
	thread(12, "C1 CompilerThre", 10, 0)
	j.scanned = time.Time{} // the next cpu scans again
	if got, want := j.cpu(), 4800*time.Millisecond; got != want {
		t.Fatalf("after C1 was replaced by a new thread: %v, want %v (the gone thread keeps its 0.5 s)", got, want)
	}
}

func TestIsJITThread(t *testing.T) {
	for comm, want := range map[string]bool{
		"C2 CompilerThre": true, "C1 CompilerThre": true, "C2 CompilerThread0": true,
		"GC Thread#0": false, "VM Thread": false, "C2": false, "data-plane-kafk": false,
	} {
		if got := isJITThread(comm); got != want {
			t.Errorf("isJITThread(%q) = %v, want %v", comm, got, want)
		}
	}
}
