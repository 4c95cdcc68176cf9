package cli

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
)

// test --json reports config errors as JSON too, on stdout, with exit
// code 2.
func TestTestJSONConfigErrors(t *testing.T) {
	bad := writeFile(t, filepath.Join(t.TempDir(), "p.yaml"), strings.Replace(okConfig, "topic: in}", "topic: in, start: latest}", 1))
	out, errOut, code := run(t, Options{}, "test", "--json", "-c", bad)
	if code != exitUsage {
		t.Errorf("exit %d, want %d", code, exitUsage)
	}
	var got struct {
		Passed, Failed int
		ConfigErrors   []struct {
			File, Message, Hint, Text string
			Line, Col                 int
		} `json:"config_errors"`
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("stdout is not JSON: %v\n%s", err, out)
	}
	if len(got.ConfigErrors) != 1 {
		t.Fatalf("config errors %+v", got.ConfigErrors)
	}
	e := got.ConfigErrors[0]
	if e.File != bad || e.Line != 3 || e.Col != 49 || !strings.Contains(e.Message, `got "latest"`) || e.Hint != `did you mean "newest"?` || !strings.Contains(errOut, e.Text) {
		t.Errorf("config error %+v; stderr %q", e, errOut)
	}
}
