// Package readfile reads the files a config names (the config itself, its
// tests, schema files) with a bound on their size, and only when they are
// regular files: a device such as /dev/zero or a named pipe would be read
// forever, or block, and no config is one.
package readfile

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"syscall"
)

// ErrNotRegular is the error for a path that is not a regular file.
var ErrNotRegular = errors.New("not a regular file")

// TooLargeError is the error for a file over the limit.
type TooLargeError struct{ Limit int64 }

func (e *TooLargeError) Error() string { return "is larger than " + Size(e.Limit) }

// Read returns the contents of the regular file at path, of at most limit
// bytes. The error, if any, does not repeat the path: it reads as
// "is a device, not a regular file", "is larger than 4 MiB", or the
// operating system's word ("no such file or directory").
func Read(path string, limit int64) ([]byte, error) {
	// Stat first: opening a named pipe blocks until a writer comes.
	st, err := os.Stat(path)
	if err != nil {
		return nil, pathErr(err)
	}
	if err := check(st, limit); err != nil {
		return nil, err
	}
	// O_NONBLOCK: should the path have become a pipe since, opening it
	// does not wait; the second check then refuses it.
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, pathErr(err)
	}
	defer f.Close()
	if st, err = f.Stat(); err != nil {
		return nil, pathErr(err)
	}
	if err := check(st, limit); err != nil {
		return nil, err
	}
	// The file may grow while it is read: read one byte past the limit to
	// tell.
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, pathErr(err)
	}
	if int64(len(data)) > limit {
		return nil, &TooLargeError{limit}
	}
	return data, nil
}

func check(st fs.FileInfo, limit int64) error {
	m := st.Mode()
	switch {
	case m.IsRegular():
		if st.Size() > limit {
			return &TooLargeError{limit}
		}
		return nil
	case m.IsDir():
		return fmt.Errorf("is a directory, %w", ErrNotRegular)
	case m&fs.ModeNamedPipe != 0:
		return fmt.Errorf("is a named pipe (FIFO), %w", ErrNotRegular)
	case m&fs.ModeSocket != 0:
		return fmt.Errorf("is a socket, %w", ErrNotRegular)
	case m&fs.ModeDevice != 0:
		return fmt.Errorf("is a device, %w", ErrNotRegular)
	}
	return fmt.Errorf("is %w", ErrNotRegular)
}

// pathErr drops the path from an *fs.PathError: the caller names it.
func pathErr(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// Size writes a byte count in the largest binary unit that divides it:
// 4194304 is "4 MiB".
func Size(n int64) string {
	for _, u := range []struct {
		shift uint
		name  string
	}{{30, "GiB"}, {20, "MiB"}, {10, "KiB"}} {
		if n >= 1<<u.shift && n%(1<<u.shift) == 0 {
			return fmt.Sprintf("%d %s", n>>u.shift, u.name)
		}
	}
	return fmt.Sprintf("%d bytes", n)
}
