// Package secure checks the secured listeners of the test Kafka broker
// (test/kafka/kafka.sh) with clients of its own, independent of Millrace's
// configuration: franz-go and kcat produce and consume over SASL_SSL (PLAIN,
// SCRAM-SHA-256, SCRAM-SHA-512) and over SSL with a client certificate, and
// each kind of bad credential is refused with its own error.
//
// The listeners, certificates and users come from the MILLRACE_TEST_KAFKA_*
// variables that `kafka.sh start` writes to secure.env and test/run.sh
// exports. Without them the tests skip, unless MILLRACE_TEST_BROKERS is set
// (the test command is running), in which case they fail: the harness is
// then broken. A listener that is named but cannot be used fails the tests.
package secure

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl/plain"
)

// secureEnv is what kafka.sh tells the tests about the secured listeners.
type secureEnv struct {
	SASLSSL    string // host:port of the SASL_SSL listener
	SSL        string // host:port of the SSL (mutual TLS) listener
	ServerName string // a DNS name of the broker certificate besides its IP address

	CAFile, CertFile, KeyFile                            string
	ExpiredCertFile, ExpiredKeyFile                      string
	UntrustedCAFile, UntrustedCertFile, UntrustedKeyFile string

	Username, Password, PasswordFile   string // valid for PLAIN, SCRAM-SHA-256 and SCRAM-SHA-512
	SCRAM512Username, SCRAM512Password string // a SCRAM-SHA-512 credential only
}

var (
	env        *secureEnv
	skipReason string
)

func TestMain(m *testing.M) {
	os.Exit(runMain(m))
}

func runMain(m *testing.M) int {
	e, missing, err := loadEnv()
	switch {
	case err != nil:
		fmt.Fprintln(os.Stderr, "secure listeners:", err)
		return 1
	case len(missing) > 0 && os.Getenv("MILLRACE_TEST_BROKERS") != "":
		fmt.Fprintf(os.Stderr, "MILLRACE_TEST_BROKERS is set, but the secured listeners are not: %s missing "+
			"(test/run.sh exports them from `test/kafka/kafka.sh secure-env`)\n", strings.Join(missing, ", "))
		return 1
	case len(missing) > 0:
		skipReason = fmt.Sprintf("the secured Kafka listeners are not configured (%s unset); "+
			"./test/run.sh sets them, or: test/kafka/kafka.sh start && set -a && eval \"$(test/kafka/kafka.sh secure-env)\" && set +a",
			missing[0])
	default:
		if err := pingAll(e); err != nil {
			fmt.Fprintln(os.Stderr, "secure listeners were asked for but cannot be used:", err)
			return 1
		}
		env = e
	}
	return m.Run()
}

