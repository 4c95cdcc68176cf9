package admin

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/millrace-dev/millrace/pipeline/config"
	"github.com/millrace-dev/millrace/pipeline/observe"
)

func testObserver() *observe.Observer {
	o := observe.New(observe.Options{ClientID: "me", Version: "v9"})
	o.AddPipeline(&config.Pipeline{
		Name:   "enrich",
		Input:  config.Input{Topic: "orders", Group: "enrich"},
		Output: config.Output{Topic: "out"},
	}, 0)
	return o
}

func do(t *testing.T, h http.Handler, method, path string) (*http.Response, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(method, path, nil))
	res := rec.Result()
	body, _ := io.ReadAll(res.Body)
	return res, string(body)
}

func TestEndpoints(t *testing.T) {
	h := Handler(testObserver(), false)
	for _, c := range []struct {
		path, contains, contentType string
		code                        int
	}{
		{"/", "<title>Millrace status</title>", "text/html", 200},
		{"/assets/app.js", "/api/status", "javascript", 200},
		{"/assets/style.css", "prefers-color-scheme", "text/css", 200},
		{"/api/status", `"name": "enrich"`, "application/json", 200},
		{"/metrics", "millrace_records_in_total{pipeline=\"enrich\"} 0", "text/plain", 200},
		{"/metrics", "go_goroutines", "text/plain", 200},
		{"/healthz", `"status": "ok"`, "application/json", 200},
		{"/readyz", `"reason": "not consuming yet"`, "application/json", 503},
		{"/debug/pprof/", "", "", 404},
		{"/nope", "", "", 404},
	} {
		res, body := do(t, h, "GET", c.path)
		if res.StatusCode != c.code || !strings.Contains(body, c.contains) || !strings.Contains(res.Header.Get("Content-Type"), c.contentType) {
			t.Errorf("GET %s: %d %q\n%.300s", c.path, res.StatusCode, res.Header.Get("Content-Type"), body)
		}
		if res.Header.Get("X-Content-Type-Options") != "nosniff" || !strings.Contains(res.Header.Get("Content-Security-Policy"), "default-src 'self'") {
			t.Errorf("GET %s: security headers %v", c.path, res.Header)
		}
	}
	if res, _ := do(t, h, "POST", "/readyz"); res.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST /readyz: %d", res.StatusCode)
	}
	res, body := do(t, h, "GET", "/readyz")
	var rd struct {
		Ready     bool                         `json:"ready"`
		Pipelines map[string]observe.Readiness `json:"pipelines"`
	}
	if err := json.Unmarshal([]byte(body), &rd); err != nil || rd.Ready || rd.Pipelines["enrich"].State != observe.StateStarting || res.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("/readyz body %s (%v)", body, err)
	}
}

func TestPprofOnlyWhenAsked(t *testing.T) {
	h := Handler(testObserver(), true)
	if res, body := do(t, h, "GET", "/debug/pprof/"); res.StatusCode != 200 || !strings.Contains(body, "goroutine") {
		t.Errorf("/debug/pprof/: %d", res.StatusCode)
	}
	if res, _ := do(t, h, "GET", "/debug/pprof/cmdline"); res.StatusCode == 200 {
		t.Error("/debug/pprof/cmdline shows the command line")
	}
}

func TestStartAndClose(t *testing.T) {
	s, err := Start(Options{Address: "127.0.0.1:0", Observer: testObserver()})
	if err != nil {
		t.Fatal(err)
	}
	res, err := http.Get(s.URL() + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 {
		t.Errorf("/healthz: %d", res.StatusCode)
	}
	if s.srv.ReadHeaderTimeout == 0 || s.srv.ReadTimeout == 0 || s.srv.WriteTimeout == 0 || s.srv.IdleTimeout == 0 {
		t.Errorf("timeouts not set: %+v", s.srv)
	}
	// A second server on the same address fails with EADDRINUSE.
	if _, err := Start(Options{Address: s.Addr(), Observer: testObserver()}); !errors.Is(err, syscall.EADDRINUSE) {
		t.Errorf("second server on %s: %v", s.Addr(), err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if c, err := net.DialTimeout("tcp", s.Addr(), time.Second); err == nil {
		c.Close()
		t.Error("the server still accepts connections after Close")
	}
}
