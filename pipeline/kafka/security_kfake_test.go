package kafka

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/millrace-dev/millrace/pipeline/config"
	"github.com/millrace-dev/millrace/pipeline/engine"
	"github.com/millrace-dev/millrace/pipeline/kafka/securitytest"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
)

// The clients over TLS, mutual TLS and SASL, against kfake with a TLS
// listener (kfake.TLS) and SASL users (kfake.Superuser). The certificates
// are made by the test (securitytest); none is checked in.

// pki is a CA with a broker certificate for 127.0.0.1 and a client
// certificate.
type pki struct {
	ca             *securitytest.CA
	server, client securitytest.Pair
}

func newPKI(t *testing.T) pki {
	ca := securitytest.NewCA(t, "millrace test CA")
	return pki{ca: ca, server: ca.Server(t, "127.0.0.1", "localhost"), client: ca.Client(t, "millrace")}
}

// tlsConfig is kafka.tls trusting ca, with the client certificate when
// mutual.
func (p pki) tlsConfig(mutual bool) config.TLS {
	t := config.TLS{Enabled: true, CA: p.ca.PEM, MinVersion: "1.2"}
	if mutual {
		t.Cert, t.Key = p.client.CertPEM, config.NewSecret(string(p.client.KeyPEM))
	}
	return t
}

// security is SecurityFor the brokers at addr with TLS and SASL settings.
func security(t *testing.T, addr string, tc config.TLS, sc config.SASL) *Security {
	t.Helper()
	sec, err := SecurityFor(config.Kafka{Brokers: []string{addr}, ClientID: "millrace-test", TLS: tc, SASL: sc}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	return sec
}

const testPassword = "s3cret-Pa55"

func scramUser(mechanism, pass string) config.SASL {
	return config.SASL{Mechanism: mechanism, Username: "alice", Password: config.NewSecret(pass)}
}

// The producer and the consumer (group mode, committing) move records
// over each secured listener; topic creation and the admin client too.
func TestSecuredRoundTrip(t *testing.T) {
	p := newPKI(t)
	for _, c := range []struct {
		name    string
		cluster []kfake.Opt
		tls     config.TLS
		sasl    config.SASL
	}{
		{"tls", []kfake.Opt{kfake.TLS(securitytest.ServerConfig(p.server, nil))}, p.tlsConfig(false), config.SASL{}},
		{"mtls", []kfake.Opt{kfake.TLS(securitytest.ServerConfig(p.server, p.ca))}, p.tlsConfig(true), config.SASL{}},
		{"plain over tls", []kfake.Opt{kfake.TLS(securitytest.ServerConfig(p.server, nil)), kfake.EnableSASL(), kfake.Superuser("PLAIN", "alice", testPassword)},
			p.tlsConfig(false), config.SASL{Mechanism: config.MechanismPlain, Username: "alice", Password: config.NewSecret(testPassword)}},
		{"scram-sha-256 over tls", []kfake.Opt{kfake.TLS(securitytest.ServerConfig(p.server, nil)), kfake.EnableSASL(), kfake.Superuser("SCRAM-SHA-256", "alice", testPassword)},
			p.tlsConfig(false), scramUser(config.MechanismScram256, testPassword)},
		{"scram-sha-512 over mtls", []kfake.Opt{kfake.TLS(securitytest.ServerConfig(p.server, p.ca)), kfake.EnableSASL(), kfake.Superuser("SCRAM-SHA-512", "alice", testPassword)},
			p.tlsConfig(true), scramUser(config.MechanismScram512, testPassword)},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, addr := newCluster(t, c.cluster...)
			sec := security(t, addr, c.tls, c.sasl)
			roundTrip(t, addr, sec)
			if err := sec.Err(); err != nil {
				t.Errorf("a failure was reported: %v", err)
			}
		})
	}
}

// roundTrip creates "in", produces records to it, consumes them as a
// group and checks the commit, every client secured by sec.
func roundTrip(t *testing.T, addr string, sec *Security) {
	t.Helper()
	const n = 20
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	if err := EnsureTopics(ctx, []string{addr}, "millrace-test", sec, 2, 1, "in"); err != nil {
		t.Fatal(err)
	}
	bp, err := NewBatchPublisher(BatchPublisherConfig{Brokers: []string{addr}, ClientID: "millrace-test", Security: sec})
	if err != nil {
		t.Fatal(err)
	}
	defer bp.Close()
	var recs []*engine.Record
	for i := range n {
		recs = append(recs, &engine.Record{Topic: "in", Key: fmt.Appendf(nil, "k%d", i%4), Value: fmt.Appendf(nil, "v%d", i)})
	}
	produced := make(chan error, 1)
	bp.Produce(recs, func(err error) { produced <- err })
	select {
	case err := <-produced:
		if err != nil {
			t.Fatal(err)
		}
	case <-ctx.Done():
		t.Fatal("records not acknowledged")
	}
	sub, err := NewConcurrentSubscriber(ConcurrentSubscriberConfig{Brokers: []string{addr}, ClientID: "millrace-test", Group: "g", Start: "oldest", Security: sec})
	if err != nil {
		t.Fatal(err)
	}
	var got atomic.Int32
	cctx, stop := context.WithCancel(ctx)
	done, err := sub.Consume(cctx, "in", 2, func(_ *engine.Record, settle func(engine.Result)) {
		got.Add(1)
		settle(engine.Result{Done: true})
	})
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, 15*time.Second, "every record consumed", func() bool { return got.Load() == n })
	stop()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	cl, err := NewClient([]string{addr}, "millrace-test", sec)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	offs, err := kadm.NewClient(cl).FetchOffsetsForTopics(ctx, "g", "in")
	if err != nil {
		t.Fatal(err)
	}
	var sum int64
	for _, o := range offs["in"] {
		sum += o.At
	}
	if sum != n {
		t.Errorf("committed offsets add up to %d, want %d", sum, n)
	}
}

