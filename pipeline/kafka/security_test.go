package kafka

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/millrace-dev/millrace/pipeline/config"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl"
	"golang.org/x/oauth2"
)

// SecurityFor makes the crypto/tls config the settings say and picks the
// SASL mechanism; the clients made with it carry both.
func TestSecurityForOptions(t *testing.T) {
	p := newPKI(t)
	tc := p.tlsConfig(true)
	tc.ServerName, tc.MinVersion = "kafka.internal", "1.3"
	for _, m := range []config.SASL{
		{},
		{Mechanism: config.MechanismPlain, Username: "u", Password: config.NewSecret("p")},
		{Mechanism: config.MechanismScram256, Username: "u", Password: config.NewSecret("p")},
		{Mechanism: config.MechanismScram512, Username: "u", Password: config.NewSecret("p")},
		{Mechanism: config.MechanismOAuth, TokenEndpoint: "https://login.example.com/token", ClientID: "c", ClientSecret: config.NewSecret("s")},
		{Mechanism: config.MechanismAWSMSKIAM, Region: "eu-west-1"},
	} {
		t.Run(m.Mechanism, func(t *testing.T) {
			sec := security(t, "b1.example.com:9093", tc, m)
			c := sec.TLS()
			if c == nil || c.MinVersion != tls.VersionTLS13 || c.ServerName != "kafka.internal" || c.InsecureSkipVerify ||
				!c.RootCAs.Equal(p.ca.Pool()) || len(c.Certificates) != 1 || !bytes.Equal(c.Certificates[0].Certificate[0], p.client.TLS.Certificate[0]) {
				t.Errorf("tls.Config = %+v", c)
			}
			cl, err := NewClient([]string{"b1.example.com:9093"}, "millrace", sec)
			if err != nil {
				t.Fatal(err)
			}
			defer cl.Close()
			mechs, _ := cl.OptValue(kgo.SASL).([]sasl.Mechanism)
			switch {
			case m.Mechanism == "" && len(mechs) != 0:
				t.Errorf("SASL %v without kafka.sasl", mechs)
			case m.Mechanism != "" && (len(mechs) != 1 || mechs[0].Name() != m.Mechanism):
				t.Errorf("SASL mechanisms %v, want %s", mechs, m.Mechanism)
			}
			if sec.SASL().Mechanism != m.Mechanism {
				t.Errorf("SASL() = %+v", sec.SASL())
			}
		})
	}
	// Without kafka.tls: no TLS; insecure_skip_verify: a loud warning.
	if sec := security(t, "b:9092", config.TLS{}, config.SASL{}); sec.TLS() != nil || len(sec.Opts()) != 1 {
		t.Errorf("plaintext: TLS %v, %d options (want the watch only)", sec.TLS(), len(sec.Opts()))
	}
	var logs bytes.Buffer
	sec, err := SecurityFor(config.Kafka{Brokers: []string{"b:9093"}, TLS: config.TLS{Enabled: true, InsecureSkipVerify: true}}, slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil || !sec.TLS().InsecureSkipVerify {
		t.Fatalf("insecure: %v, %v", sec, err)
	}
	if !strings.Contains(logs.String(), "level=WARN") || !strings.Contains(logs.String(), "INSECURE: kafka.tls.insecure_skip_verify") {
		t.Errorf("no warning for insecure_skip_verify: %q", logs.String())
	}
	// The embedded broker speaks plaintext: the settings are not used, and
	// a warning says so.
	logs.Reset()
	sec, err = SecurityFor(config.Kafka{Embedded: config.Embedded{Listen: "127.0.0.1:9092"}, TLS: tc, SASL: scramUser(config.MechanismScram512, "p")}, slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil || sec.TLS() != nil || sec.SASL().Enabled() || !strings.Contains(logs.String(), "embedded broker speaks plaintext") {
		t.Errorf("embedded: %+v, %v, logs %q", sec, err, logs.String())
	}
	// nil is plaintext, reports nothing and explains nothing.
	var none *Security
	if none.Opts() != nil || none.TLS() != nil || none.Failed() != nil || none.Err() != nil || none.Explain(io.EOF) != io.EOF {
		t.Error("a nil Security is not plaintext")
	}
}

// The errors franz-go returns, classified: what is a failure of TLS or
// SASL, whether it alone is conclusive, and its cause.
func TestClassify(t *testing.T) {
	p := newPKI(t)
	roots := x509.NewCertPool()
	_, unknownCA := p.ca.Cert.Verify(x509.VerifyOptions{Roots: roots})
	leaf, err := x509.ParseCertificate(p.server.TLS.Certificate[0])
	if err != nil {
		t.Fatal(err)
	}
	hostErr := leaf.VerifyHostname("kafka.example.com")
	dial := func(err error) error { return fmt.Errorf("unable to dial: %w", err) }
	for _, c := range []struct {
		name     string
		err      error
		mech     string
		tlsOn    bool
		dialed   bool
		cause    string // "" : not a security failure
		definite bool
	}{
		{"sasl refused", fmt.Errorf("sasl: %w", kerr.SaslAuthenticationFailed), "SCRAM-SHA-512", true, true, "SASL SCRAM-SHA-512 authentication failed", true},
		{"mechanism not enabled", kerr.UnsupportedSaslMechanism, "PLAIN", true, true, "does not enable SASL mechanism PLAIN", true},
		{"sasl on a plain listener", kerr.IllegalSaslState, "PLAIN", true, true, "refused SASL", true},
		{"token refused", &oauth2.RetrieveError{Response: &http.Response{StatusCode: 401}, ErrorCode: "invalid_client"}, "OAUTHBEARER", true, true, "token endpoint refused", true},
		{"unknown authority", dial(&tls.CertificateVerificationError{Err: unknownCA}), "", true, false, "unknown authority", true},
		{"name mismatch", dial(&tls.CertificateVerificationError{Err: hostErr}), "", true, false, "not for the name dialed", true},
		{"expired", dial(&tls.CertificateVerificationError{Err: x509.CertificateInvalidError{Cert: leaf, Reason: x509.Expired}}), "", true, false, "not valid", true},
		{"plaintext listener", dial(tls.RecordHeaderError{Msg: "first record does not look like a TLS handshake"}), "", true, false, "did not answer in TLS", true},
		{"client certificate required", &net.OpError{Op: "remote error", Err: errors.New("tls: certificate required")}, "", true, true, "requires a client certificate", true},
		{"client certificate refused", &net.OpError{Op: "remote error", Err: errors.New("tls: bad certificate")}, "", true, true, "refused the client certificate", true},
		{"no common version", &net.OpError{Op: "remote error", Err: errors.New("tls: protocol version not supported")}, "", true, false, "no TLS version in common", true},
		{"eof in the handshake", dial(io.EOF), "", true, false, "during the TLS handshake", false},
		{"eof in sasl", io.ErrUnexpectedEOF, "PLAIN", true, true, "during SASL PLAIN authentication", false},
		{"reset at once", &net.OpError{Op: "read", Err: os.NewSyscallError("read", syscall.ECONNRESET)}, "", false, true, "closed the connection at once", false},
		{"refused", dial(&net.OpError{Op: "dial", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}), "PLAIN", true, false, "", false},
		{"canceled", context.Canceled, "PLAIN", true, true, "", false},
		{"unknown topic", kerr.UnknownTopicOrPartition, "PLAIN", true, true, "", false},
		{"eof without tls before the dial", io.EOF, "", false, false, "", false},
	} {
		got, ok := classify(c.err, c.mech, c.tlsOn, c.dialed)
		switch {
		case c.cause == "" && ok:
			t.Errorf("%s: classified as %+v", c.name, got)
		case c.cause != "" && (!ok || !strings.Contains(got.cause, c.cause) || got.definite != c.definite || got.hint == "" || strings.ContainsAny(got.cause, "%<")):
			t.Errorf("%s: %+v, %v; want %q, definite %v, with a hint", c.name, got, ok, c.cause, c.definite)
		}
	}
}

// The watch keeps the first conclusive failure, and a suspect one only
// when a broker gives it suspectLimit times in a row; a connection that
// works or fails otherwise ends the run. Secrets are scrubbed.
func TestWatch(t *testing.T) {
	s := &Security{sasl: config.SASL{Mechanism: config.MechanismPlain}}
	w := newWatch(s, []string{"hunter2"})
	b1 := kgo.BrokerMetadata{Host: "b1", Port: 9093}
	var conn net.Conn = &net.TCPConn{}
	refused := &net.OpError{Op: "dial", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}
	for _, err := range []error{io.EOF, io.EOF, nil, io.EOF, io.EOF, refused, io.EOF, io.EOF} {
		w.OnBrokerConnect(b1, 0, conn, err)
	}
	if w.first() != nil {
		t.Fatalf("failed after runs of %d suspects: %v", suspectLimit-1, w.first())
	}
	w.OnBrokerConnect(b1, 0, conn, io.EOF)
	e := w.first()
	if e == nil || e.Broker != "b1:9093" || !strings.Contains(e.Cause, "during SASL PLAIN") {
		t.Fatalf("after %d suspects in a row: %v", suspectLimit, e)
	}
	select {
	case <-w.failed:
	default:
		t.Fatal("failed is not closed")
	}
	w.OnBrokerConnect(b1, 0, conn, kerr.SaslAuthenticationFailed)
	if w.first() != e {
		t.Error("a later failure replaced the first")
	}

	w = newWatch(s, []string{"hunter2"})
	w.OnBrokerConnect(kgo.BrokerMetadata{Host: "::1", Port: 9093}, 0, conn, fmt.Errorf("user hunter2: %w", kerr.SaslAuthenticationFailed))
	e = w.first()
	if e == nil || e.Broker != "[::1]:9093" || strings.Contains(e.Error(), "hunter2") || !strings.Contains(e.Error(), config.Redacted) || !errors.Is(e, kerr.SaslAuthenticationFailed) {
		t.Errorf("conclusive failure: %v", e)
	}
}

// OAUTHBEARER tokens come from the token endpoint with the
// client-credentials grant, are reused while valid and fetched again near
// expiry, and are what the mechanism authenticates with. A refused
// request is an error without the client secret.
func TestOAuthTokens(t *testing.T) {
	const secret = "client-s3cret"
	var requests atomic.Int32
	var expiresIn atomic.Int32
	expiresIn.Store(3600)
	var refuse atomic.Bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := requests.Add(1)
		if err := r.ParseForm(); err != nil {
			t.Error(err)
		}
		id, pass, ok := r.BasicAuth()
		if !ok {
			id, pass = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
		}
		if r.Method != http.MethodPost || r.URL.Path != "/token" || r.PostForm.Get("grant_type") != "client_credentials" ||
			r.PostForm.Get("scope") != "kafka offline" || id != "millrace" || pass != secret {
			t.Errorf("token request %s %s %v, client %q", r.Method, r.URL.Path, r.PostForm, id)
		}
		w.Header().Set("Content-Type", "application/json")
		if refuse.Load() {
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprintf(w, `{"error":"invalid_client","error_description":"bad secret %s"}`, secret)
			return
		}
		fmt.Fprintf(w, `{"access_token":"token-%d","token_type":"Bearer","expires_in":%d}`, n, expiresIn.Load())
	}))
	defer srv.Close()
	m := config.SASL{Mechanism: config.MechanismOAuth, TokenEndpoint: srv.URL + "/token", ClientID: "millrace",
		ClientSecret: config.NewSecret(secret), Scopes: []string{"kafka", "offline"}}
	sec := security(t, "b:9093", config.TLS{}, m)
	for range 3 {
		if tok, err := sec.Token(); err != nil || tok != "token-1" {
			t.Fatalf("Token() = %q, %v; want the first token, reused", tok, err)
		}
	}
	if n := requests.Load(); n != 1 {
		t.Errorf("%d token requests for a token valid an hour", n)
	}
	_, first, err := sec.mech.Authenticate(t.Context(), "b:9093")
	if err != nil || !strings.Contains(string(first), "auth=Bearer token-1\x01") {
		t.Errorf("OAUTHBEARER first message %q, %v", first, err)
	}

	// A token that expires within the margin is fetched again.
	expiresIn.Store(5)
	sec = security(t, "b:9093", config.TLS{}, m)
	a, _ := sec.Token()
	b, _ := sec.Token()
	if a == b || a == "" {
		t.Errorf("tokens %q and %q: a token near expiry was reused", a, b)
	}

	refuse.Store(true)
	sec = security(t, "b:9093", config.TLS{}, m)
	_, err = sec.Token()
	if err == nil || strings.Contains(err.Error(), secret) || !strings.Contains(err.Error(), srv.URL) {
		t.Fatalf("refused token: %v", err)
	}
	if c, ok := classify(err, m.Mechanism, true, true); !ok || !c.definite {
		t.Errorf("a refused token request is not conclusive: %+v", c)
	}
}

