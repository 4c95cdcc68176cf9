package source_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/pubsub/tests"
	"github.com/millrace-dev/millrace/pipeline/engine"
	"github.com/millrace-dev/millrace/pipeline/kafka"
	"github.com/millrace-dev/millrace/pipeline/kafka/watermillkafka"
	"github.com/millrace-dev/millrace/pipeline/replay/source"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

var brokerAddr string

func TestMain(m *testing.M) {
	emb, err := kafka.StartEmbedded("127.0.0.1:0", "", 3)
	if err != nil {
		fmt.Fprintln(os.Stderr, "start embedded broker:", err)
		os.Exit(1)
	}
	brokerAddr = emb.Addr()
	code := m.Run()
	emb.Close()
	os.Exit(code)
}

const clientID = "source-test"

// follower is the subscriber in follow mode, with the topic creation the
// suite expects of an adapter whose topics are not auto-created.
type follower struct {
	*source.Subscriber
}

func (f follower) SubscribeInitialize(topic string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return kafka.EnsureTopics(ctx, []string{brokerAddr}, clientID, 3, -1, topic)
}

func pubSub(window int, keyed bool) tests.PubSubConstructor {
	return func(t *testing.T) (message.Publisher, message.Subscriber) {
		m := watermillkafka.Marshaler{KeepUUID: true}
		pub, err := watermillkafka.NewPublisher([]string{brokerAddr}, clientID, m, watermill.NopLogger{})
		if err != nil {
			t.Fatal(err)
		}
		// A short drain: several suite tests close subscribers holding
		// messages nobody will ack, and each close waits the drain out.
		sub, err := source.New(source.Config{
			Brokers: []string{brokerAddr}, ClientID: clientID, Follow: true,
			Marshaler: m, Window: window, DrainTimeout: time.Second,
		})
		if err != nil {
			t.Fatal(err)
		}
		var p message.Publisher = pub
		if keyed {
			p = keyedPublisher{pub}
		}
		return p, follower{sub}
	}
}

// keyedPublisher sets each message's payload as its record key.
type keyedPublisher struct{ message.Publisher }

func (p keyedPublisher) Publish(topic string, msgs ...*message.Message) error {
	for _, msg := range msgs {
		msg.Metadata.Set(engine.MetaKey, string(msg.Payload))
	}
	return p.Publisher.Publish(topic, msgs...)
}

// features are honest for follow mode: no consumer groups, every new
// subscriber reads from the log start, keyless messages spread over
// partitions read concurrently (so no global order).
func features() tests.Features {
	return tests.Features{
		ConsumerGroups:                      false,
		ExactlyOnceDelivery:                 false,
		GuaranteedOrder:                     false,
		GuaranteedOrderWithSingleSubscriber: false,
		Persistent:                          true,
		NewSubscriberReceivesOldMessages:    true,
		ContextPreserved:                    false,
		ForceShort:                          os.Getenv("MILLRACE_TEST_FULL") != "1",
	}
}

// Watermill's universal Pub/Sub tests, over the subscriber in follow mode,
// one message in flight per partition and with a window.
func TestUniversalSuite(t *testing.T) {
	for _, window := range []int{1, 16} {
		t.Run("window"+strconv.Itoa(window), func(t *testing.T) {
			tests.TestPubSub(t, features(), pubSub(window, false), nil)
		})
	}
}

// With keyed messages, the order per key holds even with a window.
func TestKeyedOrder(t *testing.T) {
	f := features()
	f.GuaranteedOrder = true
	f.GuaranteedOrderWithSingleSubscriber = true
	for _, test := range []func(*testing.T, tests.TestContext, tests.PubSubConstructor){tests.TestPublishSubscribeInOrder, tests.TestNoAck} {
		id := tests.NewTestID()
		t.Run(string(id), func(t *testing.T) {
			test(t, tests.TestContext{TestID: id, Features: f}, pubSub(16, true))
		})
	}
}

// produce writes n records per partition, keyed k0..k4, values
// "p/offset".
func produce(t *testing.T, topic string, partitions int32, n int) {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokerAddr), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	if _, err := adm.CreateTopic(t.Context(), partitions, 1, nil, topic); err != nil {
		t.Fatal(err)
	}
	var recs []*kgo.Record
	for p := range partitions {
		for i := range n {
			recs = append(recs, &kgo.Record{Topic: topic, Partition: p, Key: []byte("k" + strconv.Itoa(i%5)), Value: fmt.Appendf(nil, "%d/%d", p, i)})
		}
	}
	if err := cl.ProduceSync(t.Context(), recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
}

func topicName(t *testing.T) string {
	return fmt.Sprintf("source-%d-%s", rand.IntN(1_000_000), t.Name())
}

type got struct {
	mu   sync.Mutex
	seen map[string]int
}

func (g *got) add(v string) {
	g.mu.Lock()
	g.seen[v]++
	g.mu.Unlock()
}

