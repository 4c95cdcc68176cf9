// Package pubsub runs Watermill's universal Pub/Sub test suite
// (github.com/ThreeDotsLabs/watermill/pubsub/tests) against the Kafka
// publishers and subscribers pipelines use, configured as the pipeline
// runner configures them: Millrace's own (pipeline/kafka's
// ConcurrentSubscriber and BatchPublisher) and Watermill's
// Sarama adapter (pipeline/kafka/watermillkafka's NewPublisher and
// NewSubscriber).
//
// Brokers come from MILLRACE_TEST_BROKERS ("name=host:port,..."); the suite
// runs once per broker, as subtests named after the brokers. Without the
// variable the tests start an in-process embedded broker of their own. A
// broker that is named but cannot be reached fails the tests.
//
// The reconnect test restarts the broker named "kafka" with the command in
// MILLRACE_KAFKA_RESTART (split on spaces, for example
// "test/kafka/kafka.sh restart"); it is skipped for the other brokers. It
// restarts that broker twice: do not point it at a broker other tests are
// using at the same time.
//
// The suite runs in short mode (fewer messages and subscribers) unless
// MILLRACE_TEST_FULL=1. Either mode takes under a minute per broker on two
// cores with -race, plus 30 to 90 seconds for the reconnect test (two Kafka
// restarts); the default -timeout of 10m is enough for two brokers. A slow
// or loaded machine can take several times longer: with more brokers, or in
// full mode, pass -timeout 30m.
package pubsub

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/pubsub/tests"
	"github.com/millrace-dev/millrace/pipeline/engine"
	"github.com/millrace-dev/millrace/pipeline/kafka"
	"github.com/millrace-dev/millrace/pipeline/kafka/watermillkafka"
)

const (
	clientID = "millrace-pubsub-test"
	// partitions and replication are the runner's defaults for the topics
	// it creates (kafka.topics.partitions, kafka.topics.replication_factor).
	partitions  = 3
	replication = -1
	// shutdownTimeout is runner.shutdown_timeout: how long closing a
	// subscriber waits for the messages it handed out to be acked or nacked.
	// The runner's default is 30s; the suite needs less than its own 15s
	// timeout, because TestMessageCtx closes the subscriber while it holds
	// a message it never acks and expects the message's context to be
	// cancelled within 15s.
	shutdownTimeout = 5 * time.Second
	// restartBroker is the only broker the reconnect test restarts.
	restartBroker = "kafka"
)

// broker is one broker the tests run against.
type broker struct {
	name string
	addr string

	once    sync.Once
	pingErr error
}

var testBrokers []*broker

func TestMain(m *testing.M) {
	os.Exit(runMain(m))
}

func runMain(m *testing.M) int {
	spec := os.Getenv("MILLRACE_TEST_BROKERS")
	if spec == "" {
		emb, err := kafka.StartEmbedded("127.0.0.1:0", "", partitions)
		if err != nil {
			fmt.Fprintln(os.Stderr, "start embedded broker:", err)
			return 1
		}
		defer emb.Close()
		spec = "embedded=" + emb.Addr()
	}
	for part := range strings.SplitSeq(spec, ",") {
		name, addr, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok || name == "" || addr == "" {
			fmt.Fprintf(os.Stderr, "MILLRACE_TEST_BROKERS: %q is not name=host:port\n", part)
			return 1
		}
		testBrokers = append(testBrokers, &broker{name: name, addr: addr})
	}
	return m.Run()
}

// eachBroker runs f as a subtest per broker. A broker that does not answer
// fails its subtest.
func eachBroker(t *testing.T, f func(t *testing.T, b *broker)) {
	t.Helper()
	for _, b := range testBrokers {
		t.Run(b.name, func(t *testing.T) {
			b.once.Do(func() { b.pingErr = ping(b.addr) })
			if b.pingErr != nil {
				t.Fatalf("broker %s at %s cannot be reached: %v", b.name, b.addr, b.pingErr)
			}
			f(t, b)
		})
	}
}