// AWS_MSK_IAM signs with credentials from the AWS chain (here the
// environment): the payload the mechanism authenticates with carries the
// fields MSK reads, and its SigV4 signature checks out.
func TestAWSMSKIAM(t *testing.T) {
	dir := t.TempDir()
	for k, v := range map[string]string{
		"AWS_ACCESS_KEY_ID":           "AKIDEXAMPLE",
		"AWS_SECRET_ACCESS_KEY":       "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
		"AWS_SESSION_TOKEN":           "session-token",
		"AWS_CONFIG_FILE":             filepath.Join(dir, "config"),
		"AWS_SHARED_CREDENTIALS_FILE": filepath.Join(dir, "credentials"),
		"AWS_EC2_METADATA_DISABLED":   "true",
		"AWS_PROFILE":                 "",
		"AWS_REGION":                  "",
		"AWS_DEFAULT_REGION":          "",
	} {
		t.Setenv(k, v)
	}
	const host = "b-1.demo.abc123.c2.kafka.eu-west-1.amazonaws.com"
	sec := security(t, host+":9098", config.TLS{Enabled: true}, config.SASL{Mechanism: config.MechanismAWSMSKIAM, Region: "eu-west-1"})
	before := time.Now().UTC()
	session, payload, err := sec.mech.Authenticate(t.Context(), host+":9098")
	if err != nil {
		t.Fatal(err)
	}
	var f map[string]string
	if err := json.Unmarshal(payload, &f); err != nil {
		t.Fatalf("payload %s: %v", payload, err)
	}
	date := f["x-amz-date"]
	ts, err := time.Parse("20060102T150405Z", date)
	if err != nil || ts.Before(before.Add(-time.Second)) || ts.After(time.Now().Add(time.Second)) {
		t.Errorf("x-amz-date %q", date)
	}
	scope := date[:8] + "/eu-west-1/kafka-cluster/aws4_request"
	for k, want := range map[string]string{
		"version":              "2020_10_22",
		"host":                 host,
		"action":               "kafka-cluster:Connect",
		"x-amz-algorithm":      "AWS4-HMAC-SHA256",
		"x-amz-credential":     "AKIDEXAMPLE/" + scope,
		"x-amz-expires":        "900",
		"x-amz-signedheaders":  "host",
		"x-amz-security-token": "session-token",
	} {
		if f[k] != want {
			t.Errorf("%s = %q, want %q", k, f[k], want)
		}
	}
	// The signature, computed here from the same request (SigV4 of a GET
	// of / on the host, the fields but the signature as its query).
	q := url.Values{}
	for _, k := range []string{"Action", "X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Date", "X-Amz-Expires", "X-Amz-SignedHeaders", "X-Amz-Security-Token"} {
		q.Set(k, f[strings.ToLower(k)])
	}
	canonical := "GET\n/\n" + strings.ReplaceAll(q.Encode(), "+", "%20") + "\nhost:" + host + "\n\nhost\n" + hexSHA256("")
	toSign := "AWS4-HMAC-SHA256\n" + date + "\n" + scope + "\n" + hexSHA256(canonical)
	key := []byte("AWS4" + os.Getenv("AWS_SECRET_ACCESS_KEY"))
	for _, part := range []string{date[:8], "eu-west-1", "kafka-cluster", "aws4_request"} {
		key = hmacSHA256(key, part)
	}
	if want := hex.EncodeToString(hmacSHA256(key, toSign)); f["x-amz-signature"] != want {
		t.Errorf("x-amz-signature %s, want %s", f["x-amz-signature"], want)
	}
	if done, _, err := session.Challenge([]byte(`{"version":"2020_10_22","request-id":"x"}`)); !done || err != nil {
		t.Errorf("Challenge: %v, %v", done, err)
	}
	if strings.Contains(string(payload), os.Getenv("AWS_SECRET_ACCESS_KEY")) {
		t.Error("the payload holds the secret key")
	}
}

func hexSHA256(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

func hmacSHA256(key []byte, s string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(s))
	return m.Sum(nil)
}
