// Package source is a Watermill subscriber that reads Kafka partitions by
// assignment, without a consumer group: each partition from a given offset
// up to a given end, after which it stops by itself. It never commits
// offsets anywhere; instead it tracks, per partition, the contiguous prefix
// of records that were acked (or skipped), which a caller can save as a
// checkpoint and resume from.
//
// Messages are built exactly as the pipeline's Kafka marshaler builds them
// (watermillkafka.Marshaler.Unmarshal: key, headers, timestamp and the record's
// topic, partition and offset in metadata), so a pipeline handler sees the
// same records it sees when reading through its consumer group.
//
// Within a partition, up to Config.Window messages are in flight at once,
// ordered as the pipeline's own subscriber orders them (kafka.Ordering): by
// default never two with the same key, so that outputs keep the order of
// their inputs per key, as in a live run; keyless records are independent
// of each other. A record waits while an earlier one with its key is in
// flight, and the records behind it wait too.
package source

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/IBM/sarama"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/millrace-dev/millrace/pipeline/kafka"
	"github.com/millrace-dev/millrace/pipeline/kafka/watermillkafka"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"golang.org/x/time/rate"
)

// Unbounded as a Range's End follows the partition without end.
const Unbounded int64 = -1

// Range is the part of a partition to read: the records from offset Start
// up to, not including, End.
type Range struct {
	Partition int32 `json:"partition"`
	Start     int64 `json:"start"`
	End       int64 `json:"end"`
}

// Config configures a Subscriber.
type Config struct {
	Brokers  []string
	ClientID string
	// Ranges are the partitions to read per topic. Subscribing to a topic
	// with ranges reads exactly them; the subscriber's Done channel closes
	// when every range of every topic here has been read and acked.
	Ranges map[string][]Range
	// Follow lets Subscribe read a topic that has no Ranges: every
	// partition from its log start, without end (as Watermill's universal
	// Pub/Sub tests need). Off, such a Subscribe is an error.
	Follow bool
	// Window is how many messages of one partition may be in flight at
	// once. Default 1.
	Window int
	// Ordering says which messages of a partition may be in flight
	// together: kafka.OrderKey (the default) never two with the same key,
	// kafka.OrderPartition one at a time, kafka.OrderNone any.
	Ordering kafka.Ordering
	// Limiter, if set, is waited on before each message is handed out.
	Limiter *rate.Limiter
	// Skip, if set, is asked about every record; a record it skips is not
	// handed out, and counts as done (acked) for the checkpoint.
	Skip func(*kgo.Record) bool
	// Message builds the message of a record; default Message(Marshaler, r).
	Message func(*kgo.Record) *message.Message
	// Marshaler builds messages when Message is nil.
	Marshaler watermillkafka.Marshaler
	// NackDelay is the pause before a nacked message is handed out again.
	// Default 100ms.
	NackDelay time.Duration
	// DrainTimeout bounds how long closing (or cancelling a subscription)
	// waits for the messages in flight to be acked. Default 30s.
	DrainTimeout time.Duration
	// Logger receives warnings; nil discards them.
	Logger *slog.Logger
	// ClientOpts are extra franz-go options.
	ClientOpts []kgo.Opt
}

