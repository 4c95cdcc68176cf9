package e2e

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// The admin server of a real runner: a request naming another host (DNS
// rebinding) is refused, admin.auth guards everything but the probes, and
// the token never shows in the runner's output or on the pages it serves.
func TestAdminServerGuard(t *testing.T) {
	eachBroker(t, func(t *testing.T, b broker) {
		const token = "canary-token-5d1c9a"
		t.Setenv("E2E_ADMIN_TOKEN", token)
		tp := newTopics(t, b)
		cfg := strings.Replace(obsConfig(b, tp, "guarded"), "  poll_interval: 1s\n",
			"  poll_interval: 1s\n  auth: {bearer_token: \"${E2E_ADMIN_TOKEN}\"}\n", 1)
		r, base := startObserved(t, writeConfig(t, cfg))
		call := func(path, host, auth string) (int, string) {
			t.Helper()
			req, err := http.NewRequest("GET", base+path, nil)
			if err != nil {
				t.Fatal(err)
			}
			if host != "" {
				req.Host = host
			}
			if auth != "" {
				req.Header.Set("Authorization", auth)
			}
			res, err := httpClient.Do(req)
			if err != nil {
				t.Fatalf("GET %s: %v", path, err)
			}
			defer res.Body.Close()
			body, _ := io.ReadAll(res.Body)
			return res.StatusCode, string(body)
		}
		bearer := "Bearer " + token
		if code, _ := call("/api/status", "attacker.example", bearer); code != http.StatusMisdirectedRequest {
			t.Errorf("Host attacker.example: %d, want 421", code)
		}
		if code, _ := call("/api/status", "", ""); code != http.StatusUnauthorized {
			t.Errorf("no token: %d, want 401", code)
		}
		if code, _ := call("/metrics", "", "Bearer wrong"); code != http.StatusUnauthorized {
			t.Errorf("wrong token: %d, want 401", code)
		}
		if code, _ := call("/healthz", "", ""); code != http.StatusOK {
			t.Errorf("healthz without a token: %d, want 200", code)
		}
		var pages []string
		for _, p := range []string{"/api/status", "/metrics", "/"} {
			code, body := call(p, "", bearer)
			if code != http.StatusOK {
				t.Errorf("%s with the token: %d", p, code)
			}
			pages = append(pages, body)
		}
		if code := r.stop(30 * time.Second); code != 0 {
			t.Errorf("exit code %d", code)
		}
		for i, text := range append(pages, r.out.String()) {
			if strings.Contains(text, token) {
				t.Errorf("the token shows in text %d", i)
			}
		}
	})
}
