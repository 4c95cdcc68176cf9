package config

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/millrace-dev/millrace/transforms/spec"
)

// Secret is a value that is never shown: it prints, formats, marshals and
// logs as "(redacted)". Reveal returns it, for the one place that sends it.
type Secret struct{ v *string }

// Redacted is what a Secret shows instead of its value.
const Redacted = "(redacted)"

// NewSecret wraps s.
func NewSecret(s string) Secret { return Secret{&s} }

// Reveal returns the value.
func (s Secret) Reveal() string {
	if s.v == nil {
		return ""
	}
	return *s.v
}

// IsSet reports whether the secret holds a value.
func (s Secret) IsSet() bool { return s.v != nil && *s.v != "" }

func (Secret) String() string               { return Redacted }
func (Secret) GoString() string             { return Redacted }
func (Secret) MarshalText() ([]byte, error) { return []byte(Redacted), nil }
func (Secret) LogValue() slog.Value         { return slog.StringValue(Redacted) }
func (s Secret) Format(f fmt.State, _ rune) { fmt.Fprint(f, Redacted) }

// TLS configures TLS to the brokers (kafka.tls). The files are read when
// the config loads; a relative path is relative to the config file's
// directory.
type TLS struct {
	Enabled bool
	// CAFile, CertFile and KeyFile are the paths as resolved; CA and Cert
	// their PEM contents, Key the private key's.
	CAFile, CertFile, KeyFile string
	CA, Cert                  []byte
	Key                       Secret
	ServerName                string
	// MinVersion is "1.0" to "1.3".
	MinVersion         string
	InsecureSkipVerify bool
}

// SASL configures SASL authentication (kafka.sasl). Mechanism is "" when
// there is none.
type SASL struct {
	Mechanism string
	// Username and Password: PLAIN and SCRAM (Password read from
	// password_file when that is given).
	Username string
	Password Secret
	// TokenEndpoint, ClientID, ClientSecret and Scopes: OAUTHBEARER.
	TokenEndpoint string
	ClientID      string
	ClientSecret  Secret
	Scopes        []string
	// Region: AWS_MSK_IAM.
	Region         string
	AllowPlaintext bool
}

// Enabled reports whether the clients authenticate.
func (s SASL) Enabled() bool { return s.Mechanism != "" }

// Secrets lists the values of k that must never be shown: the password,
// the client secret, the private key. Error texts are scrubbed of them.
func (k Kafka) Secrets() []string {
	var out []string
	for _, s := range []Secret{k.SASL.Password, k.SASL.ClientSecret, k.TLS.Key} {
		if s.IsSet() {
			out = append(out, s.Reveal())
		}
	}
	return out
}

var tlsVersions = map[string]uint16{"1.0": tls.VersionTLS10, "1.1": tls.VersionTLS11, "1.2": tls.VersionTLS12, "1.3": tls.VersionTLS13}

// ClientConfig is the crypto/tls configuration of the clients; nil when
// TLS is off. Every client, franz-go's and Sarama's, uses it.
func (t TLS) ClientConfig() (*tls.Config, error) {
	if !t.Enabled {
		return nil, nil
	}
	c := &tls.Config{
		MinVersion:         tlsVersions[cmpOr(t.MinVersion, DefaultTLSMinVersion)],
		ServerName:         t.ServerName,
		InsecureSkipVerify: t.InsecureSkipVerify,
	}
	if len(t.CA) > 0 {
		pool, err := rootPool(t.CA)
		if err != nil {
			return nil, fmt.Errorf("kafka.tls.ca_file %s: %w", t.CAFile, err)
		}
		c.RootCAs = pool
	}
	if len(t.Cert) > 0 {
		kp, err := keyPair(t.Cert, t.Key)
		if err != nil {
			return nil, fmt.Errorf("kafka.tls.cert_file %s: %w", t.CertFile, err)
		}
		c.Certificates = []tls.Certificate{kp}
	}
	return c, nil
}

func cmpOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func rootPool(pem []byte) (*x509.CertPool, error) {
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, errors.New("no PEM certificate found")
	}
	return pool, nil
}

func keyPair(cert []byte, key Secret) (tls.Certificate, error) {
	kp, err := tls.X509KeyPair(cert, []byte(key.Reveal()))
	if err != nil {
		// crypto/tls names the problem, never the key's bytes.
		return tls.Certificate{}, fmt.Errorf("not a key pair with key_file: %w", err)
	}
	return kp, nil
}

// hideSecrets marks the secret values written in the file as secret, as
// ${VAR} values are: no error names them.
func hideSecrets(root *spec.Value) {
	s := root.Get("kafka").Get("sasl")
	for _, key := range []string{"password", "client_secret"} {
		if v := s.Get(key); v != nil {
			v.Secret = true
		}
	}
}

// maxSecurityFile bounds a certificate, key or secret file.
const maxSecurityFile = 1 << 20

