package faults

import (
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/millrace-dev/millrace/test/faults/verify"
)

// figures are one scenario's results, printed after the run and added to
// MILLRACE_FAULTS_REPORT.
type figures struct {
	scenario string
	rep      verify.Report
	recovery []time.Duration // per fault: until the pipeline moved again
	peakRSS  int64
	notes    []string
}

var (
	resultsMu sync.Mutex
	results   []figures
)

func (f *figures) note(format string, args ...any) {
	f.notes = append(f.notes, fmt.Sprintf(format, args...))
}

func (f figures) recoveryText() string {
	if len(f.recovery) == 0 {
		return ""
	}
	lo, hi := slices.Min(f.recovery), slices.Max(f.recovery)
	return fmt.Sprintf("%.1f–%.1f", lo.Seconds(), hi.Seconds())
}

func (f figures) row() string {
	rss := ""
	if f.peakRSS > 0 {
		rss = fmt.Sprintf("%d", f.peakRSS>>20)
	}
	return fmt.Sprintf("| %s | %d | %d | %d | %d | %d | %d | %s | %s | %s |",
		f.scenario, f.rep.Input, f.rep.Missing, f.rep.Duplicates, f.rep.Skips, f.rep.Rewinds, f.rep.NeverInput,
		f.recoveryText(), rss, strings.Join(f.notes, "; "))
}

// done logs the figures and keeps them for the report, whether or not
// the scenario passed.
func (f figures) done(t *testing.T) {
	t.Helper()
	t.Logf("%s: %s; recovery %ss; peak RSS %d MiB; %s", f.scenario, f.rep, f.recoveryText(), f.peakRSS>>20, strings.Join(f.notes, "; "))
	if t.Failed() {
		f.notes = append(f.notes, "FAILED")
	}
	resultsMu.Lock()
	results = append(results, f)
	resultsMu.Unlock()
}

const tableHead = "| scenario | input | missing | duplicates | order skips | rewinds | never input | recovery s | peak RSS MiB | notes |\n" +
	"| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |"

// printResults prints the table (package output, shown by test/summary
// whether or not the tests passed) and appends it to the report file.
func printResults() {
	resultsMu.Lock()
	defer resultsMu.Unlock()
	if len(results) == 0 {
		return
	}
	var b strings.Builder
	fmt.Fprintf(&b, "fault matrix (%s sizes, %s):\n%s\n", mode, time.Now().UTC().Format(time.RFC3339), tableHead)
	for _, f := range results {
		b.WriteString(f.row() + "\n")
	}
	fmt.Print(b.String())
	if path := os.Getenv("MILLRACE_FAULTS_REPORT"); path != "" {
		if f, err := os.OpenFile(path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644); err == nil {
			fmt.Fprintln(f, b.String())
			f.Close()
		}
	}
}
