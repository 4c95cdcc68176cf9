package kafka

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/millrace-dev/millrace/pipeline/engine"
	"github.com/twmb/franz-go/pkg/kgo"
)

// ConcurrentSubscriberConfig configures a ConcurrentSubscriber. Group and
// Ranges choose its mode; exactly one of them is set.
type ConcurrentSubscriberConfig struct {
	Brokers  []string
	ClientID string
	// Group selects group mode (`run`): the consumer group spreads the
	// topic's partitions over its members, rebalances move them, and the
	// contiguous settled prefix of each partition is committed to the
	// group.
	Group string
	// Start is "oldest" or "newest": where a group without offsets begins.
	// Group mode only.
	Start string
	// Ranges select bounded-range mode (`replay`): the subscriber reads
	// exactly these partitions of the topic it is given, by assignment and
	// without a group, each from its Start up to its End fixed in advance,
	// and commits nothing. Progress reports each range's contiguous settled
	// prefix, Done closes once every range is complete, and the
	// subscription then ends by itself. An offset deleted under the read is
	// an error (see Err), never a silent jump. A bounded subscriber reads
	// its ranges once: one Subscribe or Consume.
	Ranges []Range
	// Ordering says which records of a partition may run at once.
	Ordering Ordering
	// Pipelined (Consume) ends a record's turn in its lane (its key, or its
	// partition) when the process call for it returns, rather than when it
	// is settled: the next record of the lane runs while the outputs of the
	// ones before are still on their way, and several produces of a lane
	// are in flight at once. Settlements, and so commits, still follow the
	// acked prefix. process must have handed its outputs, in call order, to
	// a producer that keeps that order per partition and fails every
	// record after one that fails (engine.Engine.Process with the
	// BatchPublisher: franz-go's idempotent producer), and must not retry
	// a produce later by itself (engine.Config.NoProduceRetry): a record
	// settled as not done rewinds its lane instead (see lane in window.go),
	// so that the outputs of a lane are written in offset order, again from
	// the failed record on after a failure. Subscribe ignores it.
	Pipelined bool
	// MaxInFlight bounds the records of one partition handed out and not yet
	// settled. Default 256.
	MaxInFlight int
	// RetryInterval is how often failed commits are retried and timed-out
	// revocations released. Default 500ms.
	RetryInterval time.Duration
	// CommitInterval is the least time between two commits: acked offsets
	// are committed when the previous commit has returned and this much
	// time has passed since it was sent. Default 100ms (as the config's
	// input.commit_interval): ten commit requests a second per stream under
	// load, where one every 5ms made the group coordinator's writes a third
	// of the broker's work; a crash re-processes what was acked in the last
	// interval besides what was in flight.
	CommitInterval time.Duration
	// ShutdownTimeout bounds the wait for in-flight records when the
	// subscription ends or partitions are revoked. Default 30s.
	ShutdownTimeout time.Duration
	// NackResendSleep is the pause before a nacked message is handed out
	// again. Default 100ms.
	NackResendSleep time.Duration
	// SessionTimeout is how long the group waits for a member that stopped
	// heartbeating (a crashed runner) before giving its partitions to
	// others. Default 10s (franz-go's default is 45s). Group mode only.
	SessionTimeout time.Duration
	// StallRetryInterval is how long a partition stalled on a record that
	// cannot be written (engine.Result.Stall: its dead letter was
	// refused) waits before the record is handed out again. Default 10s.
	StallRetryInterval time.Duration
	// OnStall, if set, hears that a partition stopped at offset, and why
	// (err), and that it goes on again (err nil): the record was done, or
	// the partition was revoked, or the subscription ended. It runs on the
	// loop goroutine, so it must be quick.
	OnStall func(partition int32, offset int64, err error)
	// Skip, if set, is asked about every record as it is polled; a record
	// it skips is never handed out and counts as settled (Progress.Skipped):
	// a replay's time range and a redrive's filters. It runs on the loop
	// goroutine, so it must be quick.
	Skip func(*engine.Record) bool
	// Rewrite, if set, is applied to every record after its conversion from
	// Kafka (and after Skip), before it is first handed out: a redrive
	// restores each dead letter with it.
	Rewrite func(*engine.Record)
	// Limiter, if set, is waited on before each record is first handed to
	// Consume's process function (a replay's --rate). Subscribe refuses it.
	Limiter Limiter
	// KeepUUID reads Watermill message UUIDs from the UUIDHeader header
	// (Subscribe).
	KeepUUID bool
	Logger   *slog.Logger
	// Security is TLS and SASL (SecurityFor); nil is plaintext. A failure
	// it reports (Failed) is not logged again for every poll.
	Security *Security
	// FetchMaxBytes and FetchMaxPartitionBytes bound what one fetch returns
	// (kafka.consumer); zero keeps franz-go's defaults.
	FetchMaxBytes          int
	FetchMaxPartitionBytes int
	// MaxCrashes turns on poison-pill detection (group mode, Consume; see
	// crash.go): a record at a partition's committed offset is counted in
	// the group's commit metadata every time a runner starts on it; once
	// the runner died MaxCrashes times in a row with it in flight, the
	// last time while it ran alone, it is given to Poisoned instead of
	// Consume's process function. 0 turns it off.
	MaxCrashes int
	// Poisoned settles such a record without processing it: the engine's
	// DeadLetter, with CrashReason(crashes). Needed by MaxCrashes.
	Poisoned func(rec *engine.Record, crashes int, settle func(engine.Result))
	// RecycleRecords (Consume) reuses the memory of a fetched record once
	// it is settled and its offset is part of the settled prefix: process
	// must keep nothing of a record (its key, value, header values, nor
	// outputs that share them) after settling it, as the runner's engine
	// and BatchPublisher do not (a replay's preview does). Subscribe
	// ignores it: a Watermill handler may keep a message's payload.
	RecycleRecords bool
	// ClientOpts are appended to the franz-go client options (tests, tuning).
	ClientOpts []kgo.Opt
}

