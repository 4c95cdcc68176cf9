package watermillkafka

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/IBM/sarama"
	"github.com/millrace-dev/millrace/pipeline/config"
	"github.com/millrace-dev/millrace/pipeline/kafka"
	"github.com/twmb/franz-go/pkg/sasl"
	"github.com/twmb/franz-go/pkg/sasl/scram"
)

// secure applies sec to a Sarama config: Net.TLS with the clients' one TLS
// config, Net.SASL with the mechanism. It is the one place Sarama's
// security settings are made. SCRAM runs franz-go's SCRAM client (Sarama
// has none of its own); OAUTHBEARER takes the tokens of sec, shared with
// the runner's franz-go clients. AWS_MSK_IAM is refused when the config
// loads: Sarama has no such mechanism.
func secure(c *sarama.Config, sec *kafka.Security) error {
	if t := sec.TLS(); t != nil {
		c.Net.TLS.Enable = true
		c.Net.TLS.Config = t.Clone()
	}
	s := sec.SASL()
	if !s.Enabled() {
		return nil
	}
	c.Net.SASL.Enable = true
	c.Net.SASL.Handshake = true
	c.Net.SASL.Version = sarama.SASLHandshakeV1
	switch s.Mechanism {
	case config.MechanismPlain:
		c.Net.SASL.Mechanism = sarama.SASLTypePlaintext
	case config.MechanismScram256:
		c.Net.SASL.Mechanism = sarama.SASLTypeSCRAMSHA256
		c.Net.SASL.SCRAMClientGeneratorFunc = func() sarama.SCRAMClient { return &scramClient{sha512: false} }
	case config.MechanismScram512:
		c.Net.SASL.Mechanism = sarama.SASLTypeSCRAMSHA512
		c.Net.SASL.SCRAMClientGeneratorFunc = func() sarama.SCRAMClient { return &scramClient{sha512: true} }
	case config.MechanismOAuth:
		c.Net.SASL.Mechanism = sarama.SASLTypeOAuth
		c.Net.SASL.TokenProvider = tokenProvider{sec}
		return nil
	default:
		return fmt.Errorf("kafka.sasl.mechanism %s is not available with kafka.adapter %s", s.Mechanism, config.AdapterWatermillKafka)
	}
	c.Net.SASL.User = s.Username
	c.Net.SASL.Password = s.Password.Reveal()
	return nil
}

// tokenProvider hands Sarama the OAUTHBEARER tokens of a Security.
type tokenProvider struct{ sec *kafka.Security }

func (p tokenProvider) Token() (*sarama.AccessToken, error) {
	tok, err := p.sec.Token()
	if err != nil {
		return nil, err
	}
	return &sarama.AccessToken{Token: tok}, nil
}

// scramClient is Sarama's SCRAMClient over franz-go's SCRAM session:
// Sarama calls Begin, then Step("") for the client's first message, then
// Step with each server message until Done.
type scramClient struct {
	sha512  bool
	auth    scram.Auth
	session sasl.Session
	done    bool
}

func (c *scramClient) Begin(user, password, authzID string) error {
	c.auth = scram.Auth{User: user, Pass: password, Zid: authzID}
	return nil
}

func (c *scramClient) Step(challenge string) (string, error) {
	if c.session == nil {
		mech := c.auth.AsSha256Mechanism()
		if c.sha512 {
			mech = c.auth.AsSha512Mechanism()
		}
		session, first, err := mech.Authenticate(context.Background(), "")
		if err != nil {
			return "", err
		}
		c.session = session
		return string(first), nil
	}
	if c.done {
		return "", errors.New("SCRAM exchange already done")
	}
	done, msg, err := c.session.Challenge([]byte(challenge))
	if err != nil {
		return "", err
	}
	c.done = done
	return string(msg), nil
}

func (c *scramClient) Done() bool { return c.done }

// Explain returns a *kafka.SecurityError for a Sarama error that is a
// failure of TLS or SASL, naming the brokers (Sarama's errors do not say
// which one failed); else err.
func Explain(err error, brokers []string, sec *kafka.Security) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, sarama.ErrSASLAuthenticationFailed) {
		return &kafka.SecurityError{Broker: strings.Join(brokers, ","), Cause: "SASL " + sec.SASL().Mechanism + " authentication failed: the broker refused the credentials",
			Hint: "check kafka.sasl.username and password", Err: err}
	}
	return sec.Explain(err)
}
