package kafka

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/millrace-dev/millrace/pipeline/engine"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// ConcurrentSubscriberConfig configures a ConcurrentSubscriber.
type ConcurrentSubscriberConfig struct {
	Brokers  []string
	ClientID string
	// Group is the consumer group; empty reads every partition from Start
	// without a group and commits nothing.
	Group string
	// Start is "oldest" or "newest": where a group without offsets begins.
	Start string
	// Ordering says which records of a partition may run at once.
	Ordering Ordering
	// MaxInFlight bounds the records of one partition handed out and not yet
	// acked. Default 256.
	MaxInFlight int
	// RetryInterval is how often failed commits are retried and timed-out
	// revocations released. Default 500ms.
	RetryInterval time.Duration
	// CommitInterval is the least time between two commits: acked offsets
	// are committed when the previous commit has returned and this much
	// time has passed since it was sent. Default 5ms: a crash re-processes
	// at most what was acked in the last few milliseconds besides what was
	// in flight, and the broker is not sent a commit per produce round trip.
	CommitInterval time.Duration
	// ShutdownTimeout bounds the wait for in-flight records when the
	// subscription ends or partitions are revoked. Default 30s.
	ShutdownTimeout time.Duration
	// NackResendSleep is the pause before a nacked message is handed out
	// again. Default 100ms.
	NackResendSleep time.Duration
	// SessionTimeout is how long the group waits for a member that stopped
	// heartbeating (a crashed runner) before giving its partitions to
	// others. Default 10s (franz-go's default is 45s).
	SessionTimeout time.Duration
	// KeepUUID reads Watermill message UUIDs from the UUIDHeader header.
	KeepUUID bool
	Logger   *slog.Logger
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
		c.CommitInterval = 5 * time.Millisecond
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
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
}

// ConcurrentSubscriber is a Watermill subscriber over a Kafka consumer group
// (franz-go) that hands out up to MaxInFlight records per partition at once,
// in the order the Ordering allows. Acks may come in any order; the committed
// offset of a partition only moves to the end of its contiguous acked prefix.
// A nacked record is handed out again before any later record of its lane.
// On revocation, on context cancellation and on Close it stops handing out
// records, waits (bounded) for those in flight, and commits.
type ConcurrentSubscriber struct {
	cfg     ConcurrentSubscriberConfig
	mu      sync.Mutex
	subs    []*stream
	closing chan struct{}
	once    sync.Once
}

// NewConcurrentSubscriber validates cfg; it does not connect yet.
func NewConcurrentSubscriber(cfg ConcurrentSubscriberConfig) (*ConcurrentSubscriber, error) {
	cfg.setDefaults()
	if len(cfg.Brokers) == 0 {
		return nil, errors.New("concurrent subscriber: no brokers")
	}
	return &ConcurrentSubscriber{cfg: cfg, closing: make(chan struct{})}, nil
}

