package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const okConfig = "version: 1\nkafka: {brokers: [localhost:9092]}\npipelines: [{name: p, input: {topic: in}, output: {topic: out}}]\n"

func writeFile(t *testing.T, path, text string) string {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// validate takes several -c, folders and globs, checks every file, and
// exits 2 naming each file with errors; a second -c no longer replaces the
// first, and other commands refuse several.
func TestValidateSeveral(t *testing.T) {
	dir := t.TempDir()
	a := writeFile(t, filepath.Join(dir, "cfg", "a.yaml"), okConfig)
	b := writeFile(t, filepath.Join(dir, "cfg", "b.yml"), okConfig)
	writeFile(t, filepath.Join(dir, "cfg", "a_test.yaml"), "tests: []\n") // config tests, no config
	writeFile(t, filepath.Join(dir, "cfg", "notes.txt"), "not yaml")
	bad := writeFile(t, filepath.Join(dir, "bad", "bad.yaml"), strings.Replace(okConfig, "topic: in}", "topic: in, start: latest}", 1))

	out, errOut, code := run(t, Options{}, "validate", "-c", a, "-c", b)
	if code != exitOK || !strings.Contains(out, a+": ok") || !strings.Contains(out, b+": ok") {
		t.Errorf("validate -c a -c b: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	out, errOut, code = run(t, Options{}, "validate", filepath.Join(dir, "cfg"))
	if code != exitOK || strings.Count(out, ": ok") != 2 {
		t.Errorf("validate FOLDER: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	out, _, code = run(t, Options{}, "validate", filepath.Join(dir, "cfg", "*.yaml"))
	if code != exitOK || out != a+": ok, 1 pipeline(s)\n" {
		t.Errorf("validate GLOB: exit %d, stdout %q", code, out)
	}
	out, errOut, code = run(t, Options{}, "validate", "-c", a, filepath.Join(dir, "bad"), b)
	if code != exitUsage {
		t.Errorf("a bad file among good ones: exit %d, want %d", code, exitUsage)
	}
	for _, want := range []string{bad + `:3:49: expected one of "oldest", "newest", got "latest" (did you mean "newest"?)`, "1 error(s) in " + bad, "1 of 3 config(s) have errors"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errOut)
		}
	}
	if !strings.Contains(out, a+": ok") || !strings.Contains(out, b+": ok") {
		t.Errorf("the good files are still checked:\n%s", out)
	}
	if _, errOut, code = run(t, Options{}, "validate", filepath.Join(dir, "none-*.yaml")); code != exitUsage || !strings.Contains(errOut, "matches no file") {
		t.Errorf("a glob matching nothing: exit %d, %s", code, errOut)
	}
	if _, errOut, code = run(t, Options{}, "test", "-c", a, "-c", b); code != exitUsage || !strings.Contains(errOut, "only validate takes several configs") {
		t.Errorf("test -c a -c b: exit %d, %s", code, errOut)
	}
}

// validate --print shows the config as the runner reads it: interpolated,
// defaults filled in, secrets redacted; what it prints validates again.
func TestValidatePrint(t *testing.T) {
	t.Setenv("PRINT_BROKERS", "k1:9092,k2:9092")
	t.Setenv("PRINT_PASSWORD", "hunter2-pw")
	t.Setenv("PRINT_TOKEN", "tok-s3cret")
	t.Setenv("PRINT_ADMIN_TOKEN", "admin-t0ken")
	cfg := writeFile(t, filepath.Join(t.TempDir(), "p.yaml"), `version: 1
kafka:
  brokers: ${PRINT_BROKERS}
  sasl: {mechanism: SCRAM-SHA-512, username: svc, password: "${PRINT_PASSWORD}"}
  tls: {enabled: true}
admin:
  auth: {bearer_token: "${PRINT_ADMIN_TOKEN}"}
pipelines:
  - name: orders
    input: {topic: "${PRINT_IN:-orders-in}"}
    transforms:
      - filter: 'token != "${PRINT_TOKEN}"'
      - set: {n: '1'}
    output: {topic: "007"}
    errors: {dead_letter_topic: dlq}
`)
	out, errOut, code := run(t, Options{}, "validate", "--print", "-c", cfg)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{
		"brokers: k1:9092,k2:9092", "topic: orders-in", // interpolated
		"password: (redacted)", "bearer_token: (redacted)", "- filter: (redacted)", // secrets
		"start: oldest", "group: orders", "max_retries: 3", "shutdown_timeout: 30s", "client_id: millrace", // defaults
		`topic: "007"`, `n: "1"`, // strings stay strings
	} {
		if !strings.Contains(out, want) {
			t.Errorf("--print lacks %q:\n%s", want, out)
		}
	}
	for _, secret := range []string{"hunter2-pw", "tok-s3cret", "admin-t0ken"} {
		if strings.Contains(out+errOut, secret) {
			t.Errorf("--print shows the secret %q:\n%s", secret, out)
		}
	}
	printed := writeFile(t, filepath.Join(t.TempDir(), "printed.yaml"), strings.Replace(strings.Replace(out, "(redacted)", "${PRINT_PASSWORD}", 1), "(redacted)", "${PRINT_ADMIN_TOKEN}", 1))
	if _, errOut, code := run(t, Options{}, "validate", "-c", printed); code != exitOK {
		t.Errorf("the printed config does not validate: %s\n%s", errOut, out)
	}
	if _, errOut, code := run(t, Options{}, "validate", "--print", "-c", filepath.Join(t.TempDir(), "missing.yaml")); code != exitUsage || !strings.Contains(errOut, "cannot read config") {
		t.Errorf("--print of a missing file: exit %d, %s", code, errOut)
	}
}