func (c *Config) setDefaults() {
	if c.Window < 1 || c.Ordering == kafka.OrderPartition {
		c.Window = 1
	}
	if c.NackDelay <= 0 {
		c.NackDelay = 100 * time.Millisecond
	}
	if c.DrainTimeout <= 0 {
		c.DrainTimeout = 30 * time.Second
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Message == nil {
		m := c.Marshaler
		c.Message = func(r *kgo.Record) *message.Message { return Message(m, r) }
	}
}

// Validate rejects an unusable config.
func (c *Config) Validate() error {
	if len(c.Brokers) == 0 {
		return errors.New("source: no brokers")
	}
	for topic, rs := range c.Ranges {
		seen := map[int32]bool{}
		for _, r := range rs {
			if seen[r.Partition] {
				return fmt.Errorf("source: topic %s: partition %d given twice", topic, r.Partition)
			}
			seen[r.Partition] = true
			if r.Start < 0 || (r.End != Unbounded && r.End < 0) {
				return fmt.Errorf("source: topic %s partition %d: negative offset", topic, r.Partition)
			}
		}
	}
	return nil
}

// Message builds the Watermill message of a Kafka record as the pipeline's
// Kafka subscriber does: through watermillkafka.Marshaler.Unmarshal.
func Message(m watermillkafka.Marshaler, r *kgo.Record) *message.Message {
	cm := &sarama.ConsumerMessage{
		Topic:     r.Topic,
		Partition: r.Partition,
		Offset:    r.Offset,
		Key:       r.Key,
		Value:     r.Value,
		Timestamp: r.Timestamp,
		Headers:   make([]*sarama.RecordHeader, len(r.Headers)),
	}
	for i, h := range r.Headers {
		cm.Headers[i] = &sarama.RecordHeader{Key: []byte(h.Key), Value: h.Value}
	}
	msg, _ := m.Unmarshal(cm) // never fails
	return msg
}

// Subscriber reads ranges of partitions; see the package documentation.
type Subscriber struct {
	cfg Config

	mu      sync.Mutex
	subs    []*subscription
	bounded map[string]*subscription
	closed  bool
	err     error

	done     chan struct{}
	doneOnce sync.Once
}

var _ message.Subscriber = (*Subscriber)(nil)

// New returns a Subscriber; it does not connect until Subscribe.
func New(cfg Config) (*Subscriber, error) {
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &Subscriber{cfg: cfg, bounded: map[string]*subscription{}, done: make(chan struct{})}, nil
}

// ErrClosed is returned by Subscribe after Close.
var ErrClosed = errors.New("source: subscriber closed")

// Subscribe starts reading topic. The channel closes when ctx is cancelled
// or the subscriber is closed (after the messages in flight were acked or
// the drain timed out), or after a fatal read error (see Err). A topic with
// ranges can be subscribed once at a time.
func (s *Subscriber) Subscribe(ctx context.Context, topic string) (<-chan *message.Message, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, ErrClosed
	}
	ranges, bounded := s.cfg.Ranges[topic]
	if !bounded && !s.cfg.Follow {
		return nil, fmt.Errorf("source: no ranges for topic %s", topic)
	}
	if bounded && s.bounded[topic] != nil {
		return nil, fmt.Errorf("source: topic %s is already being read", topic)
	}
	sub, err := newSubscription(ctx, s, topic, ranges, bounded)
	if err != nil {
		return nil, err
	}
	s.subs = append(s.subs, sub)
	if bounded {
		s.bounded[topic] = sub
	}
	sub.start()
	go func() {
		select {
		case <-ctx.Done():
			sub.shutdown()
		case <-sub.closed:
		}
	}()
	if bounded {
		go sub.checkComplete()
	}
	return sub.out, nil
}

// Close stops every subscription, waiting for the messages in flight (up
// to the drain timeout). It may be called more than once.
func (s *Subscriber) Close() error {
	s.mu.Lock()
	s.closed = true
	subs := slices.Clone(s.subs)
	s.mu.Unlock()
	var wg sync.WaitGroup
	for _, sub := range subs {
		wg.Go(sub.shutdown)
	}
	wg.Wait()
	return nil
}

// Done is closed when every range of Config.Ranges was read and every
// record in it acked or skipped.
func (s *Subscriber) Done() <-chan struct{} { return s.done }

// Err returns the error that stopped a subscription early, such as an
// offset that was deleted while the replay ran.
func (s *Subscriber) Err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

func (s *Subscriber) fail(err error) {
	s.mu.Lock()
	if s.err == nil {
		s.err = err
	}
	s.mu.Unlock()
}

