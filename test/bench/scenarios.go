package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/IBM/sarama"
	"github.com/ThreeDotsLabs/watermill"
	wmkafka "github.com/ThreeDotsLabs/watermill-kafka/v3/pkg/kafka"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/millrace-dev/millrace/pipeline"
	"github.com/millrace-dev/millrace/pipeline/config"
	"github.com/twmb/franz-go/pkg/kgo"
)

// stage is one run of a scenario's consumer: from In to Out as group Group.
type stage struct {
	Brokers []string
	In      string
	Out     string
	DLQ     string
	Group   string
	// handled is kept by scenarios that count in process (W0); firstNanos
	// by those that can tell when they got their first record (W0, L1, L2).
	handled    atomic.Int64
	firstNanos atomic.Int64
	// KS: how to start the Java process, and its pid once started.
	KS  ksConfig
	pid atomic.Int64
	// Tuning overrides settings of the Millrace scenarios.
	Tuning millraceTuning
	// Requests counts the requests of the scenario's franz-go clients.
	Requests *clientRequests
}

// millraceTuning overrides settings of the Millrace scenarios' config;
// zero keeps the config's default.
type millraceTuning struct {
	CommitInterval time.Duration `json:"commit_interval,omitempty"`
	Linger         time.Duration `json:"linger,omitempty"`
	MaxInFlight    int           `json:"max_in_flight,omitempty"`
	// FetchMaxPartitionBytes is kafka.consumer.fetch_max_partition_bytes.
	FetchMaxPartitionBytes int `json:"fetch_max_partition_bytes,omitempty"`
	// RateLimit is input.rate_limit in records/s: the drain then shows
	// whether the limit holds.
	RateLimit float64 `json:"rate_limit,omitempty"`
}

// scenario is one way of running the benchmark chain.
type scenario struct {
	Name string
	Desc string
	Run  func(ctx context.Context, s *stage) error
	// InProcessCount: progress comes from the handler's count, not from the
	// broker's offsets; the drain may stop at a cap.
	InProcessCount bool
	// NoFilter: every input record is written (L1).
	NoFilter bool
	// External: the scenario runs in a process of its own (KS's JVM),
	// whose pid it stores in stage.pid; CPU time and RSS are that
	// process's.
	External bool
}

var scenarios = []scenario{
	{Name: "L1", Desc: "raw franz-go loop: poll, produce unchanged, commit after the acks",
		Run: func(ctx context.Context, s *stage) error { return runLoop(ctx, s, nil) }, NoFilter: true},
	{Name: "L2", Desc: "L1 plus the 4-step edit in Go (single-pass scan, no Watermill)",
		Run: func(ctx context.Context, s *stage) error { return runLoop(ctx, s, bestEdit) }},
	{Name: "W0", Desc: "plain Watermill router, watermill-kafka v3 defaults, stdlib JSON handler",
		Run: runW0, InProcessCount: true},
	{Name: "KS", Desc: "Kafka Streams 4.1 application (Java 17, Jackson ObjectNode edits), 2 stream threads, at_least_once",
		Run: runKStreams, External: true},
	{Name: "M-key", Desc: "Millrace from YAML, ordering: key",
		Run: func(ctx context.Context, s *stage) error { return runMillrace(ctx, s, "key") }},
	{Name: "M-partition", Desc: "Millrace from YAML, ordering: partition",
		Run: func(ctx context.Context, s *stage) error { return runMillrace(ctx, s, "partition") }},
	{Name: "M-none", Desc: "Millrace from YAML, ordering: none",
		Run: func(ctx context.Context, s *stage) error { return runMillrace(ctx, s, "none") }},
	{Name: "M-router", Desc: "Millrace's engine under a Watermill router over Millrace's consumer and producer (ack deferred), ordering: key",
		Run: runRouter},
}

func findScenario(name string) (scenario, bool) {
	for _, sc := range scenarios {
		if sc.Name == name {
			return sc, true
		}
	}
	return scenario{}, false
}

// --- L1 / L2 ----------------------------------------------------------------

