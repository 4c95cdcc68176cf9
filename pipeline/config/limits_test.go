package config_test

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/millrace-dev/millrace/pipeline/config"
)

// -c /dev/zero used to read until memory ran out; it is refused unread.
func TestLoadDevice(t *testing.T) {
	if _, err := os.Stat("/dev/zero"); err != nil {
		t.Skip("no /dev/zero")
	}
	_, err := config.Load("/dev/zero", config.Options{})
	want := "/dev/zero: cannot read config: is a device, not a regular file (pass the file with -c/--config)"
	if err == nil || err.Error() != want {
		t.Fatalf("got %v, want %s", err, want)
	}
}

func TestLoadTooLarge(t *testing.T) {
	path := filepath.Join(t.TempDir(), "big.yaml")
	data := []byte(minimal + "# " + strings.Repeat("x", config.MaxConfigSize) + "\n")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := config.Load(path, config.Options{})
	want := path + ": cannot read config: is larger than 4 MiB (pass the file with -c/--config)"
	if err == nil || err.Error() != want {
		t.Fatalf("got %v, want %s", err, want)
	}
	// Parse, handed the bytes, refuses them too.
	_, err = config.Parse("big.yaml", data, config.Options{})
	if want := "big.yaml: the config is larger than 4 MiB (split it: one runner per file)"; err == nil || err.Error() != want {
		t.Fatalf("got %v, want %s", err, want)
	}
}

func pipelines(n int) string {
	var b strings.Builder
	b.WriteString("version: 1\npipelines:\n")
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "  - {name: p%d, input: {topic: in%d}, output: {topic: out%d}}\n", i, i, i)
	}
	return b.String()
}

// More than MaxPipelines is an error at the first pipeline too many,
// found before the others are checked.
func TestTooManyPipelines(t *testing.T) {
	cfg := parse(t, pipelines(config.MaxPipelines), nil)
	if len(cfg.Pipelines) != config.MaxPipelines {
		t.Fatalf("%d pipelines", len(cfg.Pipelines))
	}
	got := parseErr(t, pipelines(config.MaxPipelines+1)+"  - {name: bad name}\n", nil)
	want := "test.yaml:1003:5: more than 1000 pipelines (1002) (split the config: one runner per file)"
	if got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
}

// A config at the size limit made of pipelines over the count limit is
// refused in bounded memory (423,000 pipelines in 50 MB took
// 4 GB before there were limits).
func TestTooManyPipelinesIsCheap(t *testing.T) {
	var b strings.Builder
	b.WriteString("version: 1\npipelines:\n")
	for i := 0; b.Len() < config.MaxConfigSize-100; i++ {
		fmt.Fprintf(&b, "  - {name: p%d, input: {topic: i}, output: {topic: o}}\n", i)
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	start := time.Now()
	_, err := config.Parse("test.yaml", []byte(b.String()), config.Options{})
	took := time.Since(start)
	runtime.ReadMemStats(&after)
	if err == nil || !strings.Contains(err.Error(), "more than 1000 pipelines") {
		t.Fatalf("got %v", err)
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 512<<20 {
		t.Errorf("allocated %d MB for %d KB", alloc>>20, b.Len()>>10)
	}
	// Time is logged, not asserted: the race detector and a shared
	// machine make it vary tenfold; the allocation bound is what the
	// limit promises.
	t.Logf("%d KB: %v, %d MB allocated", b.Len()>>10, took, (after.TotalAlloc-before.TotalAlloc)>>20)
}

// The tests file beside a config is bounded and must be a regular file too.
func TestLoadTestsNotRegular(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "p.yaml")
	if err := os.WriteFile(path, []byte(minimal), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, "p_test.yaml"), 0o755); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(path, config.Options{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = config.LoadTests(cfg, nil)
	want := filepath.Join(dir, "p_test.yaml") + ": cannot read tests: is a directory, not a regular file"
	if err == nil || err.Error() != want {
		t.Fatalf("got %v, want %s", err, want)
	}
}
