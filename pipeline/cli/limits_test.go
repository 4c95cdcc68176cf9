package cli

import (
	"bytes"
	"os"
	"strings"
	"testing"
)

// A config that is no regular file is a config error: exit code 2, with
// the reason, and nothing read.
func TestValidateDevice(t *testing.T) {
	if _, err := os.Stat("/dev/zero"); err != nil {
		t.Skip("no /dev/zero")
	}
	var out, errOut bytes.Buffer
	code := Main([]string{"validate", "-c", "/dev/zero"}, Options{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errOut})
	if code != exitUsage {
		t.Errorf("exit code %d, want %d", code, exitUsage)
	}
	if want := "/dev/zero: cannot read config: is a device, not a regular file"; !strings.Contains(errOut.String(), want) {
		t.Errorf("stderr %q, want %q", errOut.String(), want)
	}
}

// A flow-style broker list validates (issue 8).
func TestValidateFlowBrokers(t *testing.T) {
	path := t.TempDir() + "/p.yaml"
	cfg := "version: 1\nkafka: {brokers: [localhost:9092]}\npipelines: [{name: p, input: {topic: in}, output: {topic: out}}]\n"
	if err := os.WriteFile(path, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	if code := Main([]string{"validate", "-c", path}, Options{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errOut}); code != exitOK {
		t.Fatalf("exit code %d: %s", code, errOut.String())
	}
	if !strings.Contains(out.String(), "ok, 1 pipeline(s)") {
		t.Errorf("stdout %q", out.String())
	}
}
