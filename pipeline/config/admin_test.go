package config_test

import (
	"strings"
	"testing"
	"time"

	"github.com/millrace-dev/millrace/pipeline/config"
)

func TestAdminDefaults(t *testing.T) {
	cfg := parse(t, minimal, nil)
	want := config.Admin{Address: config.DefaultAdminAddress, PollInterval: 5 * time.Second}
	if cfg.Admin != want || !cfg.Admin.Enabled() {
		t.Errorf("Admin = %+v, want %+v", cfg.Admin, want)
	}
	if cfg.Runner.LogPayloads {
		t.Error("payloads are logged by default")
	}
	if !strings.HasPrefix(config.DefaultAdminAddress, "127.0.0.1:") {
		t.Errorf("the default admin address %s is not loopback", config.DefaultAdminAddress)
	}
}

func TestAdminExplicit(t *testing.T) {
	cfg := parse(t, minimal+`admin: {address: "0.0.0.0:9999", pprof: true, poll_interval: 250ms}
runner: {log_payloads: true}
`, nil)
	want := config.Admin{Address: "0.0.0.0:9999", AddressSet: true, Pprof: true, PollInterval: 250 * time.Millisecond}
	if cfg.Admin != want || !cfg.Runner.LogPayloads {
		t.Errorf("Admin = %+v, LogPayloads %v", cfg.Admin, cfg.Runner.LogPayloads)
	}
	off := parse(t, minimal+"admin: {address: off}\n", nil)
	if off.Admin.Enabled() {
		t.Errorf("address off: %+v", off.Admin)
	}
}

func TestAdminErrors(t *testing.T) {
	for _, c := range []struct{ yaml, want string }{
		{`admin: {address: "nowhere"}`, `test.yaml:7:18: admin.address "nowhere": is not host:port (use host:port such as 127.0.0.1:9469, or off)`},
		{`admin: {address: "127.0.0.1:http"}`, `has no valid port`},
		{`admin: {poll_interval: 1ms}`, `test.yaml:7:24: poll_interval must be at least 100ms`},
		{`admin: {adress: off}`, `unknown key "adress" (did you mean "address"?)`},
		{`admin: {address: "${ADMIN}"}`, `admin.address (value from the environment): is not host:port`},
	} {
		got := parseErr(t, minimal+c.yaml+"\n", map[string]string{"ADMIN": "hunter2-s3cret"})
		if !strings.Contains(got, c.want) {
			t.Errorf("%s:\n got %s\nwant %s", c.yaml, got, c.want)
		}
		if strings.Contains(got, "hunter2") {
			t.Errorf("a value from the environment in an error: %s", got)
		}
	}
}

func TestFromEnv(t *testing.T) {
	cfg := parse(t, `
version: 1
pipelines:
  - name: ${NAME}
    input: {topic: "${IN}"}
    output:
      topic: out
      routes: [{when: 'true', topic: "${ROUTE}"}]
    errors: {dead_letter_topic: "${DLQ}"}
  - name: plain
    input: {topic: in2, group: g}
    output: {topic: out2}
`, map[string]string{"NAME": "secret-name", "IN": "secret-in", "ROUTE": "secret-route", "DLQ": "secret-dlq"})
	got := cfg.Pipelines[0].FromEnv
	for _, k := range []string{"name", "input.topic", "input.group", "output.routes[0].topic", "errors.dead_letter_topic"} {
		if !got[k] {
			t.Errorf("FromEnv lacks %s: %v", k, got)
		}
	}
	if got["output.topic"] {
		t.Errorf("a literal topic marked as from the environment: %v", got)
	}
	if cfg.Pipelines[1].FromEnv != nil {
		t.Errorf("plain pipeline: %v", cfg.Pipelines[1].FromEnv)
	}
}
