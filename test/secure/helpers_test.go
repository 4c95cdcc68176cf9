package secure

import (
	"context"
	"crypto/tls"
	"fmt"
	"math/rand/v2"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl"
	"github.com/twmb/franz-go/pkg/sasl/plain"
	"github.com/twmb/franz-go/pkg/sasl/scram"
)

var unsafeChars = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// topicName returns a topic name unique to this test run.
func topicName(t *testing.T) string {
	base := unsafeChars.ReplaceAllString(t.Name(), "-")
	return fmt.Sprintf("secure-%s-%06d", strings.ToLower(base), rand.IntN(1_000_000))
}

// mechanism returns the franz-go SASL mechanism of a Kafka mechanism name.
func mechanism(t *testing.T, name, user, pass string) sasl.Mechanism {
	t.Helper()
	switch name {
	case "PLAIN":
		return plain.Auth{User: user, Pass: pass}.AsMechanism()
	case "SCRAM-SHA-256":
		return scram.Auth{User: user, Pass: pass}.AsSha256Mechanism()
	case "SCRAM-SHA-512":
		return scram.Auth{User: user, Pass: pass}.AsSha512Mechanism()
	}
	t.Fatalf("unknown SASL mechanism %q", name)
	return nil
}

func mustTLS(t *testing.T, caFile, certFile, keyFile, serverName string) *tls.Config {
	t.Helper()
	c, err := tlsConfig(caFile, certFile, keyFile, serverName)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// listener is how a client reaches the broker: an address and the options
// that secure the connection.
type listener struct {
	addr string
	opts []kgo.Opt
}

// saslSSL is the SASL_SSL listener with the given mechanism and credentials.
func saslSSL(t *testing.T, e *secureEnv, mech, user, pass string) listener {
	return listener{e.SASLSSL, []kgo.Opt{
		kgo.DialTLSConfig(mustTLS(t, e.CAFile, "", "", "")),
		kgo.SASL(mechanism(t, mech, user, pass)),
	}}
}

// mutualTLS is the SSL listener with the valid client certificate.
func mutualTLS(t *testing.T, e *secureEnv) listener {
	return listener{e.SSL, []kgo.Opt{kgo.DialTLSConfig(mustTLS(t, e.CAFile, e.CertFile, e.KeyFile, ""))}}
}

func (l listener) client(t *testing.T, opts ...kgo.Opt) *kgo.Client {
	t.Helper()
	all := append([]kgo.Opt{kgo.SeedBrokers(l.addr)}, l.opts...)
	cl, err := kgo.NewClient(append(all, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return cl
}

// createTopic creates a one-partition topic through l.
func createTopic(t *testing.T, l listener, topic string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	resp, err := kadm.NewClient(l.client(t)).CreateTopic(ctx, 1, 1, nil, topic)
	if err == nil {
		err = resp.Err
	}
	if err != nil {
		t.Fatalf("create topic %s at %s: %v", topic, l.addr, err)
	}
}

// produce writes records synchronously through l.
func produce(t *testing.T, l listener, recs ...*kgo.Record) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := l.client(t).ProduceSync(ctx, recs...).FirstErr(); err != nil {
		t.Fatalf("produce at %s: %v", l.addr, err)
	}
}

// consume reads n records from the start of topic through l, failing the
// test if fewer arrive within 60s.
func consume(t *testing.T, l listener, topic string, n int) []*kgo.Record {
	t.Helper()
	cl := l.client(t, kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var recs []*kgo.Record
	for len(recs) < n {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("topic %s at %s: want %d record(s), got %d within 60s", topic, l.addr, n, len(recs))
		}
		if err := fs.Err(); err != nil {
			t.Fatalf("consume %s at %s: %v", topic, l.addr, err)
		}
		fs.EachRecord(func(r *kgo.Record) { recs = append(recs, r) })
	}
	return recs
}

// testRecords returns n keyed records with a header, for topic.
func testRecords(topic string, n int) []*kgo.Record {
	recs := make([]*kgo.Record, n)
	for i := range recs {
		recs[i] = &kgo.Record{
			Topic:   topic,
			Key:     fmt.Appendf(nil, "k%d", i),
			Value:   fmt.Appendf(nil, `{"n":%d,"s":"é<&>"}`, i),
			Headers: []kgo.RecordHeader{{Key: "trace", Value: fmt.Appendf(nil, "t-%d", i)}},
		}
	}
	return recs
}

// requireRecords fails unless got holds want's keys, values and headers, in order.
func requireRecords(t *testing.T, got, want []*kgo.Record) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d record(s), want %d", len(got), len(want))
	}
	for i := range want {
		g, w := got[i], want[i]
		if string(g.Key) != string(w.Key) || string(g.Value) != string(w.Value) ||
			len(g.Headers) != len(w.Headers) || (len(w.Headers) > 0 && (g.Headers[0].Key != w.Headers[0].Key ||
			string(g.Headers[0].Value) != string(w.Headers[0].Value))) {
			t.Errorf("record %d: key %q value %q headers %v, want key %q value %q headers %v",
				i, g.Key, g.Value, g.Headers, w.Key, w.Value, w.Headers)
		}
	}
}

// roundTrip creates a topic, produces through l and reads the records back
// through a second client on l.
func roundTrip(t *testing.T, l listener) {
	t.Helper()
	topic := topicName(t)
	createTopic(t, l, topic)
	want := testRecords(topic, 5)
	produce(t, l, want...)
	requireRecords(t, consume(t, l, topic, len(want)), want)
}

// refused connects through l and returns the error of the first request,
// failing the test if the broker accepts the connection.
func refused(t *testing.T, l listener) error {
	t.Helper()
	cl := l.client(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	err := cl.Ping(ctx)
	if err == nil {
		t.Fatalf("%s accepted the connection", l.addr)
	}
	if ctx.Err() != nil {
		t.Fatalf("%s: no answer within 20s (%v), want a refusal", l.addr, err)
	}
	t.Logf("refused as expected: %v", err)
	return err
}
