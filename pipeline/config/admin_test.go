package config_test

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/millrace-dev/millrace/pipeline/config"
)

func TestAdminDefaults(t *testing.T) {
	cfg := parse(t, minimal, nil)
	want := config.Admin{Address: config.DefaultAdminAddress, PollInterval: 5 * time.Second}
	if !reflect.DeepEqual(cfg.Admin, want) || !cfg.Admin.Enabled() {
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
	if !reflect.DeepEqual(cfg.Admin, want) || !cfg.Runner.LogPayloads {
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

// TLS files are read relative to the config file; credentials and allowed
// hosts are kept; an empty token or password, a missing file and auth
// without credentials are errors at their place.
func TestAdminSecurity(t *testing.T) {
	dir := t.TempDir()
	for _, f := range []string{"cert.pem", "key.pem"} {
		if err := os.WriteFile(filepath.Join(dir, f), []byte("pem"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	yaml := minimal + `admin:
  address: "0.0.0.0:9469"
  tls: {cert_file: cert.pem, key_file: key.pem}
  auth: {bearer_token: "${TOKEN}", basic: {username: ops, password: "${PASS}"}}
  allowed_hosts: [runner-1.internal]
`
	cfg, err := config.Parse(filepath.Join(dir, "p.yaml"), []byte(yaml), config.Options{LookupEnv: func(k string) (string, bool) {
		return map[string]string{"TOKEN": "t0ken", "PASS": "s3cret"}[k], true
	}})
	if err != nil {
		t.Fatal(err)
	}
	a := cfg.Admin
	if a.CertFile != filepath.Join(dir, "cert.pem") || a.KeyFile != filepath.Join(dir, "key.pem") || a.BearerToken != "t0ken" ||
		a.User != "ops" || a.Password != "s3cret" || !reflect.DeepEqual(a.AllowedHosts, []string{"runner-1.internal"}) {
		t.Errorf("Admin = %+v", a)
	}
	for _, c := range []struct{ yaml, want string }{
		{"admin: {tls: {cert_file: nope.pem, key_file: key.pem}}", `cannot read "nope.pem": no such file or directory`},
		{"admin: {tls: {cert_file: cert.pem}}", `key_file`},
		{"admin: {auth: {bearer_token: \"\"}}", "admin.auth.bearer_token is empty"},
		{"admin: {auth: {basic: {username: u, password: \"\"}}}", "admin.auth.basic.password is empty"},
		{"admin: {auth: {}}", "admin.auth gives no credentials"},
		{"admin: {tls: {cert_file: ., key_file: key.pem}}", `"." is not a regular file`},
	} {
		_, err := config.Parse(filepath.Join(dir, "p.yaml"), []byte(minimal+c.yaml+"\n"), config.Options{})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want an error containing %q", c.yaml, err, c.want)
		}
	}
}
