package main

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// partitions of every topic the benchmark creates.
const partitions = 12

// users is the number of distinct record keys.
const users = 10_000

var (
	currencies = []string{"EUR", "USD", "GBP", "CHF", "SEK"}
	countries  = []string{"DE", "FR", "US", "GB", "NL", "ES", "IT", "PL"}
	statuses   = []string{"paid", "pending", "shipped", "refunded"}
	channels   = []string{"web", "app", "pos"}
)

// gen makes the benchmark's events: about 200 bytes of JSON, keyed by user,
// with an amount that is ≤ 0 for about 10% of them (the filter drops those).
type gen struct {
	rng *rand.Rand
}

func newGen(seed uint64) *gen {
	return &gen{rng: rand.New(rand.NewPCG(seed, 0x6d696c6c72616365))}
}

// event appends the value of event seq to dst and returns it with the key
// and whether it passes the filter.
func (g *gen) event(dst []byte, seq int64, tsMillis int64) (key, value []byte, pass bool) {
	r := g.rng
	user := r.IntN(users)
	var cents int64
	if r.IntN(10) == 0 {
		cents = -r.Int64N(5001) // 0 or negative
	} else {
		cents = 1 + r.Int64N(99_999)
	}
	start := len(dst)
	dst = append(dst, `{"id":"evt-`...)
	dst = appendPadded(dst, seq, 10)
	dst = append(dst, `","user":"user-`...)
	dst = appendPadded(dst, int64(user), 5)
	dst = append(dst, `","amount":`...)
	dst = appendCents(dst, cents)
	dst = append(dst, `,"currency":"`...)
	dst = append(dst, currencies[r.IntN(len(currencies))]...)
	dst = append(dst, `","country":"`...)
	dst = append(dst, countries[r.IntN(len(countries))]...)
	dst = append(dst, `","status":"`...)
	dst = append(dst, statuses[r.IntN(len(statuses))]...)
	dst = append(dst, `","channel":"`...)
	dst = append(dst, channels[r.IntN(len(channels))]...)
	dst = append(dst, `","items":`...)
	dst = strconv.AppendInt(dst, int64(1+r.IntN(9)), 10)
	dst = append(dst, `,"debug":{"trace":"`...)
	dst = appendHex(dst, r.Uint64())
	dst = append(dst, `","sampled":`...)
	dst = strconv.AppendBool(dst, r.IntN(100) == 0)
	dst = append(dst, `,"host":"worker-`...)
	dst = appendPadded(dst, int64(r.IntN(32)), 2)
	dst = append(dst, `"},"ts":`...)
	dst = strconv.AppendInt(dst, tsMillis, 10)
	dst = append(dst, '}')
	value = dst[start:len(dst):len(dst)]
	key = appendPadded(append(make([]byte, 0, 10), "user-"...), int64(user), 5)
	return key, value, cents > 0
}

func appendPadded(dst []byte, n int64, width int) []byte {
	var buf [20]byte
	s := strconv.AppendInt(buf[:0], n, 10)
	for i := len(s); i < width; i++ {
		dst = append(dst, '0')
	}
	return append(dst, s...)
}

func appendCents(dst []byte, cents int64) []byte {
	if cents < 0 {
		dst = append(dst, '-')
		cents = -cents
	}
	dst = strconv.AppendInt(dst, cents/100, 10)
	dst = append(dst, '.')
	return appendPadded(dst, cents%100, 2)
}

func appendHex(dst []byte, v uint64) []byte {
	const digits = "0123456789abcdef"
	for i := 60; i >= 0; i -= 4 {
		dst = append(dst, digits[(v>>uint(i))&0xf])
	}
	return dst
}

// preloadStats describes the input topic after preload.
type preloadStats struct {
	Records  int64   `json:"records"`
	Expected int64   `json:"expected_outputs"` // records that pass the filter
	Bytes    int64   `json:"value_bytes"`
	Seconds  float64 `json:"seconds"`
}

// preload writes n events to topic as fast as it can: asynchronous produce,
// large batches, many records buffered.
func preload(ctx context.Context, brokers []string, topic string, n int64) (preloadStats, error) {
	cl, err := kgo.NewClient(
		kgo.SeedBrokers(brokers...),
		kgo.ClientID("millrace-bench-preload"),
		kgo.DefaultProduceTopic(topic),
		kgo.ProducerLinger(20*time.Millisecond),
		kgo.MaxBufferedRecords(250_000),
		kgo.ProducerBatchMaxBytes(1_000_000),
	)
	if err != nil {
		return preloadStats{}, err
	}
	defer cl.Close()
	st := preloadStats{Records: n}
	start := time.Now()
	var (
		mu       sync.Mutex
		firstErr error
		failed   atomic.Bool
	)
	done := func(_ *kgo.Record, err error) {
		if err != nil && !failed.Swap(true) {
			mu.Lock()
			firstErr = err
			mu.Unlock()
		}
	}
	g := newGen(1)
	ts := time.Now().UnixMilli()
	headers := []kgo.RecordHeader{{Key: "source", Value: []byte("bench")}}
	// Values are carved out of large chunks: one allocation per 4 MB.
	var chunk []byte
	for seq := range n {
		if failed.Load() {
			break
		}
		if cap(chunk)-len(chunk) < 512 {
			chunk = make([]byte, 0, 4<<20)
		}
		key, value, pass := g.event(chunk, seq, ts+seq/1000)
		chunk = chunk[:len(chunk)+len(value)]
		if pass {
			st.Expected++
		}
		st.Bytes += int64(len(value))
		cl.Produce(ctx, &kgo.Record{Key: key, Value: value, Headers: headers}, done)
	}
	if err := cl.Flush(ctx); err != nil {
		return st, err
	}
	st.Seconds = time.Since(start).Seconds()
	mu.Lock()
	defer mu.Unlock()
	if firstErr != nil {
		return st, fmt.Errorf("preload %s: %w", topic, firstErr)
	}
	return st, nil
}

