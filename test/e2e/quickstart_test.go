package e2e

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// quickstart starts examples/quickstart/run.sh with this run's binary and
// the given addresses.
func quickstart(t *testing.T, listen, admin string, args ...string) *proc {
	t.Helper()
	script, err := filepath.Abs("../../examples/quickstart/run.sh")
	if err != nil {
		t.Fatal(err)
	}
	p := &proc{runner: &runner{t: t, out: &syncBuffer{}, done: make(chan struct{})}, stdout: &syncBuffer{}}
	p.cmd = exec.Command(script, args...)
	p.cmd.Env = append(os.Environ(), "MILLRACE_BIN="+binary, "MILLRACE_EMBEDDED_LISTEN="+listen, "MILLRACE_ADMIN_ADDR="+admin, "MILLRACE_DATA_DIR="+t.TempDir())
	p.cmd.Stdout, p.cmd.Stderr = p.stdout, p.out
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.err = p.cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			_ = p.cmd.Process.Signal(syscall.SIGTERM)
			<-p.done
		}
		if t.Failed() {
			t.Logf("quickstart:\nstdout:\n%s\nstderr:\n%s", p.stdout.String(), p.out.String())
		}
	})
	return p
}

// The quickstart names the variables to set when a port is taken, prints
// the status page's address, and with --keep-running leaves the runner up
// until it is stopped.
func TestQuickstart(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	for _, c := range []struct{ listen, admin, names string }{
		{busy.Addr().String(), fmt.Sprintf("127.0.0.1:%d", freePort(t)), "MILLRACE_EMBEDDED_LISTEN"},
		{fmt.Sprintf("127.0.0.1:%d", freePort(t)), busy.Addr().String(), "MILLRACE_ADMIN_ADDR"},
	} {
		p := quickstart(t, c.listen, c.admin)
		if code := p.wait(2 * time.Minute); code != 1 {
			t.Errorf("a taken port: exit %d, want 1", code)
		}
		e := p.out.String()
		if !strings.Contains(e, busy.Addr().String()+" (") || !strings.Contains(e, "set "+c.names) ||
			!strings.Contains(e, "MILLRACE_EMBEDDED_LISTEN=") || !strings.Contains(e, "MILLRACE_ADMIN_ADDR=") {
			t.Errorf("a taken port should be named, with the variables to set:\n%s", e)
		}
	}

	admin := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	p := quickstart(t, fmt.Sprintf("127.0.0.1:%d", freePort(t)), admin, "--keep-running")
	deadline := time.Now().Add(3 * time.Minute)
	for !strings.Contains(p.stdout.String(), "the runner keeps running") && time.Now().Before(deadline) {
		select {
		case <-p.done:
			t.Fatalf("the quickstart exited (%v) instead of running on", p.err)
		case <-time.After(100 * time.Millisecond):
		}
	}
	out := p.stdout.String()
	m := regexp.MustCompile(`status page: (http://\S+/) `).FindStringSubmatch(out)
	if m == nil || m[1] != "http://"+admin+"/" {
		t.Fatalf("no status page address %s in:\n%s", admin, out)
	}
	if !strings.Contains(out, "==> orders-de (1 record(s) expected)") || !strings.Contains(out, `"user_id":"ada"`) {
		t.Errorf("the outputs are not shown:\n%s", out)
	}
	resp, err := http.Get(m[1])
	if err != nil {
		t.Fatalf("status page: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("status page: HTTP %d", resp.StatusCode)
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	if code := p.wait(time.Minute); code != 0 {
		t.Errorf("stopped quickstart: exit %d, want 0", code)
	}
	// The runner stopped with it.
	for time.Now().Before(deadline) {
		if c, err := net.DialTimeout("tcp", admin, time.Second); err != nil {
			return
		} else {
			c.Close()
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Errorf("the runner still serves %s after the quickstart stopped", admin)
}
