// Package admin is the runner's admin HTTP server: Prometheus metrics,
// liveness and readiness checks, a JSON status and the status page, and
// Go's profiler when asked for. It shows pipeline names, topics and groups,
// never other config values, and never a name that came from the
// environment.
//
//	GET /              the status page (embedded; refreshes every 2 s)
//	GET /api/status    the status page's data, as JSON
//	GET /metrics       Prometheus metrics
//	GET /healthz       200 while the process is alive and not wedged, else 503
//	GET /readyz        200 when every pipeline is ready, else 503 with the reasons
//	GET /debug/pprof/  Go's profiler, only with admin.pprof: true
//	POST /api/pipelines/NAME/pause, /resume   pause or resume a pipeline (Controller)
//
// Every path but /healthz and /readyz answers only requests whose Host it
// knows (admin.allowed_hosts; against DNS rebinding) and, with admin.auth,
// only requests with the credentials; admin.tls makes it HTTPS.
package admin

import (
	"context"
	"crypto/tls"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"slices"
	"time"

	"github.com/millrace-dev/millrace/pipeline/observe"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

//go:embed ui
var ui embed.FS

// Options configure the server.
type Options struct {
	// Address is the host:port to listen on; port 0 picks a free port.
	Address string
	// Pprof serves Go's profiler under /debug/pprof/.
	Pprof bool
	// CertFile and KeyFile, when set, make the server speak HTTPS.
	CertFile, KeyFile string
	// Auth, when set, is required on every path but /healthz and /readyz.
	Auth Auth
	// AllowedHosts are Host header names accepted besides the listen
	// address's (see newHostSet); "*" accepts any.
	AllowedHosts []string
	Observer     *observe.Observer
	// Controller, if set, serves POST /api/pipelines/NAME/pause and
	// /resume (see Controller).
	Controller Controller
	// Logger gets the server's logs; nil means slog.Default().
	Logger *slog.Logger
}

// Timeouts of the server. A CPU profile takes 30 s by default, so the write
// timeout is longer with pprof on.
const (
	readHeaderTimeout = 5 * time.Second
	readTimeout       = 10 * time.Second
	writeTimeout      = 30 * time.Second
	pprofWriteTimeout = 90 * time.Second
	idleTimeout       = 60 * time.Second
	maxHeaderBytes    = 64 << 10
)

// Server is a running admin server.
type Server struct {
	srv    *http.Server
	ln     net.Listener
	log    *slog.Logger
	done   chan struct{}
	scheme string // http or https
}

// Start listens on the address and serves in the background. The error of
// a failed listen wraps the net error (errors.Is(err, syscall.EADDRINUSE)
// tells a port in use).
func Start(opts Options) (*Server, error) {
	if opts.Observer == nil {
		return nil, errors.New("admin server: no observer")
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	var tlsConfig *tls.Config
	if opts.CertFile != "" || opts.KeyFile != "" {
		cert, err := tls.LoadX509KeyPair(opts.CertFile, opts.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("admin server: admin.tls: %w", err)
		}
		tlsConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	}
	ln, err := net.Listen("tcp", opts.Address)
	if err != nil {
		return nil, fmt.Errorf("admin server: %w", err)
	}
	hosts := newHostSet(opts.Address, append(slices.Clone(opts.AllowedHosts), hostOf(ln.Addr().String())))
	if !isLoopback(opts.Address) && !opts.Auth.Enabled() {
		opts.Logger.Warn("admin server listens beyond this machine without authentication: anyone who can reach it reads the status and metrics; set admin.auth",
			"addr", opts.Address)
	}
	scheme := "http"
	if tlsConfig != nil {
		ln, scheme = tls.NewListener(ln, tlsConfig), "https"
	}
	wt := writeTimeout
	if opts.Pprof {
		wt = pprofWriteTimeout
	}
	s := &Server{
		ln:  ln,
		log: opts.Logger,
		srv: &http.Server{
			Handler:           guard(withControl(Handler(opts.Observer, opts.Pprof), opts.Controller), hosts, opts.Auth),
			ReadHeaderTimeout: readHeaderTimeout,
			ReadTimeout:       readTimeout,
			WriteTimeout:      wt,
			IdleTimeout:       idleTimeout,
			MaxHeaderBytes:    maxHeaderBytes,
			ErrorLog:          slog.NewLogLogger(opts.Logger.Handler(), slog.LevelDebug),
		},
		done:   make(chan struct{}),
		scheme: scheme,
	}
	go func() {
		defer close(s.done)
		if err := s.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("admin server stopped", "error", err.Error())
		}
	}()
	s.log.Info("admin server listening", "addr", s.URL(), "pprof", opts.Pprof, "auth", opts.Auth.Enabled())
	return s, nil
}

// Addr is the address the server listens on.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// URL is the server's base URL.
func (s *Server) URL() string { return s.scheme + "://" + s.Addr() }

// hostOf is the host of a host:port.
func hostOf(addr string) string {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	return host
}

// Close stops the server, letting requests in progress finish until ctx
// ends.
func (s *Server) Close(ctx context.Context) error {
	err := s.srv.Shutdown(ctx)
	if err != nil {
		err = errors.Join(err, s.srv.Close())
	}
	<-s.done
	return err
}

// Handler serves the admin endpoints for obs.
func Handler(obs *observe.Observer, withPprof bool) http.Handler {
	mux := http.NewServeMux()
	assets, err := fs.Sub(ui, "ui")
	if err != nil {
		panic(err) // the embedded folder is part of the build
	}
	static := http.FileServerFS(assets)
	index, err := fs.ReadFile(assets, "index.html")
	if err != nil {
		panic(err)
	}
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-cache")
		_, _ = w.Write(index)
	})
	mux.Handle("GET /assets/", http.StripPrefix("/assets", static))
	mux.HandleFunc("GET /api/status", func(w http.ResponseWriter, _ *http.Request) {
		st, err := obs.Status(time.Now())
		if err != nil {
			writeJSON(w, http.StatusInternalServerError, map[string]string{"error": err.Error()})
			return
		}
		writeJSON(w, http.StatusOK, st)
	})
	mux.Handle("GET /metrics", promhttp.HandlerFor(obs.Gatherer(), promhttp.HandlerOpts{}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		ok, why := obs.Health(time.Now())
		if !ok {
			writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "unhealthy", "reason": why})
			return
		}
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		ready, pipes := obs.Ready(time.Now())
		code := http.StatusOK
		if !ready {
			code = http.StatusServiceUnavailable
		}
		writeJSON(w, code, map[string]any{"ready": ready, "pipelines": pipes})
	})
	if withPprof {
		// Not /debug/pprof/cmdline: the command line may carry values that
		// are not for an HTTP client.
		mux.HandleFunc("GET /debug/pprof/", pprof.Index)
		mux.HandleFunc("GET /debug/pprof/profile", pprof.Profile)
		mux.HandleFunc("GET /debug/pprof/symbol", pprof.Symbol)
		mux.HandleFunc("GET /debug/pprof/trace", pprof.Trace)
	}
	return secure(mux)
}

// secure sets headers that keep the page and its data to this origin.
func secure(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'")
		next.ServeHTTP(w, r)
	})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}