// loadEnv reads the MILLRACE_TEST_KAFKA_* variables. It returns the names
// of the unset ones if all are unset; some set and some not, or a named file
// that does not exist, is an error.
func loadEnv() (*secureEnv, []string, error) {
	e := &secureEnv{}
	vars := []struct {
		name string
		dst  *string
		file bool
	}{
		{"MILLRACE_TEST_KAFKA_SASL_SSL", &e.SASLSSL, false},
		{"MILLRACE_TEST_KAFKA_SSL", &e.SSL, false},
		{"MILLRACE_TEST_KAFKA_TLS_SERVER_NAME", &e.ServerName, false},
		{"MILLRACE_TEST_KAFKA_CA_FILE", &e.CAFile, true},
		{"MILLRACE_TEST_KAFKA_CERT_FILE", &e.CertFile, true},
		{"MILLRACE_TEST_KAFKA_KEY_FILE", &e.KeyFile, true},
		{"MILLRACE_TEST_KAFKA_EXPIRED_CERT_FILE", &e.ExpiredCertFile, true},
		{"MILLRACE_TEST_KAFKA_EXPIRED_KEY_FILE", &e.ExpiredKeyFile, true},
		{"MILLRACE_TEST_KAFKA_UNTRUSTED_CA_FILE", &e.UntrustedCAFile, true},
		{"MILLRACE_TEST_KAFKA_UNTRUSTED_CERT_FILE", &e.UntrustedCertFile, true},
		{"MILLRACE_TEST_KAFKA_UNTRUSTED_KEY_FILE", &e.UntrustedKeyFile, true},
		{"MILLRACE_TEST_KAFKA_SASL_USERNAME", &e.Username, false},
		{"MILLRACE_TEST_KAFKA_SASL_PASSWORD", &e.Password, false},
		{"MILLRACE_TEST_KAFKA_SASL_PASSWORD_FILE", &e.PasswordFile, true},
		{"MILLRACE_TEST_KAFKA_SCRAM512_USERNAME", &e.SCRAM512Username, false},
		{"MILLRACE_TEST_KAFKA_SCRAM512_PASSWORD", &e.SCRAM512Password, false},
	}
	var missing, set []string
	for _, v := range vars {
		*v.dst = os.Getenv(v.name)
		if *v.dst == "" {
			missing = append(missing, v.name)
			continue
		}
		set = append(set, v.name)
		if v.file {
			if _, err := os.Stat(*v.dst); err != nil {
				return nil, nil, fmt.Errorf("%s: %w", v.name, err)
			}
		}
	}
	if len(missing) > 0 && len(set) > 0 {
		return nil, nil, fmt.Errorf("%s set but %s not (they come together from `test/kafka/kafka.sh secure-env`)",
			strings.Join(set, ", "), strings.Join(missing, ", "))
	}
	if len(missing) > 0 {
		return nil, missing, nil
	}
	if pw, err := os.ReadFile(e.PasswordFile); err != nil || string(pw) != e.Password {
		return nil, nil, fmt.Errorf("MILLRACE_TEST_KAFKA_SASL_PASSWORD_FILE %s does not hold MILLRACE_TEST_KAFKA_SASL_PASSWORD (err %v)", e.PasswordFile, err)
	}
	return e, nil, nil
}

// pingAll checks that both listeners answer a metadata request with good
// credentials, so that a broken harness fails once and clearly.
func pingAll(e *secureEnv) error {
	tc, err := tlsConfig(e.CAFile, "", "", "")
	if err != nil {
		return err
	}
	mtls, err := tlsConfig(e.CAFile, e.CertFile, e.KeyFile, "")
	if err != nil {
		return err
	}
	for _, c := range []struct {
		name, addr string
		opts       []kgo.Opt
	}{
		{"SASL_SSL (PLAIN)", e.SASLSSL, []kgo.Opt{kgo.DialTLSConfig(tc), kgo.SASL(plain.Auth{User: e.Username, Pass: e.Password}.AsMechanism())}},
		{"SSL (client certificate)", e.SSL, []kgo.Opt{kgo.DialTLSConfig(mtls)}},
	} {
		if err := ping(c.addr, c.opts...); err != nil {
			return fmt.Errorf("%s at %s: %w", c.name, c.addr, err)
		}
	}
	return nil
}

func ping(addr string, opts ...kgo.Opt) error {
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(addr)}, opts...)...)
	if err != nil {
		return err
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	return cl.Ping(ctx)
}

// need returns the environment, or skips the test when it is not set.
func need(t *testing.T) *secureEnv {
	t.Helper()
	if env == nil {
		t.Skip(skipReason)
	}
	return env
}

// tlsConfig builds a client TLS config that trusts caFile, presents the
// certificate in certFile/keyFile if given, and expects serverName if given
// (otherwise franz-go uses the host of the address it dials).
func tlsConfig(caFile, certFile, keyFile, serverName string) (*tls.Config, error) {
	pem, err := os.ReadFile(caFile)
	if err != nil {
		return nil, err
	}
	c := &tls.Config{RootCAs: x509.NewCertPool(), ServerName: serverName, MinVersion: tls.VersionTLS12}
	if !c.RootCAs.AppendCertsFromPEM(pem) {
		return nil, errors.New(caFile + ": no PEM certificate")
	}
	if certFile != "" {
		pair, err := tls.LoadX509KeyPair(certFile, keyFile)
		if err != nil {
			return nil, err
		}
		c.Certificates = []tls.Certificate{pair}
	}
	return c, nil
}
