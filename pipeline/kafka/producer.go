package kafka

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/millrace-dev/millrace/pipeline/engine"
	"github.com/twmb/franz-go/pkg/kgo"
)

// BatchPublisherConfig configures a BatchPublisher.
type BatchPublisherConfig struct {
	Brokers  []string
	ClientID string
	// Linger is how long the producer waits to fill a batch. Zero: batches
	// hold what accumulates while the previous request is in flight. The
	// runner passes kafka.producer.linger (default 1ms, chosen on Apache
	// Kafka by test/bench).
	Linger time.Duration
	// DeliveryTimeout bounds how long Publish waits for a record to be sent,
	// retries included. Default 60s. (franz-go's RecordDeliveryTimeout counts
	// from the record timestamp, which outputs keep from their inputs, so the
	// bound is a context instead.)
	DeliveryTimeout time.Duration
	// MaxMessageBytes is the largest record batch, so the largest record,
	// sent (kafka.producer.max_message_bytes). Default franz-go's 1,000,012.
	MaxMessageBytes int
	// TopicMaxMessageBytes are the max.message.bytes of topics known to
	// take less than MaxMessageBytes (the runner reads its output topics'
	// at start). The brokers refuse a batch larger than its topic takes
	// whole, failing every record in it, so records for such a topic go
	// through a producer of their own whose batches that limit bounds: a
	// record too large for its topic is then refused alone, and a record
	// is never refused for another topic's limit.
	TopicMaxMessageBytes map[string]int
	// KeepUUID writes Watermill message UUIDs in the UUIDHeader header.
	KeepUUID bool
	// Security is TLS and SASL (SecurityFor); nil is plaintext.
	Security   *Security
	ClientOpts []kgo.Opt
}

// BatchPublisher is the producer of a runner: one idempotent, acks=all
// franz-go producer whose concurrent writes are coalesced into produce
// batches (and one more per smaller limit of TopicMaxMessageBytes). The engine hands it records (Produce, asynchronous); as a
// Watermill publisher, Publish returns when every message of the call is
// acknowledged, or with the error of the first that failed, and writes a
// message as the Marshaler does: key, timestamp and destination from
// metadata, every other metadata entry as a header.
type BatchPublisher struct {
	cl *kgo.Client
	// narrow is the producer of each topic of TopicMaxMessageBytes, one
	// per limit; clients is every producer, cl included.
	narrow   map[string]*kgo.Client
	clients  []*kgo.Client
	keepUUID bool
	timeout  time.Duration
	closed   atomic.Bool
	// ctx is the context of every produce; Abort cancels it, failing
	// what is still buffered and unblocking Produce calls that wait for
	// buffer space (a broker that is gone).
	ctx   context.Context
	abort context.CancelFunc
	// calls are the produceCalls of Produce, whose context is ctx.
	calls sync.Pool
}

// NewBatchPublisher connects lazily; it fails only on a bad config.
func NewBatchPublisher(cfg BatchPublisherConfig) (*BatchPublisher, error) {
	if len(cfg.Brokers) == 0 {
		return nil, errors.New("batch publisher: no brokers")
	}
	if cfg.DeliveryTimeout <= 0 {
		cfg.DeliveryTimeout = time.Minute
	}
	opts := append(clientOpts(cfg.Brokers, cfg.ClientID, cfg.Security),
		kgo.RequiredAcks(kgo.AllISRAcks()), // the default, stated: idempotence needs it
		kgo.ProducerLinger(cfg.Linger),
		kgo.AllowAutoTopicCreation(),
	)
	p := &BatchPublisher{keepUUID: cfg.KeepUUID, timeout: cfg.DeliveryTimeout, narrow: map[string]*kgo.Client{}}
	client := func(maxBytes int) (*kgo.Client, error) {
		o := opts
		if maxBytes > 0 {
			o = append(o[:len(o):len(o)], kgo.ProducerBatchMaxBytes(int32(maxBytes)))
		}
		cl, err := kgo.NewClient(append(o, cfg.ClientOpts...)...)
		if err != nil {
			p.closeClients()
			return nil, fmt.Errorf("kafka producer for %v: %w", cfg.Brokers, err)
		}
		p.clients = append(p.clients, cl)
		return cl, nil
	}
	var err error
	if p.cl, err = client(cfg.MaxMessageBytes); err != nil {
		return nil, err
	}
	widest := cmp.Or(cfg.MaxMessageBytes, defaultBatchMaxBytes)
	byLimit := map[int]*kgo.Client{}
	for _, topic := range slices.Sorted(maps.Keys(cfg.TopicMaxMessageBytes)) {
		n := cfg.TopicMaxMessageBytes[topic]
		if n <= 0 || n >= widest {
			continue
		}
		if byLimit[n] == nil {
			if byLimit[n], err = client(n); err != nil {
				return nil, err
			}
		}
		p.narrow[topic] = byLimit[n]
	}
	p.ctx, p.abort = context.WithCancel(context.Background())
	p.calls.New = func() any { return &produceCall{Context: p.ctx, pool: &p.calls} }
	return p, nil
}