// Subscribe consumes topic until ctx is cancelled or the subscriber closed.
func (s *ConcurrentSubscriber) Subscribe(ctx context.Context, topic string) (<-chan *message.Message, error) {
	sub, err := s.start(ctx, topic, func(sub *stream) { sub.out = make(chan *message.Message) })
	if err != nil {
		return nil, err
	}
	return sub.out, nil
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
	sub := &stream{
		cfg:       &s.cfg,
		topic:     topic,
		polled:    make(chan []*kgo.Record),
		acks:      make(chan ackEvent, 1024),
		rebalance: make(chan rebalanceEvent),
		committed: make(chan commitResult, 16),
		windows:   map[int32]*window{},
		done:      make(chan struct{}),
		ended:     make(chan struct{}),
		log:       s.cfg.Logger.With("topic", topic, "group", s.cfg.Group),
	}
	start := kgo.NewOffset().AtStart()
	if s.cfg.Start == "newest" {
		start = kgo.NewOffset().AtEnd()
	}
	opts := []kgo.Opt{
		kgo.SeedBrokers(s.cfg.Brokers...),
		kgo.ClientID(s.cfg.ClientID),
		kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(start),
		// Fetched data waits in the client until polled; franz-go's 50 MB
		// default made the peak RSS of a 1M-record drain 280 MiB, 8 MB
		// keeps it under 180 MiB at the same throughput (test/bench).
		kgo.FetchMaxBytes(8 << 20),
	}
	if s.cfg.Group != "" {
		opts = append(opts,
			kgo.ConsumerGroup(s.cfg.Group),
			kgo.DisableAutoCommit(),
			kgo.SessionTimeout(s.cfg.SessionTimeout),
			kgo.HeartbeatInterval(s.cfg.SessionTimeout/4),
			kgo.OnPartitionsAssigned(sub.onAssigned),
			kgo.OnPartitionsRevoked(sub.onRevoked),
			kgo.OnPartitionsLost(sub.onLost),
		)
	}
	cl, err := kgo.NewClient(append(opts, s.cfg.ClientOpts...)...)
	if err != nil {
		return nil, fmt.Errorf("kafka consumer for %v: %w", s.cfg.Brokers, err)
	}
	sub.cl = cl
	sub.msgCtx, sub.cancelMsgs = context.WithCancel(context.Background())
	pollCtx, stopPoll := context.WithCancel(context.Background())
	sub.stopPoll = stopPoll
	init(sub)
	go sub.poll(pollCtx)
	go sub.run(ctx, s.closing)
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

// stream is one Subscribe call: a franz-go client, a poller goroutine
// and the loop goroutine that owns every window.
type stream struct {
	cfg      *ConcurrentSubscriberConfig
	topic    string
	cl       *kgo.Client
	log      *slog.Logger
	stopPoll context.CancelFunc

	out       chan *message.Message // Subscribe: messages one by one
	work      chan []pending        // Consume: batches for the workers
	process   Process
	polled    chan []*kgo.Record
	acks      chan ackEvent
	rebalance chan rebalanceEvent
	committed chan commitResult
	done      chan struct{} // closed when the loop has finished: no more acks are taken
	ended     chan struct{} // closed when out is closed and the client too
	// msgCtx is the context of every handed-out message; it is cancelled
	// when the subscription has ended.
	msgCtx     context.Context
	cancelMsgs context.CancelFunc

	// owned by the loop goroutine
	windows    map[int32]*window
	toSend     []pending
	buffered   int
	revokes    []*revokeWait
	err        error // why the subscription ended badly, set before done is closed
	committing bool  // an asynchronous commit is in flight
	lastCommit time.Time
	commitWake *time.Timer // wakes the loop for a commit held back by CommitInterval
	stopping   bool        // the subscription is finishing what is in flight
}

type pending struct {
	msg    *message.Message // built by the loop for Subscribe
	rec    *engine.Record   // a record handed out again: the same one, attempts counted
	e      *entry
	w      *window
	cancel context.CancelFunc // ends the message's context once it is settled
}

type ackEvent struct {
	e      *entry
	w      *window
	rec    *engine.Record // the settled record, for a resend
	nack   bool           // the handler failed: hand the record out again later
	resend bool           // the pause after a nack is over
}

type rebalanceKind int

const (
	assigned rebalanceKind = iota
	revoked
	lost
)

type rebalanceEvent struct {
	kind  rebalanceKind
	parts []int32
	done  chan struct{}
}

type revokeWait struct {
	parts    []int32
	deadline time.Time
	done     chan struct{}
}

type commitResult struct {
	failed map[int32]int64 // offsets whose commit failed, by partition
}

func (s *stream) onAssigned(_ context.Context, _ *kgo.Client, m map[string][]int32) {
	s.send(rebalanceEvent{kind: assigned, parts: m[s.topic]})
}

func (s *stream) onRevoked(_ context.Context, _ *kgo.Client, m map[string][]int32) {
	s.send(rebalanceEvent{kind: revoked, parts: m[s.topic]})
}

func (s *stream) onLost(_ context.Context, _ *kgo.Client, m map[string][]int32) {
	s.send(rebalanceEvent{kind: lost, parts: m[s.topic]})
}

// send hands a rebalance to the loop and waits until the loop handled it;
// it returns at once when the loop is gone.
func (s *stream) send(ev rebalanceEvent) {
	ev.done = make(chan struct{})
	select {
	case s.rebalance <- ev:
	case <-s.done:
		return
	}
	select {
	case <-ev.done:
	case <-s.done:
	}
}

// poll feeds fetched records to the loop; the loop stops taking them while
// its buffer is full, which stops the fetching.
func (s *stream) poll(ctx context.Context) {
	for {
		fs := s.cl.PollRecords(ctx, 10_000)
		if ctx.Err() != nil || fs.IsClientClosed() {
			return
		}
		fs.EachError(func(t string, p int32, err error) {
			if !errors.Is(err, context.Canceled) {
				s.log.Warn("fetch failed", "partition", p, "error", err.Error())
			}
		})
		recs := fs.Records()
		if len(recs) == 0 {
			continue
		}
		select {
		case s.polled <- recs:
		case <-ctx.Done():
			return
		}
	}
}

// maxBuffered bounds the polled records not yet acked: twice what may be in
// flight, so that a partition's window refills while the next poll is on
// its way.
func (s *stream) maxBuffered() int {
	return max(1024, 2*s.cfg.MaxInFlight*max(1, len(s.windows)))
}

// run is the loop: it owns the windows, hands out messages, takes acks,
// commits, and handles rebalances and the shutdown.
func (s *stream) run(ctx context.Context, closing <-chan struct{}) {
	tick := time.NewTicker(s.cfg.RetryInterval)
	defer tick.Stop()
	s.commitWake = time.NewTimer(time.Hour)
	s.commitWake.Stop()
	defer s.commitWake.Stop()
	var deadline <-chan time.Time // set when stopping
	stop := func() {
		if deadline == nil {
			deadline = time.After(s.cfg.ShutdownTimeout)
			s.beginStop()
			ctx, closing = context.Background(), nil
		}
	}
	for {
		if deadline != nil && s.stopped() {
			s.end()
			return
		}
		var polled chan []*kgo.Record
		if deadline == nil && s.buffered < s.maxBuffered() {
			polled = s.polled
		}
		var out chan *message.Message
		var next *message.Message
		var work chan []pending
		var batch []pending
		if len(s.toSend) > 0 {
			if s.work != nil {
				work, batch = s.work, s.toSend[:min(len(s.toSend), workBatch)]
			} else {
				out, next = s.out, s.toSend[0].msg
			}
		}
		select {
		case recs := <-polled:
			s.add(recs)
		case out <- next:
			p := s.toSend[0]
			s.toSend[0] = pending{}
			s.toSend = s.toSend[1:]
			go s.watch(p)
		case work <- batch:
			s.toSend = s.toSend[len(batch):]
		case ev := <-s.acks:
			s.settle(ev)
			s.settleQueued()
		case ev := <-s.rebalance:
			s.onRebalance(ev)
		case res := <-s.committed:
			s.committing = false
			if len(res.failed) > 0 {
				// Try again after RetryInterval, not at once: the broker
				// may be gone for a while.
				s.lastCommit = time.Now().Add(s.cfg.RetryInterval)
			}
			for p, off := range res.failed {
				if w := s.windows[p]; w != nil && w.committed == off {
					w.committed = -1 // commit again
				}
			}
		case <-tick.C:
			// Wakes the loop for revocations that timed out and for
			// commits that failed.
		case <-s.commitWake.C:
		case <-ctx.Done():
			stop()
		case <-closing:
			stop()
		case <-deadline:
			n := s.inflight()
			s.log.Warn("shutdown timeout: records still in flight are not committed", "in_flight", n)
			s.err = fmt.Errorf("shutdown timeout: %d record(s) of %s were still in flight and are not committed", n, s.topic)
			s.end()
			return
		}
		s.finishRevokes(false)
		if !s.committing {
			if wait := s.cfg.CommitInterval - time.Since(s.lastCommit); wait > 0 {
				s.commitWake.Reset(wait)
			} else {
				s.commit(false)
			}
		}
		s.dispatch()
	}
}

// beginStop stops fetching and limits every partition to the records up to
// the highest one handed out; the loop goes on until those are done.
func (s *stream) beginStop() {
	s.stopping = true
	s.stopPoll()
	for _, w := range s.windows {
		w.finish()
	}
	s.dropQueued(func(p pending) bool { return p.e.rec.Offset > p.w.limit })
}

// stopped reports whether every partition finished its records.
func (s *stream) stopped() bool {
	for _, w := range s.windows {
		if !w.finished() {
			return false
		}
	}
	return true
}

// end commits, closes the output channel, leaves the group and closes the
// client.
func (s *stream) end() {
	if err := s.commit(true); err != nil && s.err == nil {
		s.err = fmt.Errorf("the last offset commit of %s failed; a restart processes again what was done since the one before: %w", s.topic, err)
	}
	close(s.done)
	if s.out != nil {
		close(s.out)
	}
	if s.work != nil {
		close(s.work)
	}
	s.cancelMsgs()
	s.finishRevokes(true)
	s.cl.Close()
	close(s.ended)
}

// add puts polled records into their partitions' windows.
func (s *stream) add(recs []*kgo.Record) {
	for _, r := range recs {
		w := s.windows[r.Partition]
		if w == nil {
			if s.cfg.Group != "" {
				continue // not (or no longer) assigned here
			}
			w = newWindow(s.cfg.Ordering, s.cfg.MaxInFlight)
			s.windows[r.Partition] = w
		}
		if w.revoked {
			continue
		}
		before := w.buffered()
		w.add(r)
		s.buffered += w.buffered() - before
	}
}

// dispatch queues every record its window lets run.
func (s *stream) dispatch() {
	for _, w := range s.windows {
		if w.revoked {
			continue
		}
		for _, e := range w.next() {
			s.toSend = append(s.toSend, s.pending(e, w, nil))
		}
	}
}

// watch waits for the outcome of a handed-out message.
func (s *stream) watch(p pending) {
	defer p.cancel()
	var ev ackEvent
	select {
	case <-p.msg.Acked():
		ev = ackEvent{e: p.e, w: p.w}
	case <-p.msg.Nacked():
		ev = ackEvent{e: p.e, w: p.w, rec: engine.RecordOf(p.msg), nack: true}
	case <-s.done:
		return
	}
	select {
	case s.acks <- ev:
	case <-s.done:
	}
}

func (s *stream) settle(ev ackEvent) {
	if ev.nack {
		// Hand the same record out again after a pause; the records behind
		// it in its lane keep waiting, so key order holds.
		time.AfterFunc(s.cfg.NackResendSleep, func() {
			select {
			case s.acks <- ackEvent{e: ev.e, w: ev.w, rec: ev.rec, resend: true}:
			case <-s.done:
			}
		})
		return
	}
	if ev.resend {
		if s.stopping || ev.w.revoked || s.windows[ev.e.rec.Partition] != ev.w {
			// Not handed out again: the partition is gone, or the
			// subscription is stopping, which only finishes what is in
			// flight. The record stays uncommitted.
			ev.w.inflight--
			return
		}
		// The same record is handed out again, its attempts counted.
		s.toSend = append(s.toSend, s.pending(ev.e, ev.w, ev.rec))
		return
	}
	before := ev.w.buffered()
	ev.w.ack(ev.e)
	if s.windows[ev.e.rec.Partition] == ev.w {
		s.buffered += ev.w.buffered() - before
	}
}

func (s *stream) onRebalance(ev rebalanceEvent) {
	switch ev.kind {
	case assigned:
		for _, p := range ev.parts {
			if s.windows[p] == nil {
				s.windows[p] = newWindow(s.cfg.Ordering, s.cfg.MaxInFlight)
			}
		}
		close(ev.done)
	case lost:
		for _, p := range ev.parts {
			s.drop(p)
		}
		close(ev.done)
	case revoked:
		for _, p := range ev.parts {
			if w := s.windows[p]; w != nil {
				w.revoked = true
			}
		}
		s.unqueue(ev.parts)
		wait := min(s.cfg.ShutdownTimeout, 20*time.Second)
		s.revokes = append(s.revokes, &revokeWait{parts: ev.parts, deadline: time.Now().Add(wait), done: ev.done})
	}
}

// finishRevokes commits and releases revoked partitions whose in-flight
// records are done (or whose wait timed out).
func (s *stream) finishRevokes(force bool) {
	kept := s.revokes[:0]
	for _, rw := range s.revokes {
		busy := false
		for _, p := range rw.parts {
			if w := s.windows[p]; w != nil && w.inflight > 0 {
				busy = true
			}
		}
		if busy && !force && time.Now().Before(rw.deadline) {
			kept = append(kept, rw)
			continue
		}
		s.commitSync(rw.parts)
		for _, p := range rw.parts {
			s.drop(p)
		}
		close(rw.done)
	}
	s.revokes = kept
}

func (s *stream) drop(p int32) {
	if w := s.windows[p]; w != nil {
		s.buffered -= w.buffered()
		delete(s.windows, p)
	}
	s.unqueue([]int32{p})
}

// unqueue removes messages of the partitions that were not handed out yet.
func (s *stream) unqueue(parts []int32) {
	s.dropQueued(func(p pending) bool { return slices.Contains(parts, p.e.rec.Partition) })
}

// dropQueued takes the queued messages for which drop holds off the queue:
// they were counted in flight but never handed out.
func (s *stream) dropQueued(drop func(pending) bool) {
	kept := s.toSend[:0]
	for _, p := range s.toSend {
		if drop(p) {
			p.w.inflight--
			p.cancel()
			continue
		}
		kept = append(kept, p)
	}
	clear(s.toSend[len(kept):])
	s.toSend = kept
}

// commit sends the acked offsets that moved since the last commit. The loop
// keeps one asynchronous commit in flight and sends the next as soon as it
// returns, so the committed offsets trail the acks by about one round trip:
// after a crash, what is consumed again is little more than what was in
// flight.
func (s *stream) commit(sync bool) error {
	if s.cfg.Group == "" {
		return nil
	}
	// A synchronous commit sends every partition's offset, not only those
	// that moved: franz-go cancels an asynchronous commit still in flight
	// when a new one starts, and what it carried must not be lost.
	offsets := map[int32]kgo.EpochOffset{}
	for p, w := range s.windows {
		if w.dirty() || (sync && w.commit.Offset >= 0) {
			offsets[p] = w.commit
			w.committed = w.commit.Offset
		}
	}
	if len(offsets) == 0 {
		return nil
	}
	req := map[string]map[int32]kgo.EpochOffset{s.topic: offsets}
	if sync {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		var failed error
		s.cl.CommitOffsetsSync(ctx, req, func(_ *kgo.Client, _ *kmsg.OffsetCommitRequest, resp *kmsg.OffsetCommitResponse, err error) {
			if err == nil {
				err = commitError(resp)
			}
			if err != nil {
				failed = err
				s.log.Warn("offset commit failed", "error", err.Error())
			}
		})
		return failed
	}
	s.committing = true
	s.lastCommit = time.Now()
	s.cl.CommitOffsets(context.Background(), req, func(_ *kgo.Client, _ *kmsg.OffsetCommitRequest, resp *kmsg.OffsetCommitResponse, err error) {
		res := commitResult{}
		if err == nil {
			err = commitError(resp)
		}
		if err != nil {
			s.log.Warn("offset commit failed; retrying", "error", err.Error())
			res.failed = map[int32]int64{}
			for p, o := range offsets {
				res.failed[p] = o.Offset
			}
		}
		select {
		case s.committed <- res:
		case <-s.done:
		}
	})
	return nil
}

// commitError returns the first partition error of a commit response.
func commitError(resp *kmsg.OffsetCommitResponse) error {
	if resp == nil {
		return nil
	}
	for _, t := range resp.Topics {
		for _, p := range t.Partitions {
			if err := kerr.ErrorForCode(p.ErrorCode); err != nil {
				return fmt.Errorf("partition %d: %w", p.Partition, err)
			}
		}
	}
	return nil
}

// commitSync commits the given partitions now.
func (s *stream) commitSync(parts []int32) {
	if s.cfg.Group == "" {
		return
	}
	offsets := map[int32]kgo.EpochOffset{}
	for _, p := range parts {
		if w := s.windows[p]; w != nil && w.commit.Offset >= 0 {
			offsets[p] = w.commit
			w.committed = w.commit.Offset
		}
	}
	if len(offsets) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s.cl.CommitOffsetsSync(ctx, map[string]map[int32]kgo.EpochOffset{s.topic: offsets},
		func(_ *kgo.Client, _ *kmsg.OffsetCommitRequest, _ *kmsg.OffsetCommitResponse, err error) {
			if err != nil {
				s.log.Warn("offset commit on revoke failed", "error", err.Error())
			}
		})
}

func (s *stream) inflight() int {
	n := 0
	for _, w := range s.windows {
		n += w.inflight
	}
	return n
}

// pending queues e for handing out: rec is the record handed out before,
// nil the first time. Subscribe's message is built here, with a context
// that ends when the subscription does; Consume's workers convert the
// record themselves (see Consume), so that the loop's share stays small.
func (s *stream) pending(e *entry, w *window, rec *engine.Record) pending {
	if s.work != nil {
		return pending{e: e, w: w, rec: rec, cancel: noCancel}
	}
	var id string
	if rec == nil {
		rec, id = fromKafka(e.rec, s.cfg.KeepUUID)
	} else if s.cfg.KeepUUID {
		_, id = fromKafka(e.rec, true)
	}
	if id == "" {
		id = MessageID(rec)
	}
	ctx, cancel := context.WithCancel(s.msgCtx)
	return pending{msg: engine.InputMessage(ctx, id, rec), e: e, w: w, rec: rec, cancel: cancel}
}

// GroupMemberID is the consumer group member id of the subscriber's first
// subscription, "" while it has not joined; readiness checks use it.
func (s *ConcurrentSubscriber) GroupMemberID() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.subs) == 0 || s.cfg.Group == "" {
		return ""
	}
	id, _ := s.subs[0].cl.GroupMetadata()
	return id
}
