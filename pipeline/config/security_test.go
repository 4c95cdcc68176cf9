package config_test

import (
	"bytes"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/millrace-dev/millrace/pipeline/config"
	"github.com/millrace-dev/millrace/pipeline/kafka/securitytest"
)

// canary is a password no text the config produces may contain.
const canary = "canary-Pa55w0rd-7f3e"

// loadIn writes yaml as dir/pipelines.yaml and loads it.
func loadIn(t *testing.T, dir, yaml string, vars map[string]string) (*config.Config, error) {
	t.Helper()
	path := securitytest.WriteFile(t, dir, "pipelines.yaml", []byte(yaml))
	return config.Load(path, config.Options{LookupEnv: env(vars)})
}

const pipelinesPart = `pipelines:
  - name: p
    input: {topic: in}
    output: {topic: out}
`

// writePKI writes a CA (ca.pem) and a client certificate it signed
// (client.pem, client-key.pem) to dir.
func writePKI(t *testing.T, dir string) (*securitytest.CA, securitytest.Pair) {
	t.Helper()
	ca := securitytest.NewCA(t, "test CA")
	client := ca.Client(t, "millrace")
	securitytest.WriteFile(t, dir, "ca.pem", ca.PEM)
	securitytest.WriteFile(t, dir, "client.pem", client.CertPEM)
	securitytest.WriteFile(t, dir, "client-key.pem", client.KeyPEM)
	return ca, client
}

// TLS files are read at load, relative to the config file's directory,
// and make the client's crypto/tls config.
func TestTLSConfig(t *testing.T) {
	dir := t.TempDir()
	ca, client := writePKI(t, dir)
	cfg, err := loadIn(t, dir, `version: 1
kafka:
  brokers: [b1.example.com:9093]
  tls:
    ca_file: ca.pem
    cert_file: client.pem
    key_file: client-key.pem
    server_name: kafka.internal
    min_version: "1.3"
`+pipelinesPart, nil)
	if err != nil {
		t.Fatal(err)
	}
	tc := cfg.Kafka.TLS
	if !tc.Enabled || tc.CAFile != filepath.Join(dir, "ca.pem") || !bytes.Equal(tc.CA, ca.PEM) || !bytes.Equal(tc.Cert, client.CertPEM) || tc.Key.Reveal() != string(client.KeyPEM) {
		t.Fatalf("TLS = %+v", tc)
	}
	c, err := tc.ClientConfig()
	if err != nil {
		t.Fatal(err)
	}
	if c.MinVersion != tls.VersionTLS13 || c.ServerName != "kafka.internal" || c.InsecureSkipVerify {
		t.Errorf("tls.Config: min %x, server name %q, insecure %v", c.MinVersion, c.ServerName, c.InsecureSkipVerify)
	}
	if c.RootCAs == nil || !c.RootCAs.Equal(ca.Pool()) {
		t.Error("RootCAs is not the CA of ca_file")
	}
	if len(c.Certificates) != 1 || !bytes.Equal(c.Certificates[0].Certificate[0], client.TLS.Certificate[0]) {
		t.Error("the client certificate is not cert_file's")
	}
	if cfg.Kafka.SASL.Enabled() {
		t.Error("SASL without kafka.sasl")
	}
}

// An empty tls mapping turns TLS on with the system roots; no tls, off.
func TestTLSDefaults(t *testing.T) {
	cfg := parse(t, "version: 1\nkafka: {brokers: ['b:9093'], tls: {}}\n"+pipelinesPart, nil)
	c, err := cfg.Kafka.TLS.ClientConfig()
	if err != nil || c == nil {
		t.Fatalf("ClientConfig = %v, %v", c, err)
	}
	if c.MinVersion != tls.VersionTLS12 || c.RootCAs != nil || len(c.Certificates) != 0 || c.ServerName != "" {
		t.Errorf("defaults: %+v", c)
	}
	off := parse(t, "version: 1\nkafka: {brokers: ['b:9092'], tls: {enabled: false}}\n"+pipelinesPart, nil)
	if c, err := off.Kafka.TLS.ClientConfig(); c != nil || err != nil || off.Kafka.TLS.Enabled {
		t.Errorf("enabled: false gives %v, %v", c, err)
	}
	if c, _ := parse(t, minimal, nil).Kafka.TLS.ClientConfig(); c != nil {
		t.Error("TLS without kafka.tls")
	}
}

