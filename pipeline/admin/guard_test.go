package admin

import (
	"bytes"
	"context"
	"crypto/tls"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/millrace-dev/millrace/pipeline/kafka/securitytest"
)

func request(h http.Handler, host, path string, set func(*http.Request)) int {
	r := httptest.NewRequest("GET", path, nil)
	r.Host = host
	if set != nil {
		set(r)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	return rec.Code
}

// A page on another site that reaches the server through DNS rebinding
// sends its own host name: it is refused everywhere but the probes, which
// orchestrators call by IP address.
func TestHostAllowList(t *testing.T) {
	h := guard(Handler(testObserver(), false), newHostSet("127.0.0.1:9469", []string{"runner-1.internal"}), Auth{})
	for _, c := range []struct {
		host, path string
		code       int
	}{
		{"attacker.example", "/api/status", http.StatusMisdirectedRequest},
		{"attacker.example:9469", "/", http.StatusMisdirectedRequest},
		{"attacker.example", "/metrics", http.StatusMisdirectedRequest},
		{"attacker.example", "/healthz", http.StatusOK},
		{"127.0.0.1:9469", "/api/status", http.StatusOK},
		{"localhost:9469", "/api/status", http.StatusOK},
		{"[::1]:9469", "/", http.StatusOK},
		{"RUNNER-1.internal.", "/metrics", http.StatusOK},
	} {
		if got := request(h, c.host, c.path, nil); got != c.code {
			t.Errorf("Host %s %s: %d, want %d", c.host, c.path, got, c.code)
		}
	}
	if any := newHostSet("127.0.0.1:9469", []string{"*"}); !any.allows("whatever.example") {
		t.Error(`"*" does not allow any host`)
	}
	if wide := newHostSet("0.0.0.0:9469", nil); !wide.allows("127.0.0.1:9469") || wide.allows("attacker.example") {
		t.Errorf("0.0.0.0: %v", wide.names)
	}
}

// With auth, every path but the probes needs the token or the basic-auth
// pair; wrong ones are refused the same way.
func TestAuth(t *testing.T) {
	h := guard(Handler(testObserver(), false), newHostSet("127.0.0.1:0", nil), Auth{BearerToken: "t0ken", User: "ops", Password: "s3cret"})
	bearer := func(tok string) func(*http.Request) {
		return func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+tok) }
	}
	basic := func(u, p string) func(*http.Request) { return func(r *http.Request) { r.SetBasicAuth(u, p) } }
	for _, c := range []struct {
		name, path string
		set        func(*http.Request)
		code       int
	}{
		{"none", "/api/status", nil, http.StatusUnauthorized},
		{"none", "/metrics", nil, http.StatusUnauthorized},
		{"none", "/", nil, http.StatusUnauthorized},
		{"probe", "/healthz", nil, http.StatusOK},
		{"probe", "/readyz", nil, http.StatusServiceUnavailable}, // not ready, but answered
		{"token", "/metrics", bearer("t0ken"), http.StatusOK},
		{"wrong token", "/metrics", bearer("t0ke"), http.StatusUnauthorized},
		{"basic", "/api/status", basic("ops", "s3cret"), http.StatusOK},
		{"wrong password", "/api/status", basic("ops", "s3cre7"), http.StatusUnauthorized},
		{"wrong user", "/api/status", basic("op", "s3cret"), http.StatusUnauthorized},
	} {
		if got := request(h, "127.0.0.1", c.path, c.set); got != c.code {
			t.Errorf("%s %s: %d, want %d", c.name, c.path, got, c.code)
		}
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "http://127.0.0.1/", nil))
	if !strings.HasPrefix(rec.Header().Get("WWW-Authenticate"), "Basic ") {
		t.Errorf("a browser is not asked for basic auth: %q", rec.Header().Get("WWW-Authenticate"))
	}
}

// admin.tls serves HTTPS with the configured certificate; a server beyond
// loopback without auth is announced in the log.
func TestTLSAndWarning(t *testing.T) {
	dir := t.TempDir()
	ca := securitytest.NewCA(t, "admin-ca")
	pair := ca.Server(t, "127.0.0.1")
	certFile := securitytest.WriteFile(t, dir, "cert.pem", pair.CertPEM)
	keyFile := securitytest.WriteFile(t, dir, "key.pem", pair.KeyPEM)
	pool := ca.Pool()
	var logs bytes.Buffer
	s, err := Start(Options{Address: "0.0.0.0:0", CertFile: certFile, KeyFile: keyFile, Observer: testObserver(),
		Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close(context.Background())
	if !strings.HasPrefix(s.URL(), "https://") {
		t.Errorf("URL %s", s.URL())
	}
	if !strings.Contains(logs.String(), "without authentication") {
		t.Errorf("no warning for a non-loopback address without auth:\n%s", logs.String())
	}
	_, port, _ := net.SplitHostPort(s.Addr())
	cl := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	res, err := cl.Get("https://127.0.0.1:" + port + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Errorf("healthz over TLS: %d", res.StatusCode)
	}
	if _, err := Start(Options{Address: "127.0.0.1:0", CertFile: certFile, KeyFile: filepath.Join(dir, "missing.pem"), Observer: testObserver()}); err == nil ||
		!strings.Contains(err.Error(), "admin.tls") {
		t.Errorf("a missing key file: %v", err)
	}
}
