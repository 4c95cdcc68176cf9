package kafka

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/millrace-dev/millrace/pipeline/config"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl"
	saslaws "github.com/twmb/franz-go/pkg/sasl/aws"
	"github.com/twmb/franz-go/pkg/sasl/oauth"
	"github.com/twmb/franz-go/pkg/sasl/plain"
	"github.com/twmb/franz-go/pkg/sasl/scram"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

// Security is how Millrace's clients reach the brokers: TLS and SASL as
// kafka.tls and kafka.sasl say. A runner or a command makes one
// (SecurityFor) and gives it to every client it creates: the consumers,
// the producer, the admin clients, the lag poller, Sarama's. A nil
// *Security is plaintext without authentication: the embedded broker's.
//
// It also watches the clients' connections. The first failure that
// retrying does not fix — credentials refused, a broker certificate not
// trusted or not for its name, a client certificate missing or refused —
// is kept as a *SecurityError naming the broker and the cause, and Failed
// is closed. Being what every franz-go client is made with, it also
// carries the hooks an embedder gives them (AddHooks).
type Security struct {
	tls    *tls.Config
	sasl   config.SASL
	mech   sasl.Mechanism     // franz-go's, nil without SASL
	tokens oauth2.TokenSource // OAUTHBEARER
	seeds  string             // the bootstrap brokers, for errors
	watch  *watch
	hooks  []kgo.Hook // AddHooks'
}

// AddHooks adds franz-go hooks to every client made with s from now on
// (pipeline.Options.KafkaHooks: an embedder's metrics or tracing of the
// clients, test/bench's request counts).
func (s *Security) AddHooks(hooks ...kgo.Hook) { s.hooks = append(s.hooks, hooks...) }

// SecurityFor builds the security of the clients of k. The files were read
// when the config loaded, so it does no I/O; OAUTHBEARER tokens and AWS
// credentials are fetched when a connection first authenticates. It logs
// a warning when kafka.tls.insecure_skip_verify is set, and when TLS or
// SASL is configured but the embedded broker (plaintext) is used.
func SecurityFor(k config.Kafka, log *slog.Logger) (*Security, error) {
	if log == nil {
		log = slog.Default()
	}
	s := &Security{sasl: k.SASL, seeds: strings.Join(k.Addrs(), ",")}
	if k.IsEmbedded() {
		if k.TLS.Enabled || k.SASL.Enabled() {
			log.Warn("kafka.tls and kafka.sasl are not used: the embedded broker speaks plaintext")
		}
		s.sasl = config.SASL{}
		s.watch = newWatch(s, nil)
		return s, nil
	}
	var err error
	if s.tls, err = k.TLS.ClientConfig(); err != nil {
		return nil, err
	}
	if k.TLS.InsecureSkipVerify {
		log.Warn("INSECURE: kafka.tls.insecure_skip_verify is set: broker certificates are not checked, and anyone on the network path can read and change the traffic, credentials included; for tests only",
			"brokers", strings.Join(k.Brokers, ","))
	}
	switch m := k.SASL; m.Mechanism {
	case "":
	case config.MechanismPlain:
		s.mech = plain.Auth{User: m.Username, Pass: m.Password.Reveal()}.AsMechanism()
	case config.MechanismScram256:
		s.mech = scram.Auth{User: m.Username, Pass: m.Password.Reveal()}.AsSha256Mechanism()
	case config.MechanismScram512:
		s.mech = scram.Auth{User: m.Username, Pass: m.Password.Reveal()}.AsSha512Mechanism()
	case config.MechanismOAuth:
		s.tokens = tokenSource(m)
		s.mech = oauth.Oauth(func(context.Context) (oauth.Auth, error) {
			tok, err := s.Token()
			return oauth.Auth{Token: tok}, err
		})
	case config.MechanismAWSMSKIAM:
		s.mech = saslaws.ManagedStreamingIAM((&awsChain{region: m.Region}).auth)
	default:
		return nil, fmt.Errorf("kafka.sasl.mechanism %q is not supported", m.Mechanism)
	}
	s.watch = newWatch(s, k.Secrets())
	return s, nil
}

// Opts are the franz-go options of the security: the TLS dialer, the SASL
// mechanism and the connection watch. Every franz-go client Millrace makes
// has them (clientOpts).
func (s *Security) Opts() []kgo.Opt {
	if s == nil {
		return nil
	}
	var opts []kgo.Opt
	if s.tls != nil {
		// franz-go clones it for every dial and sets ServerName to the
		// broker's host unless server_name is configured.
		opts = append(opts, kgo.DialTLSConfig(s.tls))
	}
	if s.mech != nil {
		opts = append(opts, kgo.SASL(s.mech))
	}
	return append(opts, kgo.WithHooks(append([]kgo.Hook{s.watch}, s.hooks...)...))
}