// topicComplete closes Done once every topic with ranges is complete.
func (s *Subscriber) topicComplete() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for topic := range s.cfg.Ranges {
		sub := s.bounded[topic]
		if sub == nil || !sub.allComplete() {
			return
		}
	}
	s.doneOnce.Do(func() { close(s.done) })
}

// Progress is how far one partition of a range is.
type Progress struct {
	Topic     string `json:"topic"`
	Partition int32  `json:"partition"`
	Start     int64  `json:"start"`
	End       int64  `json:"end"`
	// Next is the first offset not done: every record in [Start, Next) was
	// acked or skipped. A resumed read starts here.
	Next int64 `json:"next"`
	// Delivered counts records handed out (redeliveries not counted),
	// Acked those acked, Skipped those Config.Skip skipped.
	Delivered int64 `json:"delivered"`
	Acked     int64 `json:"acked"`
	Skipped   int64 `json:"skipped"`
	Complete  bool  `json:"complete"`
}

// Progress reports every partition of the ranges of Config.Ranges that
// were subscribed, by topic and partition. Ranges not subscribed yet show
// no progress.
func (s *Subscriber) Progress() []Progress {
	s.mu.Lock()
	var out []Progress
	for topic, rs := range s.cfg.Ranges {
		sub := s.bounded[topic]
		for _, r := range rs {
			p := Progress{Topic: topic, Partition: r.Partition, Start: r.Start, End: r.End, Next: r.Start, Complete: r.Start >= r.End}
			if sub != nil {
				if part := sub.parts[r.Partition]; part != nil {
					p = part.progress()
				}
			}
			out = append(out, p)
		}
	}
	s.mu.Unlock()
	slices.SortFunc(out, func(a, b Progress) int {
		if a.Topic != b.Topic {
			if a.Topic < b.Topic {
				return -1
			}
			return 1
		}
		return int(a.Partition - b.Partition)
	})
	return out
}

// fatal reports whether a fetch error ends the subscription: the data asked
// for is gone or was never there. kgo retries the others itself.
func fatal(err error) bool {
	var dl *kgo.ErrDataLoss
	return errors.Is(err, kerr.OffsetOutOfRange) || errors.As(err, &dl) || errors.Is(err, kerr.UnknownTopicOrPartition)
}

// subscription is one Subscribe call: a franz-go client, a goroutine
// polling it, one goroutine per partition handing out messages, and one per
// message in flight waiting for its ack.
type subscription struct {
	s       *Subscriber
	topic   string
	bounded bool
	cl      *kgo.Client
	out     chan *message.Message

	partsMu sync.Mutex
	parts   map[int32]*partition

	runCtx    context.Context // cancelled on stop: polling and rate waits end
	stopRun   context.CancelFunc
	stop      chan struct{}   // closed: hand out nothing more
	msgCtx    context.Context // the context of messages handed out
	cancelMsg context.CancelFunc
	inflight  atomic.Int64
	wg        sync.WaitGroup
	once      sync.Once
	closed    chan struct{}
}

func newSubscription(ctx context.Context, s *Subscriber, topic string, ranges []Range, bounded bool) (*subscription, error) {
	sub := &subscription{
		s: s, topic: topic, bounded: bounded,
		out:    make(chan *message.Message),
		parts:  map[int32]*partition{},
		stop:   make(chan struct{}),
		closed: make(chan struct{}),
	}
	sub.runCtx, sub.stopRun = context.WithCancel(context.Background())
	// Messages outlive a cancelled subscription context until they are
	// acked, so that a shutdown lets the records in flight finish.
	sub.msgCtx, sub.cancelMsg = context.WithCancel(context.WithoutCancel(ctx))
	opts := []kgo.Opt{
		kgo.SeedBrokers(s.cfg.Brokers...),
		kgo.ClientID(s.cfg.ClientID),
		// An offset deleted under us is an error, never a silent jump.
		kgo.ConsumeResetOffset(kgo.NoResetOffset()),
		// Control records (transaction markers) occupy offsets: seeing
		// them lets a range whose last offset is a marker complete.
		kgo.KeepControlRecords(),
	}
	if bounded {
		assign := map[int32]kgo.Offset{}
		for _, r := range ranges {
			p := newPartition(sub, r)
			sub.parts[r.Partition] = p
			if r.End == Unbounded || r.Start < r.End {
				assign[r.Partition] = kgo.NewOffset().At(r.Start)
			}
		}
		if len(assign) > 0 {
			opts = append(opts, kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: assign}))
		}
	} else {
		opts = append(opts, kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	}
	cl, err := kgo.NewClient(append(opts, s.cfg.ClientOpts...)...)
	if err != nil {
		sub.stopRun()
		sub.cancelMsg()
		return nil, fmt.Errorf("source: kafka client: %w", err)
	}
	sub.cl = cl
	return sub, nil
}

