package watermillkafka

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/IBM/sarama"
	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/millrace-dev/millrace/pipeline/config"
	"github.com/millrace-dev/millrace/pipeline/kafka"
	"github.com/millrace-dev/millrace/pipeline/kafka/securitytest"
)

func security(t *testing.T, brokers []string, tc config.TLS, sc config.SASL) *kafka.Security {
	t.Helper()
	sec, err := kafka.SecurityFor(config.Kafka{Brokers: brokers, ClientID: "millrace-test", TLS: tc, SASL: sc}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	return sec
}

// Sarama's settings come from the same Security as franz-go's: the one
// TLS config, the mechanism, SCRAM's client and OAUTHBEARER's tokens; both
// configs pass Sarama's own validation. AWS_MSK_IAM is refused.
func TestSaramaSettings(t *testing.T) {
	ca := securitytest.NewCA(t, "test CA")
	tc := config.TLS{Enabled: true, CA: ca.PEM, ServerName: "kafka.internal", MinVersion: "1.3"}
	for _, c := range []struct {
		sasl config.SASL
		want sarama.SASLMechanism
	}{
		{config.SASL{}, ""},
		{config.SASL{Mechanism: config.MechanismPlain, Username: "u", Password: config.NewSecret("p")}, sarama.SASLTypePlaintext},
		{config.SASL{Mechanism: config.MechanismScram256, Username: "u", Password: config.NewSecret("p")}, sarama.SASLTypeSCRAMSHA256},
		{config.SASL{Mechanism: config.MechanismScram512, Username: "u", Password: config.NewSecret("p")}, sarama.SASLTypeSCRAMSHA512},
		{config.SASL{Mechanism: config.MechanismOAuth, TokenEndpoint: "https://h/t", ClientID: "c", ClientSecret: config.NewSecret("s")}, sarama.SASLTypeOAuth},
	} {
		sec := security(t, []string{"b:9093"}, tc, c.sasl)
		sub, err := SubscriberConfig("millrace", "oldest", sec)
		if err != nil {
			t.Fatal(err)
		}
		pub, err := PublisherConfig("millrace", sec)
		if err != nil {
			t.Fatal(err)
		}
		for _, sc := range []*sarama.Config{sub, pub} {
			if err := sc.Validate(); err != nil {
				t.Errorf("%s: invalid Sarama config: %v", c.want, err)
			}
			n := sc.Net
			if !n.TLS.Enable || n.TLS.Config.ServerName != "kafka.internal" || !n.TLS.Config.RootCAs.Equal(ca.Pool()) || n.TLS.Config.MinVersion != sec.TLS().MinVersion {
				t.Errorf("%s: Net.TLS %+v", c.want, n.TLS)
			}
			if n.SASL.Enable != (c.want != "") || n.SASL.Mechanism != c.want && c.want != "" {
				t.Errorf("%s: Net.SASL enabled %v, mechanism %q", c.want, n.SASL.Enable, n.SASL.Mechanism)
			}
			if strings.HasPrefix(string(c.want), "SCRAM") && n.SASL.SCRAMClientGeneratorFunc == nil {
				t.Errorf("%s: no SCRAM client", c.want)
			}
			if c.want == sarama.SASLTypeOAuth && n.SASL.TokenProvider == nil {
				t.Error("OAUTHBEARER: no token provider")
			}
		}
	}
	sec := security(t, []string{"b:9098"}, config.TLS{Enabled: true}, config.SASL{Mechanism: config.MechanismAWSMSKIAM})
	if _, err := PublisherConfig("millrace", sec); err == nil || !strings.Contains(err.Error(), "AWS_MSK_IAM is not available") {
		t.Errorf("AWS_MSK_IAM: %v", err)
	}
}

// Sarama's publisher and subscriber over TLS with SCRAM-SHA-512 (franz-go's
// SCRAM client under Sarama's exchange) against kfake; a wrong password
// is a *kafka.SecurityError naming the brokers.
func TestSaramaSecured(t *testing.T) {
	cluster := securitytest.StartCluster(t, "s3cret")
	brokers := []string{cluster.Addr}
	tc := config.TLS{Enabled: true, CA: cluster.CA.PEM, MinVersion: "1.2"}
	sec := security(t, brokers, tc, config.SASL{Mechanism: config.MechanismScram512, Username: "alice", Password: config.NewSecret("s3cret")})
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	if err := kafka.EnsureTopics(ctx, brokers, "millrace-test", sec, 1, 1, "secured"); err != nil {
		t.Fatal(err)
	}
	log := watermill.NewSlogLogger(slog.New(slog.DiscardHandler))
	pub, err := NewPublisher(brokers, "millrace-test", sec, Marshaler{}, log)
	if err != nil {
		t.Fatal(err)
	}
	defer pub.Close()
	if err := pub.Publish("secured", message.NewMessage(watermill.NewUUID(), []byte(`{"n":1}`))); err != nil {
		t.Fatal(err)
	}
	sub, err := NewSubscriber(SubscriberOptions{Brokers: brokers, ClientID: "millrace-test", Group: "g", Start: "oldest", ShutdownTimeout: 5 * time.Second, Security: sec}, log)
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	msgs, err := sub.Subscribe(ctx, "secured")
	if err != nil {
		t.Fatal(err)
	}
	select {
	case m := <-msgs:
		if string(m.Payload) != `{"n":1}` {
			t.Errorf("payload %q", m.Payload)
		}
		m.Ack()
	case <-ctx.Done():
		t.Fatal("no message over the secured listener")
	}

	bad := security(t, brokers, tc, config.SASL{Mechanism: config.MechanismScram512, Username: "alice", Password: config.NewSecret("not-the-password-x9")})
	_, err = NewPublisher(brokers, "millrace-test", bad, Marshaler{}, log)
	var se *kafka.SecurityError
	if !errors.As(err, &se) || !strings.Contains(se.Error(), "authentication") || !strings.Contains(se.Error(), brokers[0]) || strings.Contains(err.Error(), "not-the-password-x9") || strings.HasPrefix(err.Error(), "kafka publisher") {
		t.Errorf("wrong password: %v", err)
	}
}