func (c *ConcurrentSubscriberConfig) setDefaults() {
	if c.MaxInFlight <= 0 {
		c.MaxInFlight = 256
	}
	if c.RetryInterval <= 0 {
		c.RetryInterval = 500 * time.Millisecond
	}
	if c.CommitInterval <= 0 {
		c.CommitInterval = 100 * time.Millisecond
	}
	if c.ShutdownTimeout <= 0 {
		c.ShutdownTimeout = 30 * time.Second
	}
	if c.NackResendSleep <= 0 {
		c.NackResendSleep = 100 * time.Millisecond
	}
	if c.SessionTimeout <= 0 {
		c.SessionTimeout = 10 * time.Second
	}
	if c.StallRetryInterval <= 0 {
		c.StallRetryInterval = 10 * time.Second
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
}

// Limiter paces a read: Wait returns when the next record may go, or with
// the context's error. A *rate.Limiter (golang.org/x/time/rate) is one.
type Limiter interface {
	Wait(ctx context.Context) error
}

// validate rejects a config with no mode, or with both.
func (c *ConcurrentSubscriberConfig) validate() error {
	switch {
	case len(c.Brokers) == 0:
		return errors.New("concurrent subscriber: no brokers")
	case c.Group == "" && len(c.Ranges) == 0:
		return errors.New("concurrent subscriber: neither a consumer group nor ranges to read")
	case c.Group != "" && len(c.Ranges) > 0:
		return errors.New("concurrent subscriber: a consumer group and ranges: a group reads what it is assigned, ranges are read without one")
	}
	return validateRanges(c.Ranges)
}

// ConcurrentSubscriber is Millrace's Kafka consumer (franz-go). It hands
// out up to MaxInFlight records per partition at once, in the order the
// Ordering allows, to Watermill (Subscribe) or to the engine (Consume).
// Records may settle in any order; each partition's window tracks the
// contiguous settled prefix, which group mode commits to the consumer group
// and bounded-range mode reports as Progress. A record settled as not done
// is handed out again before any later record of its lane. On revocation,
// on context cancellation and on Close it stops handing out records, waits
// (bounded) for those in flight, and commits.
type ConcurrentSubscriber struct {
	cfg     ConcurrentSubscriberConfig
	mu      sync.Mutex
	subs    []*stream
	closing chan struct{}
	once    sync.Once

	ranges *ranges // bounded-range mode's progress; nil in group mode
}

// NewConcurrentSubscriber validates cfg; it does not connect yet.
func NewConcurrentSubscriber(cfg ConcurrentSubscriberConfig) (*ConcurrentSubscriber, error) {
	cfg.setDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	s := &ConcurrentSubscriber{cfg: cfg, closing: make(chan struct{})}
	if len(cfg.Ranges) > 0 {
		s.ranges = newRanges(cfg.Ranges)
	}
	return s, nil
}

// start creates a stream for topic, set up by init before it runs, and
// starts its poller and loop, unless the subscriber is closed.
func (s *ConcurrentSubscriber) start(ctx context.Context, topic string, init func(*stream)) (*stream, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	select {
	case <-s.closing:
		return nil, errors.New("subscriber closed")
	default:
	}
	if s.ranges != nil && len(s.subs) > 0 {
		return nil, fmt.Errorf("bounded subscriber: its ranges are read once, already by a subscription to %s", s.subs[0].topic)
	}
	sub := &stream{
		cfg:       &s.cfg,
		topic:     topic,
		polled:    make(chan []*kgo.Record),
		failed:    make(chan error, 1),
		acks:      newAckQueue(),
		rebalance: make(chan rebalanceEvent),
		committed: make(chan commitResult, 16),
		calls:     make(chan func()),
		windows:   map[int32]*window{},
		done:      make(chan struct{}),
		ended:     make(chan struct{}),
		ranges:    s.ranges,
	}
	// Fetched data waits in the client until polled; franz-go's 50 MB
	// default made the peak RSS of a 1M-record drain 280 MiB, 8 MB keeps
	// it under 180 MiB at the same throughput (test/bench).
	fetchMax := 8 << 20
	if s.cfg.FetchMaxBytes > 0 {
		fetchMax = s.cfg.FetchMaxBytes
	}
	opts := append(clientOpts(s.cfg.Brokers, s.cfg.ClientID, s.cfg.Security), kgo.FetchMaxBytes(int32(fetchMax)))
	if s.cfg.FetchMaxPartitionBytes > 0 {
		opts = append(opts, kgo.FetchMaxPartitionBytes(int32(s.cfg.FetchMaxPartitionBytes)))
	}
	init(sub)
	if sub.work != nil && s.cfg.RecycleRecords {
		sub.recycles = true
		opts = append(opts, kgo.WithPools(new(fetchPool)))
	}
	if s.ranges != nil {
		sub.log = s.cfg.Logger.With("topic", topic)
		opts = append(opts, sub.boundedOpts()...)
	} else {
		sub.log = s.cfg.Logger.With("topic", topic, "group", s.cfg.Group)
		opts = append(opts, sub.groupOpts()...)
	}
	cl, err := kgo.NewClient(append(opts, s.cfg.ClientOpts...)...)
	if err != nil {
		return nil, fmt.Errorf("kafka consumer for %v: %w", s.cfg.Brokers, err)
	}
	sub.cl = cl
	sub.msgCtx, sub.cancelMsgs = context.WithCancel(context.Background())
	sub.readCtx, sub.stopRead = context.WithCancel(context.Background())
	go sub.poll()
	go sub.run(ctx, s.closing)
	if failed := s.cfg.Security.Failed(); failed != nil {
		// Any client of the Security failing TLS or SASL for good (the
		// group's connections may retry quietly) ends the read.
		go func() {
			select {
			case <-failed:
				sub.fail(s.cfg.Security.Err())
			case <-sub.ended:
			}
		}()
	}
	s.subs = append(s.subs, sub)
	return sub, nil
}

// Close ends every subscription, letting in-flight records finish and
// committing, and waits for them. A shutdown that timed out or a last
// commit that failed is logged, not returned: Watermill subscribers close
// without error while messages are unacked. (Consume reports both.)
func (s *ConcurrentSubscriber) Close() error {
	s.once.Do(func() { close(s.closing) })
	s.mu.Lock()
	subs := append([]*stream(nil), s.subs...)
	s.mu.Unlock()
	for _, sub := range subs {
		<-sub.ended
	}
	return nil
}

// Pipelined reports whether lanes are pipelined: the config's Pipelined,
// with an ordering that has lanes.
func (s *ConcurrentSubscriber) Pipelined() bool {
	return s.cfg.Pipelined && s.cfg.Ordering != OrderNone
}

// GroupMemberID is the consumer group member id of the subscriber's first
// subscription, "" while it has not joined or in bounded-range mode;
// readiness checks use it.
func (s *ConcurrentSubscriber) GroupMemberID() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.subs) == 0 || s.cfg.Group == "" {
		return ""
	}
	id, _ := s.subs[0].cl.GroupMetadata()
	return id
}