func (sub *subscription) start() {
	for _, p := range sub.parts {
		if p.done() {
			continue
		}
		sub.wg.Add(1)
		go p.run()
	}
	sub.wg.Add(1)
	go sub.poll()
}

// partition returns the partition of id, creating it when following.
func (sub *subscription) partition(id int32) *partition {
	sub.partsMu.Lock()
	defer sub.partsMu.Unlock()
	p := sub.parts[id]
	if p == nil && !sub.bounded {
		p = newPartition(sub, Range{Partition: id, Start: 0, End: Unbounded})
		sub.parts[id] = p
		sub.wg.Add(1)
		go p.run()
	}
	return p
}

func (sub *subscription) poll() {
	defer sub.wg.Done()
	log := sub.s.cfg.Logger
	for {
		fs := sub.cl.PollRecords(sub.runCtx, 1000)
		if sub.runCtx.Err() != nil || fs.IsClientClosed() {
			return
		}
		stopped := false
		fs.EachError(func(topic string, p int32, err error) {
			if errors.Is(err, context.Canceled) {
				return
			}
			if fatal(err) {
				sub.s.fail(fmt.Errorf("read %s partition %d: %w", topic, p, err))
				stopped = true
				return
			}
			log.Warn("fetch error; retrying", "topic", topic, "partition", p, "error", err.Error())
		})
		if stopped {
			go sub.shutdown()
			return
		}
		fs.EachPartition(func(fp kgo.FetchTopicPartition) {
			p := sub.partition(fp.Partition)
			if p == nil {
				return
			}
			for _, r := range fp.Records {
				select {
				case p.in <- r:
				case <-p.exited:
					return
				case <-sub.stop:
					return
				}
			}
		})
	}
}

// pause stops fetching a partition that has been read to its end.
func (sub *subscription) pause(id int32) {
	sub.cl.PauseFetchPartitions(map[string][]int32{sub.topic: {id}})
}

func (sub *subscription) allComplete() bool {
	sub.partsMu.Lock()
	defer sub.partsMu.Unlock()
	for _, p := range sub.parts {
		if !p.done() {
			return false
		}
	}
	return true
}

func (sub *subscription) checkComplete() {
	if sub.bounded && sub.allComplete() {
		sub.s.topicComplete()
	}
}

// shutdown stops handing out messages, waits for those in flight (up to
// the drain timeout), then closes the output channel.
func (sub *subscription) shutdown() {
	sub.once.Do(func() {
		close(sub.stop)
		sub.stopRun()
		deadline := time.Now().Add(sub.s.cfg.DrainTimeout)
		for sub.inflight.Load() > 0 && time.Now().Before(deadline) {
			time.Sleep(5 * time.Millisecond)
		}
		if n := sub.inflight.Load(); n > 0 {
			sub.s.cfg.Logger.Warn("drain timed out; records in flight stay undone", "topic", sub.topic, "in_flight", n)
		}
		sub.cancelMsg()
		sub.wg.Wait()
		sub.cl.Close()
		close(sub.out)
		close(sub.closed)
	})
	<-sub.closed
}