// admin wraps a kadm client for the benchmark's topic chores.
type admin struct {
	cl  *kgo.Client
	adm *kadm.Client
}

func newAdmin(brokers []string) (*admin, error) {
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.ClientID("millrace-bench-admin"))
	if err != nil {
		return nil, err
	}
	return &admin{cl: cl, adm: kadm.NewClient(cl)}, nil
}

func (a *admin) Close() { a.cl.Close() }

// createTopics creates topics with 12 partitions and the broker's default
// replication factor; they must not exist yet.
func (a *admin) createTopics(ctx context.Context, topics ...string) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	resp, err := a.adm.CreateTopics(ctx, partitions, -1, nil, topics...)
	if err != nil {
		return fmt.Errorf("create topics: %w", err)
	}
	var errs []error
	for _, r := range resp.Sorted() {
		if r.Err != nil {
			errs = append(errs, fmt.Errorf("create topic %s: %w", r.Topic, r.Err))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	// Wait until every partition has a leader, so that the first produce
	// or fetch does not race the topic's creation.
	for {
		ends, err := a.adm.ListEndOffsets(ctx, topics...)
		if err == nil && ends.Error() == nil && countPartitions(ends) == partitions*len(topics) {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("topics %v not ready: %w", topics, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func countPartitions(l kadm.ListedOffsets) int {
	n := 0
	l.Each(func(kadm.ListedOffset) { n++ })
	return n
}

// deleteTopics deletes topics, ignoring those that do not exist.
func (a *admin) deleteTopics(ctx context.Context, topics ...string) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	resp, err := a.adm.DeleteTopics(ctx, topics...)
	if err != nil {
		return err
	}
	var errs []error
	for _, r := range resp.Sorted() {
		if r.Err != nil && !errors.Is(r.Err, kerr.UnknownTopicOrPartition) {
			errs = append(errs, fmt.Errorf("delete topic %s: %w", r.Topic, r.Err))
		}
	}
	return errors.Join(errs...)
}

// warmGroups commits an offset for a throw-away group and deletes it, so
// that a fresh broker creates its offsets topic (__consumer_offsets) now
// rather than during the first scenario's drain.
func (a *admin) warmGroups(ctx context.Context, group, topic string) error {
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	var offs kadm.Offsets
	offs.Add(kadm.Offset{Topic: topic, Partition: 0, At: 0, LeaderEpoch: -1})
	if err := a.adm.CommitAllOffsets(ctx, group, offs); err != nil {
		return fmt.Errorf("warm-up commit: %w", err)
	}
	a.deleteGroups(ctx, group)
	return nil
}

// deleteGroups deletes consumer groups, ignoring those that do not exist.
func (a *admin) deleteGroups(ctx context.Context, groups ...string) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	_, _ = a.adm.DeleteGroups(ctx, groups...)
}

// endOffsets returns the end offset of each partition of topic.
func (a *admin) endOffsets(ctx context.Context, topic string) (map[int32]int64, error) {
	l, err := a.adm.ListEndOffsets(ctx, topic)
	if err != nil {
		return nil, err
	}
	if err := l.Error(); err != nil {
		return nil, err
	}
	m := map[int32]int64{}
	l.Each(func(o kadm.ListedOffset) { m[o.Partition] = o.Offset })
	return m, nil
}

// sumEnd returns the sum of topic's end offsets: its record count when
// nothing was deleted and no transaction markers were written.
func (a *admin) sumEnd(ctx context.Context, topic string) (int64, error) {
	m, err := a.endOffsets(ctx, topic)
	if err != nil {
		return 0, err
	}
	var n int64
	for _, o := range m {
		n += o
	}
	return n, nil
}

// committed returns how many of the input's records group has committed:
// per partition, min(committed offset, end offset), summed.
func (a *admin) committed(ctx context.Context, group, topic string, ends map[int32]int64) (int64, error) {
	resp, err := a.adm.FetchOffsetsForTopics(ctx, group, topic)
	if err != nil {
		return 0, err
	}
	var n int64
	resp.Each(func(o kadm.OffsetResponse) {
		if o.Err == nil && o.Topic == topic && o.At > 0 {
			n += min(o.At, ends[o.Partition])
		}
	})
	return n, nil
}