// A certificate whose key is another's is refused at load; the message
// shows neither key.
func TestTLSKeyMismatch(t *testing.T) {
	dir := t.TempDir()
	ca := securitytest.NewCA(t, "test CA")
	a, b := ca.Client(t, "a"), ca.Client(t, "b")
	securitytest.WriteFile(t, dir, "a.pem", a.CertPEM)
	securitytest.WriteFile(t, dir, "b-key.pem", b.KeyPEM)
	_, err := loadIn(t, dir, "version: 1\nkafka:\n  brokers: [b:9093]\n  tls: {cert_file: a.pem, key_file: b-key.pem}\n"+pipelinesPart, nil)
	if err == nil {
		t.Fatal("a mismatched key pair loaded")
	}
	if !strings.Contains(err.Error(), "pipelines.yaml:4:") || !strings.Contains(err.Error(), "private key does not match public key") {
		t.Errorf("error = %v", err)
	}
	if strings.Contains(err.Error(), "PRIVATE KEY") {
		t.Errorf("error shows a key: %v", err)
	}
}

// The SASL settings of each mechanism; a password file loses its trailing
// newline.
func TestSASLConfig(t *testing.T) {
	dir := t.TempDir()
	securitytest.WriteFile(t, dir, "password", []byte(canary+"\n"))
	securitytest.WriteFile(t, dir, "secret", []byte("s3cret\r\n"))
	for _, c := range []struct {
		sasl string
		want config.SASL
	}{
		{"{mechanism: SCRAM-SHA-512, username: alice, password_file: password}",
			config.SASL{Mechanism: "SCRAM-SHA-512", Username: "alice", Password: config.NewSecret(canary)}},
		{"{mechanism: PLAIN, username: '${USER}', password: '${PASSWORD}'}",
			config.SASL{Mechanism: "PLAIN", Username: "bob", Password: config.NewSecret(canary)}},
		{"{mechanism: OAUTHBEARER, token_endpoint: 'https://login.example.com/token', client_id: millrace, client_secret_file: secret, scope: 'kafka read'}",
			config.SASL{Mechanism: "OAUTHBEARER", TokenEndpoint: "https://login.example.com/token", ClientID: "millrace", ClientSecret: config.NewSecret("s3cret"), Scopes: []string{"kafka", "read"}}},
		{"{mechanism: OAUTHBEARER, token_endpoint: 'http://127.0.0.1:8080/token', client_id: millrace, client_secret: x, scope: [a, b]}",
			config.SASL{Mechanism: "OAUTHBEARER", TokenEndpoint: "http://127.0.0.1:8080/token", ClientID: "millrace", ClientSecret: config.NewSecret("x"), Scopes: []string{"a", "b"}}},
		{"{mechanism: AWS_MSK_IAM, region: eu-west-1}",
			config.SASL{Mechanism: "AWS_MSK_IAM", Region: "eu-west-1"}},
	} {
		cfg, err := loadIn(t, dir, "version: 1\nkafka:\n  brokers: [b:9093]\n  tls: {}\n  sasl: "+c.sasl+"\n"+pipelinesPart,
			map[string]string{"USER": "bob", "PASSWORD": canary})
		if err != nil {
			t.Errorf("%s: %v", c.sasl, err)
			continue
		}
		if !reflect.DeepEqual(cfg.Kafka.SASL, c.want) {
			t.Errorf("%s:\ngot  %#v\nwant %#v", c.sasl, cfg.Kafka.SASL, c.want)
		}
	}
	// PLAIN without TLS, when allowed.
	cfg := parse(t, "version: 1\nkafka: {brokers: ['b:9092'], sasl: {mechanism: PLAIN, username: u, password: p, allow_plaintext: true}}\n"+pipelinesPart, nil)
	if s := cfg.Kafka.SASL; s.Mechanism != "PLAIN" || !s.AllowPlaintext || cfg.Kafka.TLS.Enabled {
		t.Errorf("SASL = %+v", s)
	}
}