// ping checks that a broker answers a metadata request, trying for up to
// 20 seconds in case it is still starting.
func ping(addr string) error {
	cl, err := kafka.NewClient([]string{addr}, clientID, nil)
	if err != nil {
		return err
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for {
		err := cl.Ping(ctx)
		if err == nil || ctx.Err() != nil {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// features are the properties the Kafka publisher and subscriber have as
// the runner configures them. The suite's own messages have no key, so the
// publisher spreads them over the partitions at random.
func features(b *broker) tests.Features {
	f := tests.Features{
		ConsumerGroups: true,
		// At-least-once: a message acked but not yet committed (offsets are
		// committed every second) is delivered again after a rebalance.
		ExactlyOnceDelivery: false,
		// Keyless messages land on random partitions, and partitions are
		// consumed concurrently, even by a single subscriber; order holds
		// per key only (see TestKeyedOrder).
		GuaranteedOrder:                     false,
		GuaranteedOrderWithSingleSubscriber: false,
		Persistent:                          true,
		// A subscriber made by the suite's constructor joins the consumer
		// group of its test, as another instance of the same pipeline
		// would: it shares the group's committed offsets and does not read
		// what the group already consumed. A new group, as a new pipeline
		// has, does read old messages: see TestNewGroupReadsOldMessages.
		NewSubscriberReceivesOldMessages: false,
		// Messages are marshaled into Kafka records; a published message's
		// context does not travel with it.
		ContextPreserved: false,
		ForceShort:       os.Getenv("MILLRACE_TEST_FULL") != "1",
	}
	// RestartServiceCommand stays empty, so the suite skips its
	// TestReconnect: TestReconnect in reconnect_test.go runs a fixed copy
	// of it with restartCommand(b).
	return f
}

// restartCommand is the command that restarts broker b, if any. Only the
// broker named "kafka" has one; an embedded broker (kfake, in this process
// or in a pipeline-runner broker process) cannot be restarted by a command
// and keeping its data, so the reconnect test is skipped for it.
func restartCommand(b *broker) []string {
	if b.name != restartBroker {
		return nil
	}
	return strings.Fields(os.Getenv("MILLRACE_KAFKA_RESTART"))
}

// adapters are the Kafka adapters a pipeline can use: Millrace's own in
// each ordering mode, and Watermill's Sarama adapter.
var adapters = []struct {
	name     string
	millrace bool
	ordering kafka.Ordering
}{
	{"millrace-key", true, kafka.OrderKey},
	{"millrace-partition", true, kafka.OrderPartition},
	{"millrace-none", true, kafka.OrderNone},
	{"watermill-kafka", false, 0},
}

// eachAdapter runs f per broker and adapter.
func eachAdapter(t *testing.T, f func(t *testing.T, b *broker, c constructors)) {
	eachBroker(t, func(t *testing.T, b *broker) {
		for _, a := range adapters {
			t.Run(a.name, func(t *testing.T) {
				f(t, b, constructors{brokers: []string{b.addr}, millrace: a.millrace, ordering: a.ordering})
			})
		}
	})
}

// TestPubSub runs the whole suite per broker and adapter.
func TestPubSub(t *testing.T) {
	eachAdapter(t, func(t *testing.T, b *broker, c constructors) {
		tests.TestPubSub(t, features(b), c.testGroup, c.group)
	})
}

// TestNewGroupReadsOldMessages checks that a subscriber in a new consumer
// group, as a newly added pipeline with start: oldest has, reads the
// messages that were published, and consumed by other groups, before it
// joined.
func TestNewGroupReadsOldMessages(t *testing.T) {
	eachAdapter(t, func(t *testing.T, b *broker, c constructors) {
		f := features(b)
		f.NewSubscriberReceivesOldMessages = true
		runSuiteTest(t, f, tests.TestNewSubscriberReceivesOldMessages, c.newGroup)
	})
}

// TestKeyedOrder checks the order Kafka does guarantee: records with the
// same key go to the same partition, and a consumer group hands out the
// records of a partition one at a time, in order. The publisher is the
// runner's; the messages carry a key, as pipeline records do.
func TestKeyedOrder(t *testing.T) {
	eachAdapter(t, func(t *testing.T, b *broker, c constructors) {
		if c.millrace && c.ordering == kafka.OrderNone {
			t.Skip("ordering none promises no order")
		}
		c.keyByPayload = true
		f := features(b)
		f.GuaranteedOrder = true
		t.Run("SingleSubscriber", func(t *testing.T) {
			f := f
			f.GuaranteedOrderWithSingleSubscriber = true
			runSuiteTest(t, f, tests.TestPublishSubscribeInOrder, c.testGroup)
		})
		t.Run("TenSubscribers", func(t *testing.T) {
			runSuiteTest(t, f, tests.TestPublishSubscribeInOrder, c.testGroup)
		})
		t.Run("NoAck", func(t *testing.T) {
			runSuiteTest(t, f, tests.TestNoAck, c.testGroup)
		})
	})
}

// runSuiteTest runs one test of the suite as tests.TestPubSub does.
func runSuiteTest(t *testing.T, f tests.Features, test func(*testing.T, tests.TestContext, tests.PubSubConstructor), c tests.PubSubConstructor) {
	t.Helper()
	id := tests.NewTestID()
	t.Run(string(id), func(t *testing.T) {
		test(t, tests.TestContext{TestID: id, Features: f}, c)
	})
}

// constructors build publishers and subscribers as the runner does.
type constructors struct {
	brokers []string
	// millrace selects Millrace's adapter (ConcurrentSubscriber and
	// BatchPublisher) with ordering; else Watermill's Sarama adapter.
	millrace bool
	ordering kafka.Ordering
	// keyByPayload makes every published message carry its payload as the
	// record key.
	keyByPayload bool
}

// testGroup returns a publisher and a subscriber in the consumer group of
// the running test: all subscribers one test creates are instances of the
// same pipeline.
func (c constructors) testGroup(t *testing.T) (message.Publisher, message.Subscriber) {
	return c.group(t, "millrace-pubsub-"+t.Name())
}

// newGroup returns a publisher and a subscriber in a consumer group of its
// own, as a newly added pipeline has.
func (c constructors) newGroup(t *testing.T) (message.Publisher, message.Subscriber) {
	return c.group(t, "millrace-pubsub-"+watermill.NewUUID())
}

// group returns a publisher and a subscriber in the given consumer group.
// KeepUUID is the only change to the runner's configuration: the suite
// identifies messages by their UUIDs.
func (c constructors) group(t *testing.T, group string) (message.Publisher, message.Subscriber) {
	t.Helper()
	pub, sub, err := c.pubSub(group)
	if err != nil {
		t.Fatal(err)
	}
	var p message.Publisher = pub
	if c.keyByPayload {
		p = keyedPublisher{pub}
	}
	return p, topicCreatingSubscriber{Subscriber: sub, brokers: c.brokers}
}

func (c constructors) pubSub(group string) (message.Publisher, message.Subscriber, error) {
	if c.millrace {
		pub, err := kafka.NewBatchPublisher(kafka.BatchPublisherConfig{Brokers: c.brokers, ClientID: clientID, KeepUUID: true})
		if err != nil {
			return nil, nil, err
		}
		sub, err := kafka.NewConcurrentSubscriber(kafka.ConcurrentSubscriberConfig{
			Brokers:         c.brokers,
			ClientID:        clientID,
			Group:           group,
			Start:           "oldest",
			Ordering:        c.ordering,
			ShutdownTimeout: shutdownTimeout,
			KeepUUID:        true,
			Logger:          slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
		})
		if err != nil {
			_ = pub.Close()
			return nil, nil, err
		}
		return pub, sub, nil
	}
	log := logger()
	m := watermillkafka.Marshaler{KeepUUID: true}
	pub, err := watermillkafka.NewPublisher(c.brokers, clientID, nil, m, log)
	if err != nil {
		return nil, nil, err
	}
	sub, err := watermillkafka.NewSubscriber(watermillkafka.SubscriberOptions{
		Brokers:         c.brokers,
		ClientID:        clientID,
		Group:           group,
		Start:           "oldest",
		ShutdownTimeout: shutdownTimeout,
		Marshaler:       m,
	}, log)
	if err != nil {
		_ = pub.Close()
		return nil, nil, err
	}
	return pub, sub, nil
}

// topicCreatingSubscriber implements message.SubscribeInitializer, which the
// suite calls for every topic before using it, by creating the topic as the
// runner creates its topics before subscribing. Publishers and subscribers
// never create topics themselves (auto-creation is off).
type topicCreatingSubscriber struct {
	message.Subscriber
	brokers []string
}

func (s topicCreatingSubscriber) SubscribeInitialize(topic string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return kafka.EnsureTopics(ctx, s.brokers, clientID, nil, partitions, replication, topic)
}

// keyedPublisher sets each message's payload as its record key.
type keyedPublisher struct {
	message.Publisher
}

func (p keyedPublisher) Publish(topic string, msgs ...*message.Message) error {
	for _, msg := range msgs {
		msg.Metadata.Set(engine.MetaKey, string(msg.Payload))
	}
	return p.Publisher.Publish(topic, msgs...)
}

// logger shows warnings and errors of the publishers and subscribers.
func logger() watermill.LoggerAdapter {
	h := slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})
	return watermill.NewSlogLogger(slog.New(h))
}
