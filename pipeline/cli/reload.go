package cli

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/millrace-dev/millrace/internal/readfile"
	"github.com/millrace-dev/millrace/pipeline/config"
)

// watchInterval is how often `run --watch` reads the config file.
const watchInterval = time.Second

// reloadRequests turns SIGHUP, and with watch a change of the file at
// path, into reload requests until ctx ends. Requests that come while one
// waits are one. A changed file is applied when two reads a second apart
// agree, so that a file caught half written is not.
//
// The file is read and compared rather than watched through inotify: a
// Kubernetes ConfigMap volume swaps a symlink to a new directory, which an
// inotify watch on the file does not see, and a read a second of a file of
// at most a few megabytes is cheap.
func reloadRequests(ctx context.Context, path string, watch bool, log *slog.Logger) <-chan struct{} {
	out := make(chan struct{}, 1)
	request := func() {
		select {
		case out <- struct{}{}:
		default:
		}
	}
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	var tick <-chan time.Time
	var last, pending []byte // the file as last applied; as read last, changed
	var unreadable string    // why the file cannot be read, as last logged
	t := time.NewTicker(watchInterval)
	if watch {
		last, _ = readfile.Read(path, config.MaxConfigSize)
		tick = t.C
		log.Info("watching the config file for changes", "file", path)
	}
	go func() {
		defer signal.Stop(hup)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-hup:
				log.Info("SIGHUP: reloading the config", "file", path)
				request()
			case <-tick:
				// Read as loading reads it: a regular file of at most
				// MaxConfigSize, so that a file swapped for /dev/zero or
				// one grown huge is refused unread.
				data, err := readfile.Read(path, config.MaxConfigSize)
				if err != nil {
					// A file being replaced may be missing for a moment;
					// any other cause is said once, and the pipelines run on.
					if !errors.Is(err, fs.ErrNotExist) && err.Error() != unreadable {
						log.Warn("the config file cannot be read; the pipelines run on as they are", "file", path, "error", err.Error())
					}
					unreadable, pending = err.Error(), nil
					continue
				}
				unreadable = ""
				if bytes.Equal(data, last) {
					pending = nil
					continue
				}
				if !bytes.Equal(data, pending) {
					// Changed since the last read: it may be half written.
					// It is applied once it reads the same a second later.
					pending = data
					continue
				}
				last, pending = data, nil
				log.Info("config file changed: reloading", "file", path)
				request()
			}
		}
	}()
	return out
}