// security reads kafka.tls and kafka.sasl into k.
func (b *builder) security(v *spec.Value, k *Kafka) {
	tv, sv := v.Get("tls"), v.Get("sasl")
	if tv != nil && tv.Kind == spec.KindMap {
		k.TLS = b.tls(tv)
	}
	if sv != nil && sv.Kind == spec.KindMap {
		k.SASL = b.sasl(sv, k)
	}
	if len(k.Brokers) > 0 {
		return
	}
	for _, key := range []string{"tls", "sasl"} {
		if e, ok := v.Entry(key); ok {
			b.errs = append(b.errs, e.Key.Errorf("kafka.%s is set, but kafka.brokers is not: the embedded broker speaks plaintext", key).
				WithHint("add kafka.brokers"))
		}
	}
}

func (b *builder) tls(v *spec.Value) TLS {
	t := TLS{
		Enabled:            boolOr(v.Get("enabled"), true),
		ServerName:         stringOr(v.Get("server_name"), ""),
		MinVersion:         stringOr(v.Get("min_version"), DefaultTLSMinVersion),
		InsecureSkipVerify: boolOr(v.Get("insecure_skip_verify"), false),
	}
	if !t.Enabled {
		if len(v.Entries) > 1 {
			b.errs = append(b.errs, v.Get("enabled").Errorf("tls.enabled is false, but other tls keys are set").
				WithHint("remove enabled: false to use TLS, or the other keys"))
		}
		return TLS{}
	}
	if _, ok := tlsVersions[t.MinVersion]; !ok {
		t.MinVersion = DefaultTLSMinVersion // Validate reported it
	}
	var caV *spec.Value
	caV, t.CAFile, t.CA = b.readFile(v, "ca_file")
	if t.CA != nil {
		if _, err := rootPool(t.CA); err != nil {
			b.errs = append(b.errs, caV.Errorf("ca_file %s: %v", show(t.CAFile, caV), err).WithHint("give the PEM file of the CA certificates (-----BEGIN CERTIFICATE-----)"))
		}
	}
	certV, keyV := v.Get("cert_file"), v.Get("key_file")
	switch {
	case certV != nil && keyV == nil:
		b.errs = append(b.errs, certV.Errorf("cert_file needs key_file").WithHint("add key_file: the PEM private key of the client certificate"))
	case keyV != nil && certV == nil:
		b.errs = append(b.errs, keyV.Errorf("key_file needs cert_file").WithHint("add cert_file: the PEM client certificate"))
	}
	_, t.CertFile, t.Cert = b.readFile(v, "cert_file")
	var key []byte
	_, t.KeyFile, key = b.readFile(v, "key_file")
	if key != nil {
		t.Key = NewSecret(string(key))
	}
	if t.Cert != nil && key != nil {
		if _, err := keyPair(t.Cert, t.Key); err != nil {
			b.errs = append(b.errs, certV.Errorf("cert_file %s: %v", show(t.CertFile, certV), err).WithHint("cert_file is the client certificate, key_file its private key, both PEM"))
		}
	}
	if t.Cert == nil || key == nil {
		t.Cert, t.Key = nil, Secret{}
	}
	return t
}

// readFile reads the file named by key of map v. It returns the value, the
// resolved path and the contents, nil when the key is absent or an error
// was reported.
func (b *builder) readFile(m *spec.Value, key string) (*spec.Value, string, []byte) {
	v := m.Get(key)
	if v == nil || !v.IsScalar() || v.Failed || v.Kind == spec.KindNull {
		return v, "", nil
	}
	if v.Text == "" {
		b.errs = append(b.errs, v.Errorf("%s is empty", key).WithHint("give the path of a file"))
		return v, "", nil
	}
	path := v.Text
	if !filepath.IsAbs(path) {
		path = filepath.Join(filepath.Dir(b.cfg.File), path)
	}
	fail := func(format string, args ...any) (*spec.Value, string, []byte) {
		e := v.Errorf("%s %s %s", key, show(path, v), fmt.Sprintf(format, args...))
		if !filepath.IsAbs(v.Text) {
			e.WithHint("a relative path is relative to the directory of the config file")
		}
		b.errs = append(b.errs, e)
		return v, path, nil
	}
	st, err := os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fail("does not exist")
	case err != nil:
		return fail("cannot be read: %v", pathErr(err))
	case st.IsDir():
		return fail("is a directory, not a file")
	case !st.Mode().IsRegular():
		return fail("is not a regular file")
	case st.Size() > maxSecurityFile:
		return fail("is larger than 1 MiB")
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return fail("cannot be read: %v", pathErr(err))
	}
	return v, path, data
}

