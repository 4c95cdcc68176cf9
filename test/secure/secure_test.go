package secure

import (
	"crypto/x509"
	"encoding/pem"
	"errors"
	"net"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// Each SASL mechanism the broker enables carries records both ways over
// SASL_SSL, with the user that holds all three credentials.
func TestSASLSSLProduceConsume(t *testing.T) {
	e := need(t)
	for _, mech := range []string{"PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"} {
		t.Run(mech, func(t *testing.T) {
			roundTrip(t, saslSSL(t, e, mech, e.Username, e.Password))
		})
	}
	// The user with only a SCRAM-SHA-512 credential.
	t.Run("SCRAM-SHA-512-only-user", func(t *testing.T) {
		roundTrip(t, saslSSL(t, e, "SCRAM-SHA-512", e.SCRAM512Username, e.SCRAM512Password))
	})
}

// The SSL listener carries records for a client with a certificate signed by
// the CA, whether the broker's name is checked as its IP address (the
// default: the dialled host) or as the DNS name in its certificate.
func TestSSLClientCertificateProduceConsume(t *testing.T) {
	e := need(t)
	t.Run("ip-address", func(t *testing.T) {
		roundTrip(t, mutualTLS(t, e))
	})
	t.Run("server-name", func(t *testing.T) {
		roundTrip(t, listener{e.SSL, []kgo.Opt{kgo.DialTLSConfig(mustTLS(t, e.CAFile, e.CertFile, e.KeyFile, e.ServerName))}})
	})
	// Records written over one listener are read over the other: one broker.
	t.Run("across-listeners", func(t *testing.T) {
		sasl := saslSSL(t, e, "SCRAM-SHA-256", e.Username, e.Password)
		topic := topicName(t)
		createTopic(t, sasl, topic)
		want := testRecords(topic, 3)
		produce(t, sasl, want...)
		requireRecords(t, consume(t, mutualTLS(t, e), topic, len(want)), want)
	})
}

func TestWrongPasswordIsRefused(t *testing.T) {
	e := need(t)
	for _, mech := range []string{"PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"} {
		t.Run(mech, func(t *testing.T) {
			err := refused(t, saslSSL(t, e, mech, e.Username, "wrong-"+e.Password))
			if !errors.Is(err, kerr.SaslAuthenticationFailed) {
				t.Fatalf("error %v, want %v", err, kerr.SaslAuthenticationFailed)
			}
		})
	}
	t.Run("unknown-user", func(t *testing.T) {
		err := refused(t, saslSSL(t, e, "SCRAM-SHA-256", "nobody-"+e.Username, e.Password))
		if !errors.Is(err, kerr.SaslAuthenticationFailed) {
			t.Fatalf("error %v, want %v", err, kerr.SaslAuthenticationFailed)
		}
	})
}

// A credential exists for one mechanism only: the SCRAM-SHA-512 user's
// password does not log in with the other two.
func TestCredentialIsPerMechanism(t *testing.T) {
	e := need(t)
	for _, mech := range []string{"PLAIN", "SCRAM-SHA-256"} {
		t.Run(mech, func(t *testing.T) {
			err := refused(t, saslSSL(t, e, mech, e.SCRAM512Username, e.SCRAM512Password))
			if !errors.Is(err, kerr.SaslAuthenticationFailed) {
				t.Fatalf("error %v, want %v", err, kerr.SaslAuthenticationFailed)
			}
		})
	}
}

// A client that trusts another CA does not accept the broker's certificate,
// on either listener.
func TestUntrustedCAIsRefused(t *testing.T) {
	e := need(t)
	for name, l := range map[string]listener{
		"SASL_SSL": {e.SASLSSL, []kgo.Opt{kgo.DialTLSConfig(mustTLS(t, e.UntrustedCAFile, "", "", "")),
			kgo.SASL(mechanism(t, "PLAIN", e.Username, e.Password))}},
		"SSL": {e.SSL, []kgo.Opt{kgo.DialTLSConfig(mustTLS(t, e.UntrustedCAFile, e.CertFile, e.KeyFile, ""))}},
	} {
		t.Run(name, func(t *testing.T) {
			err := refused(t, l)
			if _, ok := errors.AsType[x509.UnknownAuthorityError](err); !ok {
				t.Fatalf("error %v, want an x509.UnknownAuthorityError", err)
			}
		})
	}
}

// A server name that the broker certificate does not have is refused by
// the client.
func TestNameMismatchIsRefused(t *testing.T) {
	e := need(t)
	const name = "kafka.invalid"
	for listenerName, l := range map[string]listener{
		"SASL_SSL": {e.SASLSSL, []kgo.Opt{kgo.DialTLSConfig(mustTLS(t, e.CAFile, "", "", name)),
			kgo.SASL(mechanism(t, "PLAIN", e.Username, e.Password))}},
		"SSL": {e.SSL, []kgo.Opt{kgo.DialTLSConfig(mustTLS(t, e.CAFile, e.CertFile, e.KeyFile, name))}},
	} {
		t.Run(listenerName, func(t *testing.T) {
			err := refused(t, l)
			he, ok := errors.AsType[x509.HostnameError](err)
			if !ok || he.Host != name {
				t.Fatalf("error %v, want an x509.HostnameError for %s", err, name)
			}
		})
	}
}

// The SSL listener requires a client certificate signed by the CA and
// currently valid; the broker ends the handshake with a TLS alert otherwise.
// With TLS 1.3 the client has finished its side of the handshake by then, so
// the alert is the error of the first request. The alerts named are those of
// the JDK's TLS stack (the first one of each list is what Java 17 sends) and
// their TLS 1.3 counterparts.
func TestClientCertificateIsRequired(t *testing.T) {
	e := need(t)
	t.Run("missing", func(t *testing.T) {
		err := refused(t, listener{e.SSL, []kgo.Opt{kgo.DialTLSConfig(mustTLS(t, e.CAFile, "", "", ""))}})
		requireAlert(t, err, "bad certificate", "certificate required")
	})
	t.Run("untrusted", func(t *testing.T) {
		err := refused(t, listener{e.SSL, []kgo.Opt{kgo.DialTLSConfig(mustTLS(t, e.CAFile, e.UntrustedCertFile, e.UntrustedKeyFile, ""))}})
		requireAlert(t, err, "bad certificate", "unknown certificate authority")
	})
	t.Run("expired", func(t *testing.T) {
		cert := readCert(t, e.ExpiredCertFile)
		if !cert.NotAfter.Before(time.Now()) {
			t.Fatalf("%s expires at %s: not expired", e.ExpiredCertFile, cert.NotAfter)
		}
		// Signed by the CA, so the expiry is the only fault.
		if _, err := cert.Verify(x509.VerifyOptions{Roots: poolOf(t, e.CAFile), CurrentTime: cert.NotAfter.Add(-time.Minute),
			KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
			t.Fatalf("%s before its expiry: %v", e.ExpiredCertFile, err)
		}
		err := refused(t, listener{e.SSL, []kgo.Opt{kgo.DialTLSConfig(mustTLS(t, e.CAFile, e.ExpiredCertFile, e.ExpiredKeyFile, ""))}})
		requireAlert(t, err, "unknown certificate", "expired certificate")
	})
}

// requireAlert fails unless err is a TLS alert from the broker, one of
// alerts (as crypto/tls names them).
func requireAlert(t *testing.T, err error, alerts ...string) {
	t.Helper()
	op, ok := errors.AsType[*net.OpError](err)
	if !ok || op.Op != "remote error" {
		t.Fatalf("error %v, want a TLS alert from the broker (%s)", err, strings.Join(alerts, " or "))
	}
	if !slices.Contains(alerts, strings.TrimPrefix(op.Err.Error(), "tls: ")) {
		t.Fatalf("TLS alert %q, want %s", op.Err, strings.Join(alerts, " or "))
	}
}

func readCert(t *testing.T, file string) *x509.Certificate {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(data)
	if block == nil {
		t.Fatalf("%s: no PEM block", file)
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return cert
}

func poolOf(t *testing.T, file string) *x509.CertPool {
	t.Helper()
	p := x509.NewCertPool()
	p.AddCert(readCert(t, file))
	return p
}
