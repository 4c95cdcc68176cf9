package readfile

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRead(t *testing.T) {
	dir := t.TempDir()
	small := filepath.Join(dir, "small")
	if err := os.WriteFile(small, []byte("12345"), 0o644); err != nil {
		t.Fatal(err)
	}
	if data, err := Read(small, 5); err != nil || string(data) != "12345" {
		t.Errorf("Read at the limit = %q, %v", data, err)
	}
	var tl *TooLargeError
	if _, err := Read(small, 4); !errors.As(err, &tl) || err.Error() != "is larger than 4 bytes" {
		t.Errorf("Read over the limit: %v", err)
	}
	if _, err := Read(filepath.Join(dir, "missing"), 5); err == nil || err.Error() != "no such file or directory" {
		t.Errorf("missing: %v", err)
	}
	if _, err := Read(dir, 5); !errors.Is(err, ErrNotRegular) || !strings.HasPrefix(err.Error(), "is a directory") {
		t.Errorf("directory: %v", err)
	}
}

// /dev/zero would be read until memory runs out; it is refused unread.
func TestReadDevice(t *testing.T) {
	if _, err := os.Stat("/dev/zero"); err != nil {
		t.Skip("no /dev/zero")
	}
	_, err := Read("/dev/zero", 1<<20)
	if !errors.Is(err, ErrNotRegular) || err.Error() != "is a device, not a regular file" {
		t.Errorf("/dev/zero: %v", err)
	}
}

func TestSize(t *testing.T) {
	for n, want := range map[int64]string{4 << 20: "4 MiB", 16 << 20: "16 MiB", 1 << 10: "1 KiB", 1500: "1500 bytes", 1 << 30: "1 GiB"} {
		if got := Size(n); got != want {
			t.Errorf("Size(%d) = %q, want %q", n, got, want)
		}
	}
}