// runLoop is the hand-written consume → produce loop. For each poll batch it
// produces every output asynchronously (same key, headers and timestamp),
// waits for all their acknowledgements, and then hands the batch's offsets
// to a committer goroutine, which commits synchronously, coalescing batches
// that arrive while a commit is in flight. edit nil copies values unchanged.
func runLoop(ctx context.Context, s *stage, edit editFunc) error {
	cl, err := kgo.NewClient(
		kgo.SeedBrokers(s.Brokers...),
		kgo.ClientID("millrace-bench-loop"),
		kgo.WithHooks(s.Requests),
		kgo.ConsumerGroup(s.Group),
		kgo.ConsumeTopics(s.In),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.DisableAutoCommit(),
		kgo.ProducerLinger(0),
	)
	if err != nil {
		return err
	}
	defer cl.Close()
	cm := newCommitter(cl, s.In)
	go cm.run()
	defer cm.stop()

	var (
		arena   []byte
		outs    []kgo.Record
		wg      sync.WaitGroup
		mu      sync.Mutex
		failure error
	)
	onDone := func(_ *kgo.Record, err error) {
		if err != nil {
			mu.Lock()
			if failure == nil {
				failure = err
			}
			mu.Unlock()
		}
		wg.Done()
	}
	for {
		fs := cl.PollRecords(ctx, 10_000)
		if ctx.Err() != nil || fs.IsClientClosed() {
			return nil
		}
		fs.EachError(func(t string, p int32, err error) {
			if !errors.Is(err, context.Canceled) {
				slog.Warn("fetch", "topic", t, "partition", p, "error", err)
			}
		})
		recs := fs.Records()
		if len(recs) == 0 {
			continue
		}
		s.firstNanos.CompareAndSwap(0, time.Now().UnixNano())
		// Outputs of the batch live in one reused arena and one reused
		// record slice: both are free again once every ack came back.
		arena = arena[:0]
		if cap(outs) < len(recs) {
			outs = make([]kgo.Record, len(recs))
		}
		outs = outs[:0]
		for _, r := range recs {
			value := r.Value
			if edit != nil {
				start := len(arena)
				next, keep, err := edit(arena, r.Value)
				if err != nil {
					return fmt.Errorf("record %s/%d/%d: %w", r.Topic, r.Partition, r.Offset, err)
				}
				if !keep {
					continue
				}
				arena = next
				value = arena[start:len(arena):len(arena)]
			}
			outs = append(outs, kgo.Record{Topic: s.Out, Key: r.Key, Value: value, Headers: r.Headers, Timestamp: r.Timestamp})
		}
		wg.Add(len(outs))
		for i := range outs {
			cl.Produce(ctx, &outs[i], onDone)
		}
		wg.Wait()
		mu.Lock()
		err := failure
		mu.Unlock()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("produce: %w", err)
		}
		cm.add(recs)
	}
}

// committer commits the offsets handed to it, one synchronous commit at a
// time, each with everything handed over since the previous one.
type committer struct {
	cl    *kgo.Client
	topic string
	mu    sync.Mutex
	next  map[int32]kgo.EpochOffset
	kick  chan struct{}
	quit  chan struct{}
	done  chan struct{}
}

func newCommitter(cl *kgo.Client, topic string) *committer {
	return &committer{cl: cl, topic: topic, next: map[int32]kgo.EpochOffset{},
		kick: make(chan struct{}, 1), quit: make(chan struct{}), done: make(chan struct{})}
}

func (c *committer) add(recs []*kgo.Record) {
	c.mu.Lock()
	for _, r := range recs {
		if cur, ok := c.next[r.Partition]; !ok || r.Offset+1 > cur.Offset {
			c.next[r.Partition] = kgo.EpochOffset{Epoch: r.LeaderEpoch, Offset: r.Offset + 1}
		}
	}
	c.mu.Unlock()
	select {
	case c.kick <- struct{}{}:
	default:
	}
}

func (c *committer) run() {
	defer close(c.done)
	for {
		select {
		case <-c.kick:
			c.commit()
		case <-c.quit:
			c.commit()
			return
		}
	}
}

func (c *committer) commit() {
	c.mu.Lock()
	offsets := c.next
	c.next = map[int32]kgo.EpochOffset{}
	c.mu.Unlock()
	if len(offsets) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c.cl.CommitOffsetsSync(ctx, map[string]map[int32]kgo.EpochOffset{c.topic: offsets}, nil)
}

func (c *committer) stop() {
	close(c.quit)
	<-c.done
}

// --- W0 ---------------------------------------------------------------------

