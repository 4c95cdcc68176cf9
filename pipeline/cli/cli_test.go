package cli

import (
	"bytes"
	"strings"
	"testing"
)

// run runs Main with args and returns stdout, stderr and the exit code.
func run(t *testing.T, opts Options, args ...string) (string, string, int) {
	t.Helper()
	var out, errOut bytes.Buffer
	opts.Stdin, opts.Stdout, opts.Stderr = strings.NewReader(""), &out, &errOut
	code := Main(args, opts)
	return out.String(), errOut.String(), code
}

// Each shell's completion script is generated from the command table and
// names the program; the completions themselves list the commands and
// their flags.
func TestCompletion(t *testing.T) {
	for _, shell := range []string{"bash", "zsh", "fish"} {
		out, errOut, code := run(t, Options{}, "completion", shell)
		if code != exitOK || !strings.Contains(out, "pipeline-runner") || len(out) < 500 {
			t.Errorf("completion %s: exit %d, %d bytes, stderr %q", shell, code, len(out), errOut)
		}
	}
	for _, cmd := range []string{"completion", "topics", "validate", "consume"} {
		if out, _, code := run(t, Options{}, cmd, "--help"); code != exitOK || !strings.Contains(out, "Examples:") {
			t.Errorf("%s --help: exit %d, no example:\n%s", cmd, code, out)
		}
	}
	out, _, _ := run(t, Options{}, "__complete", "re")
	if !strings.Contains(out, "replay") {
		t.Errorf("completing \"re\" gives %q, want replay among them", out)
	}
	out, _, _ = run(t, Options{}, "__complete", "consume", "--fr")
	if !strings.Contains(out, "--from") {
		t.Errorf("completing consume --fr gives %q", out)
	}
}

// A custom binary names itself in help, examples, version and completion.
func TestProgramName(t *testing.T) {
	opts := Options{Name: "orders-runner"}
	for _, args := range [][]string{{"--help"}, {"replay", "--help"}, {"consume", "--help"}, {"version"}, {"completion", "bash"}} {
		out, _, code := run(t, opts, args...)
		if code != exitOK {
			t.Errorf("%v: exit %d", args, code)
		}
		if !strings.Contains(out, "orders-runner") || strings.Contains(out, "pipeline-runner") {
			t.Errorf("%v names the program wrongly:\n%s", args, out)
		}
	}
	out, _, _ := run(t, Options{}, "--help")
	if !strings.Contains(out, "pipeline-runner run") {
		t.Errorf("the default name is pipeline-runner:\n%s", out)
	}
}

// --key-field on a line that is not a JSON object says so plainly, not
// with the JSON decoder's wording.
func TestKeyFieldMessages(t *testing.T) {
	for _, c := range []struct{ line, want string }{
		{`not json`, `the line is not JSON, so it has no field "user" for --key-field`},
		{`[1,2]`, `the line is JSON but not an object, so it has no field "user" for --key-field`},
		{`{"id":1}`, `the line has no field "user" for --key-field`},
	} {
		_, err := keyFromField([]byte(c.line), "user")
		if err == nil || err.Error() != c.want {
			t.Errorf("%s: error %v, want %q", c.line, err, c.want)
		}
	}
	if k, err := keyFromField([]byte(`{"user":"ann"}`), "user"); err != nil || string(k) != "ann" {
		t.Errorf("key %q, %v", k, err)
	}
}
