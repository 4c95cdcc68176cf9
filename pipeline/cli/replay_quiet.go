package cli

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"slices"

	"github.com/millrace-dev/millrace/pipeline/replay"
)

// perRecordMessages are the engine's log messages about one failing
// record. A replay of many bad records would print one per record over
// its progress bar; without --verbose it prints one line that sums them up
// instead.
var perRecordMessages = []string{"record failed", "record dead-lettered unprocessed"}

// quietRecords drops the per-record messages and passes on the rest.
type quietRecords struct{ slog.Handler }

func (q quietRecords) Handle(ctx context.Context, r slog.Record) error {
	if slices.Contains(perRecordMessages, r.Message) {
		return nil
	}
	return q.Handler.Handle(ctx, r)
}

func (q quietRecords) WithAttrs(as []slog.Attr) slog.Handler {
	return quietRecords{q.Handler.WithAttrs(as)}
}

func (q quietRecords) WithGroup(name string) slog.Handler {
	return quietRecords{q.Handler.WithGroup(name)}
}

// writeFailures is the one line that sums up the records that failed.
func writeFailures(w io.Writer, s *replay.Summary, dlq string) {
	if s.DeadLettered == 0 {
		return
	}
	verb := "went"
	if s.DryRun {
		verb = "would go"
	}
	fmt.Fprintf(w, "%d record(s) failed and %s to the dead-letter topic %s", s.DeadLettered, verb, dlq)
	if !s.DryRun {
		fmt.Fprintf(w, ", marked %s=%s", replay.HeaderReplayID, s.ID)
	}
	fmt.Fprintln(w, "; --verbose logs each failure")
}
