package admin

import (
	"crypto/sha256"
	"crypto/subtle"
	"net"
	"net/http"
	"os"
	"slices"
	"strings"
)

// Auth are the credentials the server requires on every path but /healthz
// and /readyz; the zero value requires none.
type Auth struct {
	// BearerToken is accepted as `Authorization: Bearer TOKEN`.
	BearerToken string
	// User and Password are accepted as basic auth, which browsers ask
	// for on a 401 (the status page).
	User, Password string
}

// Enabled reports whether credentials are required.
func (a Auth) Enabled() bool { return a.BearerToken != "" || a.Password != "" }

// open are the paths served without credentials and whatever the Host:
// orchestrators probe them by IP address, and they show no config.
var open = []string{"/healthz", "/readyz"}

// guard refuses requests whose Host the server does not answer to (a page
// on another site reaching it through DNS rebinding names the attacker's
// host) and, with auth, requests without valid credentials.
func guard(next http.Handler, hosts hostSet, auth Auth) http.Handler {
	token, user, pass := digest(auth.BearerToken), digest(auth.User), digest(auth.Password)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if slices.Contains(open, r.URL.Path) {
			next.ServeHTTP(w, r)
			return
		}
		if !hosts.allows(r.Host) {
			writeJSON(w, http.StatusMisdirectedRequest, map[string]string{"error": "this server does not answer to that Host; add it to admin.allowed_hosts"})
			return
		}
		if auth.Enabled() && !authorized(r, auth, token, user, pass) {
			if auth.Password != "" {
				w.Header().Set("WWW-Authenticate", `Basic realm="millrace", charset="UTF-8"`)
			} else {
				w.Header().Set("WWW-Authenticate", `Bearer realm="millrace"`)
			}
			writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "credentials required (admin.auth)"})
			return
		}
		next.ServeHTTP(w, r)
	})
}

// authorized checks the request's credentials in constant time: both sides
// are hashed first, so that not even their lengths leak.
func authorized(r *http.Request, auth Auth, token, user, pass [32]byte) bool {
	h := r.Header.Get("Authorization")
	if rest, ok := strings.CutPrefix(h, "Bearer "); ok && auth.BearerToken != "" {
		got := digest(strings.TrimSpace(rest))
		return subtle.ConstantTimeCompare(got[:], token[:]) == 1
	}
	if u, p, ok := r.BasicAuth(); ok && auth.Password != "" {
		gu, gp := digest(u), digest(p)
		return subtle.ConstantTimeCompare(gu[:], user[:])&subtle.ConstantTimeCompare(gp[:], pass[:]) == 1
	}
	return false
}

func digest(s string) [32]byte { return sha256.Sum256([]byte(s)) }

// hostSet is the Host header names a server answers to.
type hostSet struct {
	any   bool
	names []string
}

// newHostSet allows the listen address's host, the configured names and,
// for a loopback address, localhost and the loopback addresses; for an
// unspecified address (0.0.0.0, ::), every address of the machine and its
// host name.
func newHostSet(listen string, allowed []string) hostSet {
	hs := hostSet{}
	add := func(n string) {
		n = strings.ToLower(strings.TrimSuffix(strings.Trim(n, "[]"), "."))
		if n != "" && !slices.Contains(hs.names, n) {
			hs.names = append(hs.names, n)
		}
	}
	for _, n := range allowed {
		if n == "*" {
			hs.any = true
		}
		add(n)
	}
	host, _, err := net.SplitHostPort(listen)
	if err != nil {
		host = listen
	}
	add(host)
	ip := net.ParseIP(host)
	switch {
	case host == "localhost" || (ip != nil && ip.IsLoopback()):
		add("localhost")
		add("127.0.0.1")
		add("::1")
	case host == "" || (ip != nil && ip.IsUnspecified()):
		add("localhost")
		if name, err := os.Hostname(); err == nil {
			add(name)
		}
		if addrs, err := net.InterfaceAddrs(); err == nil {
			for _, a := range addrs {
				if n, ok := a.(*net.IPNet); ok {
					add(n.IP.String())
				}
			}
		}
	}
	return hs
}

// allows reports whether a request's Host (with or without a port) is one
// the server answers to.
func (hs hostSet) allows(hostport string) bool {
	if hs.any {
		return true
	}
	host, _, err := net.SplitHostPort(hostport)
	if err != nil {
		host = hostport
	}
	host = strings.ToLower(strings.TrimSuffix(strings.Trim(host, "[]"), "."))
	return slices.Contains(hs.names, host)
}

// isLoopback reports whether a listen address is reachable from this
// machine only.
func isLoopback(listen string) bool {
	host, _, err := net.SplitHostPort(listen)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