// clientOpts are the options every franz-go client of Millrace starts
// with: where the brokers are, the client id and the security.
func clientOpts(brokers []string, clientID string, sec *Security) []kgo.Opt {
	return append([]kgo.Opt{kgo.SeedBrokers(brokers...), kgo.ClientID(clientID)}, sec.Opts()...)
}

// TLS is the clients' TLS config, nil for plaintext. Sarama's clients use
// it too.
func (s *Security) TLS() *tls.Config {
	if s == nil {
		return nil
	}
	return s.tls
}

// SASL is the configured SASL, Mechanism "" for none.
func (s *Security) SASL() config.SASL {
	if s == nil {
		return config.SASL{}
	}
	return s.sasl
}

// Token returns an OAUTHBEARER access token: the one fetched last, while
// it is valid for more than another 10 seconds, else a new one from the
// token endpoint (client-credentials grant). Sarama's clients use it too.
func (s *Security) Token() (string, error) {
	if s == nil || s.tokens == nil {
		return "", errors.New("no OAUTHBEARER token endpoint configured")
	}
	tok, err := s.tokens.Token()
	if err != nil {
		return "", fmt.Errorf("OAUTHBEARER token from %s: %w", s.sasl.TokenEndpoint, s.watch.scrub(err))
	}
	return tok.AccessToken, nil
}

// tokenTimeout bounds one token request.
const tokenTimeout = 10 * time.Second

// tokenSource fetches tokens with golang.org/x/oauth2's client-credentials
// flow, which reuses a token until 10 seconds before it expires.
func tokenSource(m config.SASL) oauth2.TokenSource {
	cc := &clientcredentials.Config{
		ClientID:     m.ClientID,
		ClientSecret: m.ClientSecret.Reveal(),
		TokenURL:     m.TokenEndpoint,
		Scopes:       m.Scopes,
	}
	ctx := context.WithValue(context.Background(), oauth2.HTTPClient, &http.Client{Timeout: tokenTimeout})
	return cc.TokenSource(ctx)
}

// awsChain takes AWS_MSK_IAM credentials from the AWS SDK's default chain:
// the environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
// AWS_SESSION_TOKEN), the shared config and credentials files, web
// identity (EKS), the container and instance roles. The chain is loaded
// at the first authentication and caches credentials until they expire.
type awsChain struct {
	region string
	once   sync.Once
	creds  aws.CredentialsProvider
	err    error
}

func (a *awsChain) auth(ctx context.Context) (saslaws.Auth, error) {
	a.once.Do(func() {
		var opts []func(*awsconfig.LoadOptions) error
		if a.region != "" {
			opts = append(opts, awsconfig.WithRegion(a.region))
		}
		cfg, err := awsconfig.LoadDefaultConfig(ctx, opts...)
		a.creds, a.err = cfg.Credentials, err
	})
	if a.err != nil {
		return saslaws.Auth{}, fmt.Errorf("AWS credentials: %w", a.err)
	}
	if a.creds == nil {
		return saslaws.Auth{}, errors.New("AWS credentials: none found in the default chain")
	}
	c, err := a.creds.Retrieve(ctx)
	if err != nil {
		return saslaws.Auth{}, fmt.Errorf("AWS credentials: %w", err)
	}
	return saslaws.Auth{AccessKey: c.AccessKeyID, SecretKey: c.SecretAccessKey, SessionToken: c.SessionToken}, nil
}

// Failed is closed when a client saw a failure retrying does not fix; Err
// tells it. It is nil (never closed) for a nil Security.
func (s *Security) Failed() <-chan struct{} {
	if s == nil {
		return nil
	}
	return s.watch.failed
}

// Err is the first *SecurityError the clients saw, or nil.
func (s *Security) Err() error {
	if s == nil {
		return nil
	}
	if e := s.watch.first(); e != nil {
		return e
	}
	return nil
}

// Explain returns the *SecurityError behind err, a Kafka operation's
// error: the failure the clients saw, or err itself classified; else err.
// The error of an operation that failed for a credential or a certificate
// then names the broker and the cause.
func (s *Security) Explain(err error) error {
	if err == nil || s == nil {
		return err
	}
	if e := s.watch.first(); e != nil {
		return e
	}
	var se *SecurityError
	if errors.As(err, &se) {
		return err
	}
	// The operation failed with it: even a suspect failure is the cause.
	if c, ok := classify(err, s.sasl.Mechanism, s.tls != nil, true); ok {
		return &SecurityError{Broker: s.seeds, Cause: c.cause, Hint: c.hint, Err: s.watch.scrub(err)}
	}
	return err
}

// CancelOnFailure returns a context that is also cancelled when a client
// of s sees a failure of TLS or SASL, so that an operation retrying
// against a broker that refuses it ends at once; Err then tells why.
func (s *Security) CancelOnFailure(ctx context.Context) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(ctx)
	go func() {
		select {
		case <-ctx.Done():
		case <-s.Failed():
			cancel()
		}
	}()
	return ctx, cancel
}
