package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// Config errors exit 2 and name file:line:col; every error of the file is
// printed.
func TestValidateAndRunRejectBadConfig(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "bad.yaml")
	bad := "version: 1\npipelines:\n  - name: p\n    input: {topic: a, strat: oldest}\n    transforms:\n      - fitler: 'x > 1'\n    output: {topic: b}\n"
	if err := os.WriteFile(path, []byte(bad), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, cmd := range []string{"validate", "run"} {
		_, stderr, code := cli(t, "", cmd, "-c", path)
		if code != 2 {
			t.Errorf("%s: exit %d, want 2", cmd, code)
		}
		for _, want := range []string{path + `:4:23: unknown key "strat" (did you mean "start"?)`, path + `:6:9: unknown transform "fitler" (did you mean "filter"?)`, "2 error(s)"} {
			if !strings.Contains(stderr, want) {
				t.Errorf("%s: stderr lacks %q:\n%s", cmd, want, stderr)
			}
		}
	}
	_, stderr, code := cli(t, "", "validate", "-c", filepath.Join(dir, "missing.yaml"))
	if code != 2 || !strings.Contains(stderr, "missing.yaml: cannot read config") {
		t.Errorf("missing file: exit %d, %s", code, stderr)
	}
	stdout, _, code := cli(t, "", "validate", "-c", rootConfig(t))
	if code != 0 || !strings.Contains(stdout, "ok, 1 pipeline(s)") {
		t.Errorf("valid config: exit %d, %s", code, stdout)
	}
}

func TestUsageErrorsExit2(t *testing.T) {
	for _, args := range [][]string{
		{"nosuchcommand"},
		{"produce"},
		{"consume", "--topic", "t", "--from", "yesterday"},
		{"run", "-c", rootConfig(t), "--pipeline", "nope"},
		{"run", "--bogus-flag"},
	} {
		_, stderr, code := cli(t, "", args...)
		if code != 2 {
			t.Errorf("%v: exit %d, want 2 (%s)", args, code, stderr)
		}
	}
	_, stderr, _ := cli(t, "", "run", "-c", rootConfig(t), "--pipeline", "nope")
	if !strings.Contains(stderr, `unknown pipeline "nope"; the config has: enrich-orders`) {
		t.Errorf("unknown pipeline message: %s", stderr)
	}
	for _, cmd := range []string{"run", "validate", "broker", "produce", "consume", "version"} {
		stdout, _, code := cli(t, "", cmd, "--help")
		if code != 0 || !strings.Contains(stdout, "Examples:") {
			t.Errorf("%s --help: exit %d, no example:\n%s", cmd, code, stdout)
		}
	}
}

// consume --group commits exactly what it printed; a second consume of the
// group continues after it.
func TestConsumeGroupCommits(t *testing.T) {
	eachBroker(t, func(t *testing.T, b broker) {
		topic := topicName(t, "c")
		createTopics(t, b, 1, topic)
		var recs []*kgo.Record
		for i := range 5 {
			recs = append(recs, &kgo.Record{Topic: topic, Value: fmt.Appendf(nil, `{"i":%d}`, i)})
		}
		produce(t, b, recs...)
		group := topic + "-g"
		out1, stderr, code := cli(t, "", "consume", "--brokers", b.Addr, "--topic", topic, "--group", group, "--max", "2", "--timeout", "60s")
		if code != 0 {
			t.Fatalf("consume: %d %s", code, stderr)
		}
		if out1 != "{\"i\":0}\n{\"i\":1}\n" {
			t.Errorf("first consume printed %q", out1)
		}
		if c := committed(t, b, group, topic); c[0] != 2 {
			t.Errorf("committed %v, want partition 0 at 2", c)
		}
		out2, _, _ := cli(t, "", "consume", "--brokers", b.Addr, "--topic", topic, "--group", group, "--max", "3", "--timeout", "60s")
		if out2 != "{\"i\":2}\n{\"i\":3}\n{\"i\":4}\n" {
			t.Errorf("second consume printed %q", out2)
		}
		if c := committed(t, b, group, topic); c[0] != 5 {
			t.Errorf("committed %v, want 5", c)
		}
	})
}