// pathErr drops the path from an *fs.PathError: the message names it.
func pathErr(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// saslKeys are the keys each mechanism reads, besides mechanism and
// allow_plaintext.
var saslKeys = map[string][]string{
	MechanismPlain:     {"username", "password", "password_file"},
	MechanismScram256:  {"username", "password", "password_file"},
	MechanismScram512:  {"username", "password", "password_file"},
	MechanismOAuth:     {"token_endpoint", "client_id", "client_secret", "client_secret_file", "scope"},
	MechanismAWSMSKIAM: {"region"},
}

func (b *builder) sasl(v *spec.Value, k *Kafka) SASL {
	mv := v.Get("mechanism")
	s := SASL{
		Mechanism:      stringOr(mv, ""),
		Username:       stringOr(v.Get("username"), ""),
		TokenEndpoint:  stringOr(v.Get("token_endpoint"), ""),
		ClientID:       stringOr(v.Get("client_id"), ""),
		Region:         stringOr(v.Get("region"), ""),
		AllowPlaintext: boolOr(v.Get("allow_plaintext"), false),
	}
	uses, known := saslKeys[s.Mechanism]
	if mv == nil || mv.Failed || !known {
		return SASL{} // Validate reported it
	}
	fields := saslSchema.FieldNames()
	for _, e := range v.Entries {
		name := e.Key.Text
		if name == "mechanism" || name == "allow_plaintext" || !slices.Contains(fields, name) || slices.Contains(uses, name) {
			continue
		}
		b.errs = append(b.errs, e.Key.Errorf("%s does not apply to mechanism %s", name, s.Mechanism).
			WithHint(fmt.Sprintf("remove it; %s reads %s", s.Mechanism, strings.Join(uses, ", "))))
	}
	need := func(key string) {
		if v.Get(key) == nil {
			b.errs = append(b.errs, mv.Errorf("mechanism %s needs %s", s.Mechanism, key).WithHint("add kafka.sasl."+key))
		}
	}
	switch s.Mechanism {
	case MechanismPlain, MechanismScram256, MechanismScram512:
		need("username")
		s.Password = b.secret(v, mv, "password")
	case MechanismOAuth:
		need("token_endpoint")
		need("client_id")
		s.ClientSecret = b.secret(v, mv, "client_secret")
		b.checkTokenEndpoint(v.Get("token_endpoint"))
		if sc := v.Get("scope"); sc != nil {
			if sc.Kind == spec.KindList {
				s.Scopes = sc.Strings()
			} else if sc.IsScalar() {
				s.Scopes = strings.Fields(sc.Text)
			}
		}
	case MechanismAWSMSKIAM:
		if k.Adapter == AdapterWatermillKafka {
			b.errs = append(b.errs, mv.Errorf("mechanism AWS_MSK_IAM is not available with kafka.adapter %s (Sarama)", AdapterWatermillKafka).
				WithHint("use kafka.adapter "+AdapterMillrace+", or SCRAM or OAUTHBEARER"))
		}
	}
	if (s.Mechanism == MechanismPlain || s.Mechanism == MechanismOAuth) && !k.TLS.Enabled && !s.AllowPlaintext {
		what := "password"
		if s.Mechanism == MechanismOAuth {
			what = "token"
		}
		b.errs = append(b.errs, mv.Errorf("mechanism %s without TLS sends the %s readable on the network", s.Mechanism, what).
			WithHint("enable kafka.tls, or set kafka.sasl.allow_plaintext: true on a trusted network"))
	}
	return s
}

// secret reads a secret given as key or in the file key_file: exactly one
// of the two.
func (b *builder) secret(v, mv *spec.Value, key string) Secret {
	lit, file := v.Get(key), v.Get(key+"_file")
	switch {
	case lit != nil && file != nil:
		b.errs = append(b.errs, file.Errorf("%s and %s_file exclude each other", key, key).WithHint("keep one of them"))
		return Secret{}
	case lit == nil && file == nil:
		b.errs = append(b.errs, mv.Errorf("mechanism %s needs %s or %s_file", stringOr(mv, ""), key, key).WithHint("add kafka.sasl."+key+": ${...}"))
		return Secret{}
	case lit != nil:
		if !lit.IsScalar() || lit.Failed || lit.Kind == spec.KindNull {
			return Secret{}
		}
		if lit.Text == "" {
			b.errs = append(b.errs, lit.Errorf("%s is empty", key))
			return Secret{}
		}
		return NewSecret(lit.Text)
	}
	_, path, data := b.readFile(v, key+"_file")
	if data == nil {
		return Secret{}
	}
	text := strings.TrimSuffix(strings.TrimSuffix(string(data), "\n"), "\r")
	if text == "" {
		b.errs = append(b.errs, file.Errorf("%s_file %s is empty", key, show(path, file)))
		return Secret{}
	}
	return NewSecret(text)
}

// checkTokenEndpoint wants an https URL, or http on a loopback address
// (a token service beside the runner, or a test's).
func (b *builder) checkTokenEndpoint(v *spec.Value) {
	if v == nil || !v.IsScalar() || v.Failed {
		return
	}
	u, err := url.Parse(v.Text)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		b.errs = append(b.errs, v.Errorf("token_endpoint %s is not an http(s) URL", show(v.Text, v)).WithHint("such as https://login.example.com/oauth2/token"))
		return
	}
	if u.Scheme == "http" && !isLoopback(u.Hostname()) {
		b.errs = append(b.errs, v.Errorf("token_endpoint %s would send the client secret unencrypted", show(v.Text, v)).WithHint("use https (http only on a loopback address)"))
	}
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