// The config's texts never show a secret: not fmt's verbs, JSON, slog,
// errors; whether the secret was written in the file, came from the
// environment or from a file.
func TestSecretsNeverShown(t *testing.T) {
	dir := t.TempDir()
	_, client := writePKI(t, dir)
	securitytest.WriteFile(t, dir, "password", []byte(canary))
	keyBody := strings.Split(string(client.KeyPEM), "\n")[1]
	for _, sasl := range []string{
		"{mechanism: SCRAM-SHA-256, username: u, password: " + canary + "}",
		"{mechanism: SCRAM-SHA-256, username: u, password: '${PASSWORD}'}",
		"{mechanism: SCRAM-SHA-256, username: u, password_file: password}",
		"{mechanism: OAUTHBEARER, token_endpoint: 'https://h/t', client_id: c, client_secret: " + canary + "}",
	} {
		cfg, err := loadIn(t, dir, "version: 1\nkafka:\n  brokers: [b:9093]\n  tls: {cert_file: client.pem, key_file: client-key.pem}\n  sasl: "+sasl+"\n"+pipelinesPart,
			map[string]string{"PASSWORD": canary})
		if err != nil {
			t.Fatal(err)
		}
		var texts []string
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x"} {
			texts = append(texts, fmt.Sprintf(verb, cfg.Kafka), fmt.Sprintf(verb, cfg.Kafka.SASL.Password), fmt.Sprintf(verb, cfg.Kafka.TLS))
		}
		js, err := json.Marshal(cfg.Kafka)
		if err != nil {
			t.Fatal(err)
		}
		var logs bytes.Buffer
		slog.New(slog.NewJSONHandler(&logs, nil)).Info("config", "kafka", cfg.Kafka, "sasl", cfg.Kafka.SASL, "password", cfg.Kafka.SASL.Password)
		slog.New(slog.NewTextHandler(&logs, nil)).Info("config", "kafka", cfg.Kafka, "tls", cfg.Kafka.TLS)
		texts = append(texts, string(js), logs.String())
		for _, s := range texts {
			if strings.Contains(s, canary) || strings.Contains(s, keyBody) {
				t.Fatalf("%s: a secret shows in %s", sasl, s)
			}
		}
		if !strings.Contains(string(js), config.Redacted) {
			t.Errorf("JSON does not say what it hides: %s", js)
		}
		if got := cfg.Kafka.Secrets(); len(got) != 2 {
			t.Errorf("Secrets() has %d values, want the password and the key", len(got))
		}
	}
	// Errors about a secret written in the file do not quote it.
	for _, c := range []struct{ yaml, want string }{
		{"version: 1\nkafka:\n  brokers: [b:9092]\n  sasl: {mechanism: PLAIN, username: u, password: " + canary + "}\n" + pipelinesPart, "without TLS"},
		{"version: 1\nkafka:\n  brokers: [b:9093]\n  tls: {}\n  sasl: {mechanism: SCRAM-SHA-256, username: u, password: " + canary + ", password_file: x}\n" + pipelinesPart, "exclude each other"},
		{"version: 1\nkafka:\n  brokers: [b:9093]\n  tls: {}\n  sasl: {mechanism: AWS_MSK_IAM, password: " + canary + "}\n" + pipelinesPart, "password does not apply"},
		{"version: 1\nkafka:\n  brokers: [b:9093]\n  tls: {}\n  sasl: {mechanism: PLAIN, username: u, password: " + canary + ", pasword: " + canary + "}\n" + pipelinesPart, "did you mean"},
	} {
		msg := parseErr(t, c.yaml, nil)
		if strings.Contains(msg, canary) || !strings.Contains(msg, c.want) {
			t.Errorf("error shows the password, or not %q: %s", c.want, msg)
		}
	}
}

// A file that cannot be read is an error naming it; so is a symlink to a
// directory.
func TestSecurityFileErrors(t *testing.T) {
	dir := t.TempDir()
	if err := os.Symlink(dir, filepath.Join(dir, "link")); err != nil {
		t.Skip(err)
	}
	_, err := loadIn(t, dir, "version: 1\nkafka:\n  brokers: [b:9093]\n  tls: {ca_file: link}\n"+pipelinesPart, nil)
	if err == nil || !strings.Contains(err.Error(), "is a directory, not a file") {
		t.Errorf("error = %v", err)
	}
	_, err = loadIn(t, dir, "version: 1\nkafka:\n  brokers: [b:9093]\n  tls: {ca_file: /dev/null}\n"+pipelinesPart, nil)
	if err == nil || !strings.Contains(err.Error(), `ca_file "/dev/null" is not a regular file`) || strings.Contains(err.Error(), "relative") {
		t.Errorf("error = %v", err)
	}
}