// A bounded read hands out exactly the records of its ranges, in key order
// per partition, survives nacks, never exceeds its window, and closes Done
// when everything was acked.
func TestBoundedRanges(t *testing.T) {
	topic := topicName(t)
	produce(t, topic, 3, 100)
	ranges := []source.Range{{Partition: 0, Start: 10, End: 50}, {Partition: 1, Start: 0, End: 100}, {Partition: 2, Start: 40, End: 40}}
	const window = 8
	sub, err := source.New(source.Config{
		Brokers: []string{brokerAddr}, Ranges: map[string][]source.Range{topic: ranges},
		Window: window, NackDelay: time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	msgs, err := sub.Subscribe(ctx, topic)
	if err != nil {
		t.Fatal(err)
	}
	g := &got{seen: map[string]int{}}
	var inflight, peak atomic.Int64
	var keyMu sync.Mutex
	keys := map[string]bool{}
	lastByKey := map[string]int{}
	var wg sync.WaitGroup
	go func() {
		for msg := range msgs {
			n := inflight.Add(1)
			if n > peak.Load() {
				peak.Store(n)
			}
			part := msg.Metadata.Get(engine.MetaPartition)
			k := part + "/" + msg.Metadata.Get(engine.MetaKey)
			off, _ := strconv.Atoi(msg.Metadata.Get(engine.MetaOffset))
			keyMu.Lock()
			if keys[k] {
				t.Errorf("two messages with key %s in flight", k)
			}
			keys[k] = true
			if off < lastByKey[k] {
				t.Errorf("key %s: offset %d after %d", k, off, lastByKey[k])
			}
			lastByKey[k] = off
			keyMu.Unlock()
			wg.Go(func() {
				time.Sleep(time.Duration(rand.IntN(3)) * time.Millisecond)
				keyMu.Lock()
				keys[k] = false
				keyMu.Unlock()
				inflight.Add(-1)
				if rand.IntN(10) == 0 {
					msg.Nack()
					return
				}
				g.add(string(msg.Payload))
				msg.Ack()
			})
		}
	}()
	select {
	case <-sub.Done():
	case <-time.After(30 * time.Second):
		t.Fatalf("not done; progress %+v", sub.Progress())
	}
	wg.Wait()
	want := map[string]bool{}
	for i := 10; i < 50; i++ {
		want[fmt.Sprintf("0/%d", i)] = true
	}
	for i := range 100 {
		want[fmt.Sprintf("1/%d", i)] = true
	}
	g.mu.Lock()
	for v, n := range g.seen {
		if !want[v] {
			t.Errorf("record %s outside the ranges", v)
		}
		if n != 1 {
			t.Errorf("record %s acked %d times", v, n)
		}
	}
	if len(g.seen) != len(want) {
		t.Errorf("got %d records, want %d", len(g.seen), len(want))
	}
	g.mu.Unlock()
	if peak.Load() > 2*window {
		t.Errorf("peak in flight %d over two partitions with window %d", peak.Load(), window)
	}
	for _, p := range sub.Progress() {
		if !p.Complete || p.Next != p.End {
			t.Errorf("partition %d: %+v", p.Partition, p)
		}
	}
}

// Stopping with records unacked leaves Next at the end of the acked prefix;
// a new read from there gets the rest, and never goes past the end.
func TestStopAndResume(t *testing.T) {
	topic := topicName(t)
	produce(t, topic, 1, 50)
	read := func(start int64, ackUpTo int, hold bool) ([]int, source.Progress) {
		sub, err := source.New(source.Config{
			Brokers: []string{brokerAddr}, Window: 4, DrainTimeout: 200 * time.Millisecond,
			Ranges: map[string][]source.Range{topic: {{Partition: 0, Start: start, End: 40}}},
		})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(t.Context())
		msgs, err := sub.Subscribe(ctx, topic)
		if err != nil {
			t.Fatal(err)
		}
		var offs []int
		for msg := range msgs {
			off, _ := strconv.Atoi(msg.Metadata.Get(engine.MetaOffset))
			if hold && off >= ackUpTo {
				// Unacked: with a window of 4 the next three still come.
				if off == ackUpTo+3 {
					cancel()
				}
				continue
			}
			offs = append(offs, off)
			msg.Ack()
			if !hold && off == 39 {
				<-sub.Done()
				cancel()
			}
		}
		cancel()
		_ = sub.Close()
		return offs, sub.Progress()[0]
	}
	_, p := read(5, 20, true)
	if p.Next != 20 || p.Complete {
		t.Fatalf("after stopping at 20: %+v", p)
	}
	offs, p := read(p.Next, 0, false)
	if len(offs) != 20 || offs[0] != 20 || offs[len(offs)-1] != 39 {
		t.Errorf("resumed read: %v", offs)
	}
	if !p.Complete || p.Next != 40 {
		t.Errorf("after resume: %+v", p)
	}
}

// Skipped records are not handed out but count as done.
func TestSkip(t *testing.T) {
	topic := topicName(t)
	produce(t, topic, 1, 20)
	sub, err := source.New(source.Config{
		Brokers: []string{brokerAddr},
		Ranges:  map[string][]source.Range{topic: {{Partition: 0, Start: 0, End: 20}}},
		Skip:    func(r *kgo.Record) bool { return r.Offset%2 == 1 },
	})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	msgs, err := sub.Subscribe(t.Context(), topic)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for n < 10 {
		select {
		case msg := <-msgs:
			if off, _ := strconv.Atoi(msg.Metadata.Get(engine.MetaOffset)); off%2 == 1 {
				t.Errorf("skipped offset %d handed out", off)
			}
			n++
			msg.Ack()
		case <-time.After(20 * time.Second):
			t.Fatal("timed out")
		}
	}
	select {
	case <-sub.Done():
	case <-time.After(20 * time.Second):
		t.Fatalf("not done: %+v", sub.Progress())
	}
	if p := sub.Progress()[0]; p.Skipped != 10 || p.Acked != 10 || p.Next != 20 {
		t.Errorf("progress %+v", p)
	}
}