// produce reads NDJSON from stdin, keys records by a field, and fails (exit
// 1) when the broker cannot be reached rather than pretending success.
func TestProduceFromStdin(t *testing.T) {
	eachBroker(t, func(t *testing.T, b broker) {
		topic := topicName(t, "p")
		createTopics(t, b, 3, topic)
		_, stderr, code := cli(t, "{\"user\":\"a\",\"n\":1}\n\n{\"user\":\"b\",\"n\":2}\n", "produce", "--brokers", b.Addr, "--topic", topic, "--key-field", "user")
		if code != 0 || !strings.Contains(stderr, "produced 2 record(s)") {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		got := readTopic(t, b, topic, 2, 30*time.Second)
		keys := map[string]bool{}
		for _, r := range got {
			keys[string(r.Key)] = true
		}
		if !keys["a"] || !keys["b"] {
			t.Errorf("keys %v", keys)
		}
	})
	_, stderr, code := cli(t, "", "produce", "--brokers", "127.0.0.1:1", "--topic", "t", "--timeout", "2s", `{"a":1}`)
	if code != 1 {
		t.Errorf("unreachable broker: exit %d, want 1 (%s)", code, stderr)
	}
}

func rootConfig(t *testing.T) string {
	p, err := filepath.Abs("../../pipelines.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// `pipeline-runner test` passes on the shipped config and fails, with a
// diff and exit code 1, on a broken expectation.
func TestConfigUnitTests(t *testing.T) {
	stdout, stderr, code := cli(t, "", "test", "-c", rootConfig(t))
	if code != 0 || !strings.Contains(stdout, "4 passed, 0 failed") {
		t.Fatalf("shipped tests: exit %d\n%s%s", code, stdout, stderr)
	}
	dir := t.TempDir()
	cfg, err := os.ReadFile(rootConfig(t))
	if err != nil {
		t.Fatal(err)
	}
	tests, err := os.ReadFile(strings.TrimSuffix(rootConfig(t), ".yaml") + "_test.yaml")
	if err != nil {
		t.Fatal(err)
	}
	broken := strings.Replace(string(tests), "total_cents: 300", "total_cents: 301", 1)
	if broken == string(tests) {
		t.Fatal("the expectation to break is gone from pipelines_test.yaml")
	}
	if err := os.WriteFile(filepath.Join(dir, "p.yaml"), cfg, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "p_test.yaml"), []byte(broken), 0o644); err != nil {
		t.Fatal(err)
	}
	stdout, _, code = cli(t, "", "test", "-c", filepath.Join(dir, "p.yaml"))
	if code != 1 {
		t.Errorf("broken expectation: exit %d, want 1", code)
	}
	for _, want := range []string{"FAIL enrich-orders: paid orders are enriched", "json_equals mismatch (- want, + got)", `-   "total_cents": 301`, `+   "total_cents": 300`, "3 passed, 1 failed"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, stdout)
		}
	}
}

// Every shipped config that uses only built-in transforms passes its own
// tests (examples/custom-transform runs its tests in its own package).
func TestShippedConfigsPassTheirTests(t *testing.T) {
	configs, err := filepath.Glob("../../examples/*/pipelines.yaml")
	if err != nil {
		t.Fatal(err)
	}
	configs = append(configs, "../../pipelines.yaml")
	checked := 0
	for _, c := range configs {
		if strings.Contains(c, "custom-transform") {
			continue
		}
		abs, err := filepath.Abs(c)
		if err != nil {
			t.Fatal(err)
		}
		stdout, stderr, code := cli(t, "", "test", "-c", abs)
		if code != 0 || !strings.Contains(stdout, " 0 failed") || strings.Contains(stdout, "no tests") {
			t.Errorf("%s: exit %d\n%s%s", c, code, stdout, stderr)
		}
		checked++
	}
	if checked < 2 {
		t.Errorf("only %d shipped config(s) found", checked)
	}
}