// runW0 is a plain Watermill router over watermill-kafka with its defaults:
// DefaultSaramaSubscriberConfig (protocol version raised to 3.6, which
// Kafka 4 requires, and OffsetOldest so that the group reads the preloaded
// records), DefaultSaramaSyncPublisherConfig, DefaultMarshaler, and a
// handler doing the chain with encoding/json.
func runW0(ctx context.Context, s *stage) error {
	logger := watermill.NopLogger{}
	subCfg := wmkafka.DefaultSaramaSubscriberConfig()
	subCfg.Version = sarama.V3_6_0_0
	subCfg.Consumer.Offsets.Initial = sarama.OffsetOldest
	sub, err := wmkafka.NewSubscriber(wmkafka.SubscriberConfig{
		Brokers:               s.Brokers,
		Unmarshaler:           wmkafka.DefaultMarshaler{},
		OverwriteSaramaConfig: subCfg,
		ConsumerGroup:         s.Group,
	}, logger)
	if err != nil {
		return err
	}
	pubCfg := wmkafka.DefaultSaramaSyncPublisherConfig()
	pubCfg.Version = sarama.V3_6_0_0
	pub, err := wmkafka.NewPublisher(wmkafka.PublisherConfig{
		Brokers:               s.Brokers,
		Marshaler:             wmkafka.DefaultMarshaler{},
		OverwriteSaramaConfig: pubCfg,
	}, logger)
	if err != nil {
		return err
	}
	router, err := message.NewRouter(message.RouterConfig{}, logger)
	if err != nil {
		return err
	}
	router.AddHandler("w0", s.In, sub, s.Out, pub, func(msg *message.Message) ([]*message.Message, error) {
		if s.handled.Add(1) == 1 {
			s.firstNanos.Store(time.Now().UnixNano())
		}
		out, keep, err := editStdlibPlain(nil, msg.Payload)
		if err != nil || !keep {
			return nil, err
		}
		m := message.NewMessage(watermill.NewUUID(), out)
		for k, v := range msg.Metadata {
			m.Metadata.Set(k, v)
		}
		return []*message.Message{m}, nil
	})
	err = router.Run(ctx)
	return errors.Join(err, pub.Close())
}

// --- Millrace ---------------------------------------------------------------

// millraceConfig is the benchmark pipeline as a user writes it.
func millraceConfig(s *stage, ordering string) string {
	var clients, input string // kafka.producer and kafka.consumer; input's settings
	if d := s.Tuning.Linger; d > 0 {
		clients = fmt.Sprintf("  producer:\n    linger: %s\n", d)
	}
	if n := s.Tuning.FetchMaxPartitionBytes; n > 0 {
		clients += fmt.Sprintf("  consumer:\n    fetch_max_partition_bytes: %d\n", n)
	}
	if d := s.Tuning.CommitInterval; d > 0 {
		input = fmt.Sprintf(", commit_interval: %s", d)
	}
	if n := s.Tuning.MaxInFlight; n > 0 {
		input += fmt.Sprintf(", max_in_flight: %d", n)
	}
	if r := s.Tuning.RateLimit; r > 0 {
		input += fmt.Sprintf(", rate_limit: %g", r)
	}
	return fmt.Sprintf(`version: 1
kafka:
  brokers: [%q]
  client_id: millrace-bench
  topics: {create: true, partitions: %d}
%sadmin:
  address: 127.0.0.1:0
pipelines:
  - name: bench-%s
    input: {topic: %q, group: %q, start: oldest, ordering: %s%s}
    transforms:
      - filter: 'amount > 0'
      - set: {total_cents: 'int(amount * 100)'}
      - rename: {user: user_id}
      - drop: [debug]
    output: {topic: %q}
    errors: {dead_letter_topic: %q}
`, s.Brokers[0], partitions, clients, ordering, s.In, s.Group, ordering, input, s.Out, s.DLQ)
}

// runMillrace runs Millrace in process on the YAML of millraceConfig. Its
// admin server is on, as by default (on a free port): so are the metrics,
// which every record updates.
func runMillrace(ctx context.Context, s *stage, ordering string) error {
	cfg, err := config.Parse("bench.yaml", []byte(millraceConfig(s, ordering)), config.Options{})
	if err != nil {
		return err
	}
	r, err := pipeline.New(cfg, pipeline.Options{Logger: slog.New(slog.DiscardHandler), KafkaHooks: []kgo.Hook{s.Requests}})
	if err != nil {
		return err
	}
	return r.Run(ctx)
}
