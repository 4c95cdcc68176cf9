package kafka

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/millrace-dev/millrace/pipeline/config"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"golang.org/x/oauth2"
)

// SecurityError is a connection to a broker that failed for a reason
// retrying does not fix: the broker refused the credentials or the client
// certificate, or its certificate is not trusted or not for its name. Its
// text names the broker, the cause and what to check, and never a secret.
type SecurityError struct {
	// Broker is the broker's host:port (the bootstrap list when the
	// failing one is not known).
	Broker string
	// Cause is what failed, in words; Hint what to check.
	Cause, Hint string
	// Err is the client's error, scrubbed of secrets.
	Err error
}

func (e *SecurityError) Error() string {
	s := "broker " + e.Broker + ": " + e.Cause
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	if e.Hint != "" {
		s += " (" + e.Hint + ")"
	}
	return s
}

func (e *SecurityError) Unwrap() error { return e.Err }

// classified is what classify makes of an error.
type classified struct {
	cause, hint string
	// definite: this error alone shows the failure (a broker's refusal, a
	// certificate check). Otherwise it is suspect: a connection closed
	// during the TLS handshake or authentication, which a broker
	// restarting also causes; suspectLimit of them in a row count.
	definite bool
}

// suspectLimit is how many suspect failures in a row to one broker, with
// no connection succeeding between them, make a SecurityError.
const suspectLimit = 3

// rule is a conclusive failure: an error match makes the cause and hint
// ("<mechanism>" in the cause is the SASL mechanism's name; no hint means
// the mechanism's credentials hint).
type rule struct {
	match       func(error) bool
	cause, hint string
}

func is(target error) func(error) bool { return func(err error) bool { return errors.Is(err, target) } }

func as[T error](err error) bool {
	_, ok := errors.AsType[T](err)
	return ok
}

var rules = []rule{
	{is(kerr.SaslAuthenticationFailed), "SASL <mechanism> authentication failed: the broker refused the credentials", ""},
	{is(kerr.UnsupportedSaslMechanism), "the broker does not enable SASL mechanism <mechanism>", "use a mechanism the broker's listener enables"},
	{is(kerr.IllegalSaslState), "the broker refused SASL", "is it a listener without SASL? remove kafka.sasl or use the broker's SASL port"},
	{as[*oauth2.RetrieveError], "the OAUTHBEARER token endpoint refused the request", "check kafka.sasl.token_endpoint, client_id and client_secret"},
	{as[x509.UnknownAuthorityError], "the broker's certificate is signed by an unknown authority", "set kafka.tls.ca_file to the CA that signs the brokers' certificates"},
	{as[x509.HostnameError], "the broker's certificate is not for the name dialed", "connect by a name the certificate lists, or set kafka.tls.server_name"},
	{as[x509.CertificateInvalidError], "the broker's certificate is not valid", "is it expired or not yet valid, or is the clock wrong?"},
	{as[*tls.CertificateVerificationError], "the broker's certificate failed verification", "check kafka.tls.ca_file and the broker's certificate"},
	{as[tls.RecordHeaderError], "the broker did not answer in TLS", "its listener is plaintext: remove kafka.tls or use the broker's TLS port"},
}

// classify tells whether err, from connecting to a broker, is a failure of
// TLS or SASL that retrying does not fix. dialed says the TCP connection
// and TLS handshake had succeeded (the failure came after).
func classify(err error, mechanism string, tlsOn, dialed bool) (classified, bool) {
	for _, r := range rules {
		if r.match(err) {
			hint := r.hint
			if hint == "" {
				hint = credentialsHint(mechanism)
			}
			return classified{strings.ReplaceAll(r.cause, "<mechanism>", mechanism), hint, true}, true
		}
	}
	if op, ok := errors.AsType[*net.OpError](err); ok && op.Op == "remote error" {
		return classifyAlert(op.Err.Error())
	}
	closed := as[*kgo.ErrFirstReadEOF](err) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.ECONNRESET)
	switch {
	case !closed:
		return classified{}, false
	case !dialed && tlsOn:
		return classified{cause: "the broker closed the connection during the TLS handshake", hint: "is its listener plaintext? remove kafka.tls or use the broker's TLS port"}, true
	case dialed && mechanism != "":
		return classified{cause: fmt.Sprintf("the broker closed the connection during SASL %s authentication, as brokers do on wrong credentials", mechanism), hint: credentialsHint(mechanism)}, true
	case dialed:
		return classified{cause: "the broker closed the connection at once", hint: "does its listener expect TLS (kafka.tls) or SASL (kafka.sasl)?"}, true
	}
	return classified{}, false
}

