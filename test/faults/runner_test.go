package faults

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// pipe is the pipeline every scenario runs: the input's id, key and seq
// pass unchanged, a step adds a field, and records with "poison": true
// fail validation (they belong in the dead-letter topic).
type pipe struct {
	brokers     string // default the loopback listener
	in, out     string
	dlq         string // "" for none
	group       string
	clientID    string
	maxInFlight int    // default 256
	kafkaExtra  string // more YAML under kafka:, indented two spaces
	steps       string // more transform steps, YAML list items indented six spaces
	shutdown    string // runner.shutdown_timeout, default 20s
}

func (p pipe) yaml(admin string) string {
	brokers := p.brokers
	if brokers == "" {
		brokers = brokerOf.addr()
	}
	errs := ""
	if p.dlq != "" {
		errs = "    errors: {dead_letter_topic: " + p.dlq + "}\n"
	}
	mif := p.maxInFlight
	if mif == 0 {
		mif = 256
	}
	clientID := p.clientID
	if clientID == "" {
		clientID = "millrace-faults"
	}
	shutdown := p.shutdown
	if shutdown == "" {
		shutdown = "20s"
	}
	return fmt.Sprintf(`version: 1
kafka:
  brokers: [%q]
  client_id: %s
  topics: {create: false}
%srunner: {shutdown_timeout: %s}
admin: {address: %q, poll_interval: 1s}
pipelines:
  - name: faults
    input: {topic: %s, group: %s, start: oldest, max_in_flight: %d}
    transforms:
      - validate: {schema: {properties: {poison: {const: false}}}}
      - set: {seen: 'true'}
%s    output: {topic: %s}
%s`, brokers, clientID, p.kafkaExtra, shutdown, admin, p.in, p.group, mif, p.steps, p.out, errs)
}

// runner is one pipeline-runner process.
type runner struct {
	t       *testing.T
	cmd     *exec.Cmd
	admin   string
	ns      *namespace // where it runs, nil for the host
	logPath string
	started time.Time
	exited  chan struct{}
	code    int
	peak    atomic.Int64 // highest VmHWM seen, bytes
	mu      sync.Mutex
	log     *os.File
}

// freeAddr returns a loopback address with a free port.
func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

var runners atomic.Int64

// startRunner writes p's config and starts `pipeline-runner run` with it,
// in ns when given.
func startRunner(t *testing.T, p pipe, ns *namespace) *runner {
	t.Helper()
	return startProcess(t, p, ns, "run", "--log-level", "info")
}

// startProcess starts pipeline-runner with args and -c p's config.
func startProcess(t *testing.T, p pipe, ns *namespace, args ...string) *runner {
	t.Helper()
	admin := freeAddr(t)
	if ns != nil {
		admin = ns.nsIP + ":" + strings.Split(admin, ":")[1]
	}
	n := runners.Add(1)
	dir := t.TempDir()
	cfg := filepath.Join(dir, fmt.Sprintf("runner-%d.yaml", n))
	if err := os.WriteFile(cfg, []byte(p.yaml(admin)), 0o600); err != nil {
		t.Fatal(err)
	}
	logPath := filepath.Join(dir, fmt.Sprintf("runner-%d.log", n))
	f, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	args = append(args, "-c", cfg)
	var cmd *exec.Cmd
	if ns != nil {
		cmd = ns.command(binary, args...)
	} else {
		cmd = exec.Command(binary, args...)
	}
	cmd.Stdout, cmd.Stderr = f, f
	r := &runner{t: t, cmd: cmd, admin: admin, ns: ns, logPath: logPath, exited: make(chan struct{}), log: f}
	r.started = time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		err := cmd.Wait()
		r.code = 0
		if ee, ok := err.(*exec.ExitError); ok {
			r.code = ee.ExitCode()
			if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
				r.code = 128 + int(ws.Signal())
			}
		}
		f.Close()
		close(r.exited)
	}()
	go r.sampleRSS()
	t.Cleanup(func() {
		select {
		case <-r.exited:
		default:
			_ = r.cmd.Process.Kill()
			<-r.exited
		}
		if t.Failed() {
			r.dumpLog(80)
		}
	})
	return r
}

// sampleRSS keeps the process's peak resident set (VmHWM) while it runs.
func (r *runner) sampleRSS() {
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for {
		if hwm := vmHWM(r.cmd.Process.Pid); hwm > r.peak.Load() {
			r.peak.Store(hwm)
		}
		select {
		case <-r.exited:
			return
		case <-tick.C:
		}
	}
}

func vmHWM(pid int) int64 {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	sc := bufio.NewScanner(bytes.NewReader(raw))
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kb << 10
		}
	}
	return 0
}

func (r *runner) alive() bool {
	select {
	case <-r.exited:
		return false
	default:
		return true
	}
}

// kill sends SIGKILL and waits for the exit.
func (r *runner) kill() {
	_ = r.cmd.Process.Signal(syscall.SIGKILL)
	<-r.exited
}

// term sends SIGTERM and returns how long the exit took, and the exit code.
func (r *runner) term(timeout time.Duration) (time.Duration, int) {
	r.t.Helper()
	start := time.Now()
	_ = r.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-r.exited:
	case <-time.After(timeout):
		r.t.Fatalf("runner did not exit within %s of SIGTERM", timeout)
	}
	return time.Since(start), r.code
}

// get sends a GET to the admin server.
func (r *runner) get(path string) (int, string, error) {
	if r.ns != nil {
		return r.ns.get(r.admin, path)
	}
	c := http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get("http://" + r.admin + path)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body), nil
}

// ready is /readyz: the status code (0 when it does not answer) and body.
func (r *runner) ready() (int, string) {
	code, body, _ := r.get("/readyz")
	return code, body
}

// waitReady waits until /readyz answers want, returning how long it took.
func (r *runner) waitReady(want int, timeout time.Duration) time.Duration {
	r.t.Helper()
	start := time.Now()
	var code int
	var body string
	for time.Since(start) < timeout {
		if code, body = r.ready(); code == want {
			return time.Since(start)
		}
		if !r.alive() {
			r.t.Fatalf("runner exited (%d) while waiting for /readyz %d", r.code, want)
		}
		time.Sleep(100 * time.Millisecond)
	}
	r.t.Fatalf("/readyz did not answer %d within %s: %d %s", want, timeout, code, body)
	return 0
}

// status is /api/status, decoded.
func (r *runner) status() map[string]any {
	r.t.Helper()
	code, body, err := r.get("/api/status")
	if err != nil || code != 200 {
		r.t.Fatalf("/api/status: %d %v %s", code, err, body)
	}
	var st map[string]any
	if err := json.Unmarshal([]byte(body), &st); err != nil {
		r.t.Fatalf("/api/status: %v: %s", err, body)
	}
	return st
}

// logText is what the runner logged so far.
func (r *runner) logText() string {
	raw, _ := os.ReadFile(r.logPath)
	return string(raw)
}

func (r *runner) dumpLog(n int) {
	lines := strings.Split(strings.TrimRight(r.logText(), "\n"), "\n")
	r.t.Logf("----- last %d lines of %s -----", n, filepath.Base(r.logPath))
	for _, l := range lines[max(0, len(lines)-n):] {
		r.t.Log(l)
	}
}
