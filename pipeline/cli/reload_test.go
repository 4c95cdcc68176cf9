package cli

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// run --watch reads the file as loading does: a file swapped for a device
// or grown past the size limit is refused unread, said once in the log,
// and asks for no reload; a good change after it is applied.
func TestWatchReadsWithinLimits(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "pipelines.yaml")
	if err := os.WriteFile(path, []byte("pipelines: {}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var logs lockedBuffer
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	reqs := reloadRequests(ctx, path, true, slog.New(slog.NewTextHandler(&logs, nil)))

	replace := func(with func(tmp string) error) {
		t.Helper()
		tmp := path + ".new"
		if err := with(tmp); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, path); err != nil {
			t.Fatal(err)
		}
	}
	noRequest := func(what string) {
		t.Helper()
		select {
		case <-reqs:
			t.Fatalf("%s: a reload was requested", what)
		case <-time.After(3 * watchInterval):
		}
	}

	replace(func(tmp string) error { return os.Symlink("/dev/zero", tmp) })
	noRequest("a symlink to /dev/zero")
	replace(func(tmp string) error {
		return os.WriteFile(tmp, []byte(strings.Repeat("#", 5<<20)), 0o600)
	})
	noRequest("a file of 5 MiB")
	out := logs.String()
	if n := strings.Count(out, "cannot be read"); n != 2 || !strings.Contains(out, "not a regular file") || !strings.Contains(out, "larger than 4 MiB") {
		t.Errorf("want each cause said once, got:\n%s", out)
	}

	replace(func(tmp string) error { return os.WriteFile(tmp, []byte("pipelines: {a: {}}\n"), 0o600) })
	select {
	case <-reqs:
	case <-time.After(5 * watchInterval):
		t.Fatal("a good change was not applied")
	}
}