// classifyAlert reads a TLS alert the broker sent.
func classifyAlert(alert string) (classified, bool) {
	switch {
	case strings.Contains(alert, "certificate required"):
		return classified{"the broker requires a client certificate", "set kafka.tls.cert_file and key_file", true}, true
	case strings.Contains(alert, "certificate"), strings.Contains(alert, "unknown ca"), strings.Contains(alert, "unknown certificate authority"):
		return classified{"the broker refused the client certificate", "does the broker trust the CA that signed kafka.tls.cert_file, and is the certificate valid?", true}, true
	case strings.Contains(alert, "protocol version"):
		return classified{"the broker and the client have no TLS version in common", "check kafka.tls.min_version", true}, true
	case strings.HasPrefix(alert, "tls:"):
		return classified{"the broker ended the TLS handshake", "check kafka.tls against the broker's listener", true}, true
	}
	return classified{}, false
}

func credentialsHint(mechanism string) string {
	switch mechanism {
	case config.MechanismOAuth:
		return "check that the broker accepts tokens of kafka.sasl.token_endpoint for client_id"
	case config.MechanismAWSMSKIAM:
		return "check the AWS identity of the credential chain and its kafka-cluster:Connect permission"
	}
	return "check kafka.sasl.username and password, and that the listener enables " + mechanism
}

// watch is a franz-go hook on every connection of a Security's clients: it
// keeps the first failure retrying does not fix.
type watch struct {
	mechanism string
	tlsOn     bool
	secrets   []string
	failed    chan struct{}

	mu       sync.Mutex
	suspects map[string]int // suspect failures in a row, by broker
	err      *SecurityError
}

var _ kgo.HookBrokerConnect = (*watch)(nil)

func newWatch(s *Security, secrets []string) *watch {
	return &watch{mechanism: s.sasl.Mechanism, tlsOn: s.tls != nil, secrets: secrets, failed: make(chan struct{}), suspects: map[string]int{}}
}

// OnBrokerConnect sees every connection attempt: the dial, the TLS
// handshake and the SASL exchange.
func (w *watch) OnBrokerConnect(meta kgo.BrokerMetadata, _ time.Duration, conn net.Conn, err error) {
	addr := net.JoinHostPort(meta.Host, strconv.Itoa(int(meta.Port)))
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err != nil {
		return
	}
	c, ok := classify(err, w.mechanism, w.tlsOn, conn != nil)
	if err == nil || !ok {
		// A connection that worked, or failed otherwise (refused while a
		// broker restarts), ends a run of suspect failures.
		delete(w.suspects, addr)
		return
	}
	if !c.definite {
		if w.suspects[addr]++; w.suspects[addr] < suspectLimit {
			return
		}
	}
	w.err = &SecurityError{Broker: addr, Cause: c.cause, Hint: c.hint, Err: w.scrub(err)}
	close(w.failed)
}

func (w *watch) first() *SecurityError {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.err
}

// scrub hides the secrets in err's text, keeping what it wraps.
func (w *watch) scrub(err error) error {
	text := err.Error()
	for _, s := range w.secrets {
		text = strings.ReplaceAll(text, s, config.Redacted)
	}
	if text == err.Error() {
		return err
	}
	return &scrubbed{text: text, err: err}
}

type scrubbed struct {
	text string
	err  error
}

func (s *scrubbed) Error() string { return s.text }
func (s *scrubbed) Unwrap() error { return s.err }