// defaultBatchMaxBytes is franz-go's ProducerBatchMaxBytes default.
const defaultBatchMaxBytes = 1_000_012

// clientFor is the producer of a topic's records.
func (p *BatchPublisher) clientFor(topic string) *kgo.Client {
	if cl, ok := p.narrow[topic]; ok {
		return cl
	}
	return p.cl
}

func (p *BatchPublisher) closeClients() {
	for _, cl := range p.clients {
		cl.Close()
	}
}

// produceCall collects the outcome of the records of one call. It is
// their Context too (the produce's context, which it embeds), so that one
// promise function serves every record: a promise closure and a Kafka
// record allocated per record were a good part of a record's garbage.
// Produce's calls are recycled once done returned (franz-go is done with
// a record when its promise has been called); their Context, which a
// franz-go goroutine may still read then, never changes.
type produceCall struct {
	context.Context
	left  atomic.Int32
	mu    sync.Mutex
	first error
	done  func(error)
	// The records of a call of one, the usual case, and their headers
	// when they are few: allocated with the call.
	one     [1]kgo.Record
	headers [4]kgo.RecordHeader
	// pool takes the call back once done; nil: not recycled.
	pool *sync.Pool
}

// recorded is the promise of every record a BatchPublisher produces.
func recorded(r *kgo.Record, err error) { r.Context.(*produceCall).record(err) }

func (c *produceCall) record(err error) {
	if err != nil {
		err = asRejected(err)
		c.mu.Lock()
		if c.first == nil {
			c.first = err
		}
		c.mu.Unlock()
	}
	if c.left.Add(-1) == 0 {
		c.done(c.first)
		if c.pool != nil {
			c.first, c.done = nil, nil
			c.one[0] = kgo.Record{}
			clear(c.headers[:])
			c.pool.Put(c)
		}
	}
}

// produce writes recs under ctx; done is called once, from the producer's
// goroutine, when every one is acknowledged (nil) or one failed (its
// error).
func (p *BatchPublisher) produce(ctx context.Context, recs []*engine.Record, done func(error)) {
	if p.closed.Load() {
		done(errors.New("publisher closed"))
		return
	}
	if len(recs) == 0 {
		done(nil)
		return
	}
	var c *produceCall
	if ctx == p.ctx {
		c = p.calls.Get().(*produceCall)
	} else {
		c = &produceCall{Context: ctx}
	}
	c.done = done
	c.left.Store(int32(len(recs)))
	krs := c.one[:]
	if len(recs) > 1 {
		krs = make([]kgo.Record, len(recs))
	}
	toKafka(krs, c.headers[:], recs)
	for i := range krs {
		krs[i].Context = c
		p.clientFor(krs[i].Topic).Produce(ctx, &krs[i], recorded)
	}
}

// Produce writes every record to its topic and returns at once; done is
// called once, from the producer's goroutine, when every record is
// acknowledged (nil) or one failed (its error). It must not block. Without
// a wait per call, many records' outputs share produce batches and no
// goroutine waits on the network. (engine.Producer)
func (p *BatchPublisher) Produce(recs []*engine.Record, done func(error)) {
	p.produce(p.ctx, recs, done)
}

// Publish writes msgs to topic (or each message's MetaDestination) and
// waits for every acknowledgement.
func (p *BatchPublisher) Publish(topic string, msgs ...*message.Message) error {
	ctx, cancel := context.WithTimeout(p.ctx, p.timeout)
	defer cancel()
	recs := make([]*engine.Record, len(msgs))
	for i, m := range msgs {
		recs[i] = fromMessage(topic, m, p.keepUUID)
	}
	result := make(chan error, 1)
	p.produce(ctx, recs, func(err error) { result <- err })
	if err := <-result; err != nil {
		return fmt.Errorf("produce to %s: %w", topic, err)
	}
	return nil
}

// Abort fails every produce not yet acknowledged and every Publish still
// waiting, at once: for a shutdown whose time is up.
func (p *BatchPublisher) Abort() { p.abort() }

// closeFlushTimeout bounds Close's wait for buffered records. When Close
// runs, every record whose outputs matter was acknowledged (its offset is
// committed only then); what is left belongs to records that will be
// processed again, so a broker that is gone must not hold the exit.
const closeFlushTimeout = 5 * time.Second

// Close flushes what is buffered (for at most closeFlushTimeout) and closes
// the producer.
func (p *BatchPublisher) Close() error {
	if p.closed.Swap(true) {
		return nil
	}
	ctx, cancel := context.WithTimeout(p.ctx, closeFlushTimeout)
	defer cancel()
	var errs []error
	for _, cl := range p.clients {
		errs = append(errs, cl.Flush(ctx))
	}
	p.abort()
	p.closeClients()
	return errors.Join(errs...)
}