// A wrong password, an untrusted CA, a certificate for another name, a
// missing client certificate, plaintext against TLS: each is one
// *SecurityError naming the broker and the cause, reported quickly, not a
// retry storm. Topic creation returns it, the Security reports it, and a
// consumer's read ends with it, logging no fetch failure.
func TestSecurityFailures(t *testing.T) {
	p := newPKI(t)
	other := newPKI(t) // another CA, unknown to the broker and the client
	wrongName := p.ca.Server(t, "kafka.example.com")
	for _, c := range []struct {
		name    string
		cluster []kfake.Opt
		tls     config.TLS
		sasl    config.SASL
		cause   string
	}{
		{"wrong scram password", []kfake.Opt{kfake.TLS(securitytest.ServerConfig(p.server, nil)), kfake.EnableSASL(), kfake.Superuser("SCRAM-SHA-512", "alice", testPassword)},
			p.tlsConfig(false), scramUser(config.MechanismScram512, "not-"+testPassword), "authentication"},
		{"wrong plain password", []kfake.Opt{kfake.TLS(securitytest.ServerConfig(p.server, nil)), kfake.EnableSASL(), kfake.Superuser("PLAIN", "alice", testPassword)},
			p.tlsConfig(false), config.SASL{Mechanism: config.MechanismPlain, Username: "alice", Password: config.NewSecret("not-" + testPassword)}, "authentication"},
		{"untrusted ca", []kfake.Opt{kfake.TLS(securitytest.ServerConfig(p.server, nil))},
			other.tlsConfig(false), config.SASL{}, "signed by an unknown authority"},
		{"system roots", []kfake.Opt{kfake.TLS(securitytest.ServerConfig(p.server, nil))},
			config.TLS{Enabled: true}, config.SASL{}, "signed by an unknown authority"},
		{"name mismatch", []kfake.Opt{kfake.TLS(securitytest.ServerConfig(wrongName, nil))},
			p.tlsConfig(false), config.SASL{}, "not for the name dialed"},
		{"missing client certificate", []kfake.Opt{kfake.TLS(securitytest.ServerConfig(p.server, p.ca))},
			p.tlsConfig(false), config.SASL{}, "requires a client certificate"},
		{"client certificate of another ca", []kfake.Opt{kfake.TLS(securitytest.ServerConfig(p.server, p.ca))},
			withClient(p.tlsConfig(false), other.client), config.SASL{}, "refused the client certificate"},
		{"plaintext against tls", []kfake.Opt{kfake.TLS(securitytest.ServerConfig(p.server, nil))},
			config.TLS{}, config.SASL{}, "closed the connection at once"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, addr := newCluster(t, c.cluster...)
			sec := security(t, addr, c.tls, c.sasl)
			start := time.Now()
			ctx, cancel := sec.CancelOnFailure(t.Context())
			defer cancel()
			err := EnsureTopics(ctx, []string{addr}, "millrace-test", sec, 1, 1, "in")
			var se *SecurityError
			if !errors.As(sec.Explain(err), &se) {
				t.Fatalf("EnsureTopics: %v (%T), want a *SecurityError", err, err)
			}
			t.Logf("%v", se)
			if d := time.Since(start); d > 8*time.Second {
				t.Errorf("the failure took %v", d)
			}
			if se.Broker != addr || !strings.Contains(se.Error(), c.cause) || !strings.HasPrefix(se.Error(), "broker "+addr+": ") {
				t.Errorf("error %q: want broker %s and the cause %q", se, addr, c.cause)
			}
			if strings.Contains(se.Error(), testPassword) {
				t.Errorf("error shows the password: %v", se)
			}
			logs := securitytest.NewLog(t)
			sub, err := NewConcurrentSubscriber(ConcurrentSubscriberConfig{Brokers: []string{addr}, ClientID: "millrace-test", Group: "g", Security: sec, Logger: logs.Logger})
			if err != nil {
				t.Fatal(err)
			}
			done, err := sub.Consume(t.Context(), "in", 1, func(_ *engine.Record, settle func(engine.Result)) { settle(engine.Result{Done: true}) })
			if err != nil {
				t.Fatal(err)
			}
			select {
			case err := <-done:
				if !errors.As(err, &se) {
					t.Errorf("the read ended with %v, want the *SecurityError", err)
				}
			case <-time.After(15 * time.Second):
				t.Fatal("the consumer did not end")
			}
			if n := strings.Count(logs.String(), "fetch failed"); n > 0 {
				t.Errorf("%d fetch failures logged:\n%s", n, logs.String())
			}
			select {
			case <-sec.Failed():
			case <-time.After(quickly):
				t.Fatal("the Security reported no failure")
			}
			if got := sec.Err().Error(); !strings.HasPrefix(got, "broker "+addr+": ") || !strings.Contains(got, c.cause) {
				t.Errorf("Err() = %v, want broker %s and %q", got, addr, c.cause)
			}
		})
	}
}

func withClient(t config.TLS, p securitytest.Pair) config.TLS {
	t.Cert, t.Key = p.CertPEM, config.NewSecret(string(p.KeyPEM))
	return t
}
