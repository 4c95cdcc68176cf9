package main

import (
	"bytes"
	"encoding/json"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestMain lets the test binary stand in for the bench binary: the smoke
// test runs scenarios in child processes of os.Executable(), which is this
// test binary, started with the hidden --scenario flag.
func TestMain(m *testing.M) {
	if slices.Contains(os.Args[1:], "--scenario") {
		os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

// TestSmoke runs the whole benchmark, small, on the embedded broker: every
// scenario must drain its input, measure its latency and land in
// results.json, and the chart must be written. KS (Kafka Streams) is
// required where java and mvn are on PATH (CI fetches its jars first with
// kstreams/build.sh fetch); elsewhere a run of all scenarios may leave it
// out.
func TestSmoke(t *testing.T) {
	out := t.TempDir()
	var stdout, stderr bytes.Buffer
	code := run([]string{"--broker", "embedded", "--records", "2000", "--latency-duration", "1s", "--out", out}, &stdout, &stderr)
	t.Logf("stdout:\n%s", stdout.String())
	if code != 0 {
		t.Fatalf("exit code %d; stderr:\n%s", code, stderr.String())
	}
	data, err := os.ReadFile(filepath.Join(out, "results.json"))
	if err != nil {
		t.Fatal(err)
	}
	var results []map[string]any
	if err := json.Unmarshal(data, &results); err != nil {
		t.Fatalf("results.json: %v\n%s", err, data)
	}
	want := []string{"L1", "L2", "W0", "KS", "M-key", "M-partition", "M-none", "M-router"}
	_, errJava := exec.LookPath(javaBinary())
	_, errMvn := exec.LookPath("mvn")
	if errJava != nil || errMvn != nil {
		t.Logf("java or mvn not on PATH: KS is not required")
		if !strings.Contains(stdout.String(), "\nKS ") {
			want = slices.DeleteFunc(want, func(n string) bool { return n == "KS" })
		}
	}
	var got []string
	for _, r := range results {
		name, _ := r["name"].(string)
		got = append(got, name)
		for _, field := range []string{"msgs_per_sec", "mb_per_sec", "cpu_sec_per_million", "peak_rss_bytes"} {
			if v, ok := r[field].(float64); !ok || v <= 0 {
				t.Errorf("%s: %s = %v, want > 0", name, field, r[field])
			}
		}
		for _, field := range []string{"p50_ms", "p99_ms"} {
			if _, ok := r[field].(float64); !ok {
				t.Errorf("%s: %s missing", name, field)
			}
		}
		checkRequests(t, name, r)
	}
	if !slices.Equal(got, want) {
		t.Errorf("results.json names = %v, want %v", got, want)
	}
	if fi, err := os.Stat(filepath.Join(out, "results.png")); err != nil || fi.Size() == 0 {
		t.Errorf("results.png: %v", err)
	}
	for _, name := range want {
		if !strings.Contains(stdout.String(), name) {
			t.Errorf("the table has no row for %s", name)
		}
	}
}

// TestBrokerPID finds the process listening on an address (this one), as
// --broker-pid auto does for an external broker, and reads its CPU time.
func TestBrokerPID(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	pid, why := brokerPID("auto", ln.Addr().String())
	if pid != os.Getpid() {
		t.Fatalf("brokerPID(auto, %s) = %d (%s), want %d", ln.Addr(), pid, why, os.Getpid())
	}
	if pid, why := brokerPID("auto", "127.0.0.1:1"); pid != 0 || why == "" {
		t.Errorf("brokerPID(auto, 127.0.0.1:1) = %d, %q; want 0 and a reason", pid, why)
	}
	deadline := time.Now().Add(50 * time.Millisecond)
	for time.Now().Before(deadline) {
		// burn a little CPU, so that the 10 ms steps of /proc show some
	}
	if cpu := procCPU(pid); cpu <= 0 {
		t.Errorf("procCPU(%d) = %v, want > 0", pid, cpu)
	}
	if rss := procPeakRSS(pid); rss <= 0 {
		t.Errorf("procPeakRSS(%d) = %d, want > 0", pid, rss)
	}
}

// checkRequests checks a scenario's client-request counts: the scenarios
// on franz-go (L1, L2, Millrace's) fetched, committed and produced batches
// holding at least the outputs and dead letters the drain counted (more
// only if a batch was retried); W0 and KS are not counted.
func checkRequests(t *testing.T, name string, r map[string]any) {
	t.Helper()
	num := func(f string) float64 { v, _ := r[f].(float64); return v }
	if name == "W0" || name == "KS" {
		if num("produce_requests_per_million") != 0 {
			t.Errorf("%s: produce requests counted for a scenario whose clients are not franz-go's", name)
		}
		return
	}
	for _, f := range []string{"produce_requests_per_million", "fetch_requests_per_million", "commit_requests_per_million", "batches_per_million"} {
		if num(f) <= 0 {
			t.Errorf("%s: %s = %v, want > 0", name, f, r[f])
		}
	}
	batched := num("batches_per_million") * num("records_per_batch") * num("records") / 1e6
	if written := num("outputs") + num("dead_letters"); batched+0.5 < written {
		t.Errorf("%s: its produced batches held %.0f records, the drain wrote %.0f", name, batched, written)
	}
}

// TestSmokeRounds runs two rounds of two scenarios on the embedded broker:
// each round drains the whole input with topics and groups of its own,
// rounds.json holds both, and results.json each scenario's medians, with
// the number of rounds they are the medians of.
func TestSmokeRounds(t *testing.T) {
	out := t.TempDir()
	var stdout, stderr bytes.Buffer
	code := run([]string{"--broker", "embedded", "--records", "1000", "--rounds", "2", "--scenarios", "L2,M-key",
		"--latency-duration", "0", "--low-rate", "0", "--out", out}, &stdout, &stderr)
	if code != 0 {
		t.Fatalf("exit code %d; stderr:\n%s", code, stderr.String())
	}
	var rounds [][]Result
	var medians []Result
	for name, v := range map[string]any{"rounds.json": &rounds, "results.json": &medians} {
		data, err := os.ReadFile(filepath.Join(out, name))
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(data, v); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	if len(rounds) != 2 {
		t.Fatalf("%d rounds in rounds.json, want 2", len(rounds))
	}
	for i, rs := range rounds {
		for _, name := range []string{"L2", "M-key"} {
			r := find(rs, name)
			if r == nil || r.Records != 1000 || r.MsgsPerSec <= 0 {
				t.Errorf("round %d: %s = %+v, want a drain of the 1000 records", i+1, name, r)
			}
		}
	}
	for _, r := range medians {
		if r.Rounds != 2 {
			t.Errorf("%s: the median of %d rounds, want 2", r.Name, r.Rounds)
		}
		if lo, hi := min(find(rounds[0], r.Name).MsgsPerSec, find(rounds[1], r.Name).MsgsPerSec), max(find(rounds[0], r.Name).MsgsPerSec, find(rounds[1], r.Name).MsgsPerSec); r.MsgsPerSec < lo || r.MsgsPerSec > hi {
			t.Errorf("%s: median %.0f outside its rounds' %.0f–%.0f", r.Name, r.MsgsPerSec, lo, hi)
		}
	}
	if !strings.Contains(stdout.String(), "Round by round (2 rounds") {
		t.Errorf("the table has no round-by-round block:\n%s", stdout.String())
	}
}
