// Package verify is the fault matrix's independent checker. It writes the
// input records and reads every output and dead letter back with franz-go
// directly, and it imports nothing of Millrace: a bug in Millrace's Kafka
// code cannot hide itself from the check.
//
// Every input record is a JSON object with a global id, a key (also the
// Kafka record key) and the key's sequence number:
//
//	{"id":1234,"key":"k-17","seq":56,"poison":false,"pad":"..."}
//
// The pipeline under test keeps these three fields (its transforms add or
// drop others); a dead letter carries the input unchanged. The verifier
// reports:
//
//   - missing: ids that were input (acknowledged by the brokers) but are in
//     neither the outputs nor the dead letters;
//   - duplicates: every copy of an id beyond the first, in total and the
//     most copies of one id;
//   - order skips: a record of a key seen before an earlier record of the
//     same key that had never been seen (a gap in the key's sequence);
//   - order rewinds: an earlier record of a key seen again after a later one
//     (a redelivery after a crash or a rebalance: allowed under
//     at-least-once);
//   - never input: outputs that are not JSON with an id, or whose id was
//     never input.
//
// Order is checked per key on the output topic (a key maps to one
// partition of it) in offset order, over the records that are not poison
// or big: those go to the dead-letter topic instead, and the gap they
// leave in the output is no skip.
package verify

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// Input is one record as the verifier wrote it.
type Input struct {
	ID     int64  `json:"id"`
	Key    string `json:"key"`
	Seq    int64  `json:"seq"`
	Poison bool   `json:"poison,omitempty"`
	// Big records get a pipeline under test to make an output larger
	// than the brokers take: they belong in the dead-letter topic too.
	Big bool   `json:"big"`
	Pad string `json:"pad,omitempty"`
}

// Dead says the record belongs in the dead-letter topic.
func (in Input) Dead() bool { return in.Poison || in.Big }

// Gen makes input records: ids counting from 0, keys k-0 .. k-(Keys-1)
// round-robin with a random start, a sequence per key.
type Gen struct {
	Keys int
	// Poison, if set, says which records are poison (the pipeline under
	// test fails them: they belong in the dead-letter topic).
	Poison func(Input) bool
	// Pad is the size of the padding field, to make records larger.
	Pad int
	// Big, if set, says which records are big, with a padding of BigPad.
	Big    func(Input) bool
	BigPad int

	mu   sync.Mutex
	next int64
	seqs map[string]int64
	pad  string
}

// Next returns the next input record and its Kafka record.
func (g *Gen) Next(topic string) (Input, *kgo.Record) {
	g.mu.Lock()
	if g.seqs == nil {
		g.seqs = map[string]int64{}
		g.pad = strings.Repeat("p", g.Pad)
	}
	id := g.next
	g.next++
	key := fmt.Sprintf("k-%d", rand.IntN(max(1, g.Keys)))
	seq := g.seqs[key]
	g.seqs[key] = seq + 1
	g.mu.Unlock()
	in := Input{ID: id, Key: key, Seq: seq, Pad: g.pad}
	if g.Poison != nil {
		in.Poison = g.Poison(in)
	}
	if g.Big != nil && g.Big(in) {
		// Random letters: a compressed batch stays as large.
		b := make([]byte, g.BigPad)
		for i := range b {
			b[i] = byte('a' + rand.IntN(26))
		}
		in.Big, in.Pad = true, string(b)
	}
	v, _ := json.Marshal(in)
	return in, &kgo.Record{Topic: topic, Key: []byte(key), Value: v}
}

// Ledger is what was input: the records the brokers acknowledged, and the
// ids whose produce failed (they may or may not have been written).
type Ledger struct {
	mu      sync.Mutex
	acked   map[int64]Input
	at      map[int64]Position
	unknown map[int64]bool
}

// Position is where an input record was written.
type Position struct {
	Partition int32
	Offset    int64
}

func NewLedger() *Ledger {
	return &Ledger{acked: map[int64]Input{}, at: map[int64]Position{}, unknown: map[int64]bool{}}
}

func (l *Ledger) add(in Input, r *kgo.Record, err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if err != nil {
		l.unknown[in.ID] = true
		return
	}
	l.acked[in.ID] = in
	l.at[in.ID] = Position{r.Partition, r.Offset}
}

// Subset is a ledger of the inputs for which keep holds: what a bounded
// replay of a range of the input must write.
func (l *Ledger) Subset(keep func(Input, Position) bool) *Ledger {
	l.mu.Lock()
	defer l.mu.Unlock()
	sub := NewLedger()
	for id, in := range l.acked {
		if keep(in, l.at[id]) {
			sub.acked[id], sub.at[id] = in, l.at[id]
		}
	}
	return sub
}

// Find returns where the acknowledged inputs for which match holds were
// written, by id.
func (l *Ledger) Find(match func(Input) bool) map[int64]Position {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := map[int64]Position{}
	for id, in := range l.acked {
		if match(in) {
			out[id] = l.at[id]
		}
	}
	return out
}

// Len is the number of acknowledged inputs.
func (l *Ledger) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.acked)
}

// Producer writes inputs with its own franz-go client (idempotent, acks
// all, retrying without a time limit, so that it waits through a broker
// bounce).
type Producer struct {
	cl     *kgo.Client
	topic  string
	gen    *Gen
	ledger *Ledger
	sent   atomic.Int64
}

func NewProducer(brokers []string, topic string, gen *Gen, ledger *Ledger) (*Producer, error) {
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.ProducerLinger(5*time.Millisecond),
		kgo.MaxBufferedRecords(50_000), kgo.RecordPartitioner(kgo.StickyKeyPartitioner(nil)))
	if err != nil {
		return nil, err
	}
	return &Producer{cl: cl, topic: topic, gen: gen, ledger: ledger}, nil
}

// Produce writes n records and waits for every acknowledgement.
func (p *Producer) Produce(ctx context.Context, n int) error {
	var wg sync.WaitGroup
	var first atomic.Pointer[error]
	for range n {
		in, r := p.gen.Next(p.topic)
		wg.Add(1)
		p.cl.Produce(ctx, r, func(r *kgo.Record, err error) {
			defer wg.Done()
			p.ledger.add(in, r, err)
			if err != nil {
				first.CompareAndSwap(nil, &err)
			}
		})
		p.sent.Add(1)
	}
	wg.Wait()
	if e := first.Load(); e != nil {
		return *e
	}
	return nil
}

// Live writes about rate records a second until ctx ends, then waits for
// the acknowledgements of what it wrote.
func (p *Producer) Live(ctx context.Context, rate int) {
	var wg sync.WaitGroup
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	per := max(1, rate/100)
	for {
		select {
		case <-ctx.Done():
			wg.Wait()
			return
		case <-tick.C:
		}
		for range per {
			in, r := p.gen.Next(p.topic)
			wg.Add(1)
			// Not ctx: a record handed over is waited for, so that the
			// ledger knows whether it was written.
			p.cl.Produce(context.Background(), r, func(r *kgo.Record, err error) {
				defer wg.Done()
				p.ledger.add(in, r, err)
			})
		}
	}
}

func (p *Producer) Close() { p.cl.Close() }

// Report is the verifier's findings.
type Report struct {
	Input        int // records acknowledged as input
	Outputs      int // records read from the output topics
	DeadLetters  int // records read from the dead-letter topic
	Missing      int // input ids in neither
	MissingIDs   []int64
	Duplicates   int // copies beyond the first, outputs and dead letters together
	MaxCopies    int // most copies of one id
	Skips        int // per-key order skips
	Rewinds      int // per-key rewinds (allowed): times a key went back
	NeverInput   int // outputs that were never input
	PoisonInOut  int // poison records found in the outputs
	CleanInDead  int // records that are not poison found in the dead letters
	SkipExamples []string
}

func (r Report) String() string {
	return fmt.Sprintf("input %d, outputs %d, dead letters %d: missing %d, duplicates %d (max %d copies of one id), order skips %d, rewinds %d, never input %d",
		r.Input, r.Outputs, r.DeadLetters, r.Missing, r.Duplicates, r.MaxCopies, r.Skips, r.Rewinds, r.NeverInput)
}

// Check reads the output topics and the dead-letter topic (empty: none)
// from their start to their end offsets as of the call, and checks them
// against the ledger.
func Check(ctx context.Context, brokers []string, ledger *Ledger, outputs []string, deadLetter string) (Report, error) {
	outs, err := ReadAll(ctx, brokers, outputs...)
	if err != nil {
		return Report{}, err
	}
	var dead []*kgo.Record
	if deadLetter != "" {
		if dead, err = ReadAll(ctx, brokers, deadLetter); err != nil {
			return Report{}, err
		}
	}
	return check(ledger, outs, dead), nil
}

func check(ledger *Ledger, outs, dead []*kgo.Record) Report {
	ledger.mu.Lock()
	defer ledger.mu.Unlock()
	rep := Report{Input: len(ledger.acked), Outputs: len(outs), DeadLetters: len(dead)}
	copies := map[int64]int{}
	seen := func(r *kgo.Record) (Input, bool) {
		var in Input
		if err := json.Unmarshal(r.Value, &in); err != nil || !strings.Contains(string(r.Value), `"id"`) {
			rep.NeverInput++
			return in, false
		}
		want, ok := ledger.acked[in.ID]
		if !ok && !ledger.unknown[in.ID] {
			rep.NeverInput++
			return in, false
		}
		if ok && (want.Key != in.Key || want.Seq != in.Seq) {
			rep.NeverInput++ // an id with another key or sequence was never input
			return in, false
		}
		copies[in.ID]++
		return in, true
	}
	for _, r := range dead {
		if in, ok := seen(r); ok && !in.Dead() {
			rep.CleanInDead++
		}
	}
	// Per key: the ranks of its clean records in sequence order, so that
	// the gaps poison records leave are no skips.
	rank := map[string]map[int64]int{}
	byKey := map[string][]int64{}
	for _, in := range ledger.acked {
		if !in.Dead() {
			byKey[in.Key] = append(byKey[in.Key], in.Seq)
		}
	}
	for k, seqs := range byKey {
		slices.Sort(seqs)
		m := make(map[int64]int, len(seqs))
		for i, s := range seqs {
			m[s] = i
		}
		rank[k] = m
	}
	// Records whose produce failed may or may not be in the input: they
	// have no rank, and their keys' order is checked around them.
	high := map[string]int{} // per key: the highest rank seen
	last := map[string]int{} // per key: the rank seen last
	for _, r := range outs {
		in, ok := seen(r)
		if !ok {
			continue
		}
		if in.Dead() {
			rep.PoisonInOut++
			continue
		}
		rk, ok := rank[in.Key][in.Seq]
		if !ok {
			continue
		}
		h, any := high[in.Key]
		if !any {
			h = -1
		}
		switch {
		case rk == h+1:
			high[in.Key] = rk
		case rk <= h:
			if l, ok := last[in.Key]; !ok || rk != l+1 {
				rep.Rewinds++ // a rewind starts; its replay counts once
			}
		default:
			rep.Skips++
			if len(rep.SkipExamples) < 5 {
				rep.SkipExamples = append(rep.SkipExamples, fmt.Sprintf("key %s: seq %d (rank %d) after rank %d, partition %d offset %d", in.Key, in.Seq, rk, h, r.Partition, r.Offset))
			}
			high[in.Key] = rk
		}
		last[in.Key] = rk
	}
	for id, n := range copies {
		if n > 1 {
			rep.Duplicates += n - 1
			rep.MaxCopies = max(rep.MaxCopies, n)
		}
		if n == 1 {
			rep.MaxCopies = max(rep.MaxCopies, 1)
		}
		_ = id
	}
	for id := range ledger.acked {
		if copies[id] == 0 {
			rep.Missing++
			if len(rep.MissingIDs) < 20 {
				rep.MissingIDs = append(rep.MissingIDs, id)
			}
		}
	}
	slices.Sort(rep.MissingIDs)
	return rep
}

// ReadAll reads topics from their start up to their end offsets as of the
// call, partition by partition in offset order.
func ReadAll(ctx context.Context, brokers []string, topics ...string) ([]*kgo.Record, error) {
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.FetchMaxBytes(32<<20))
	if err != nil {
		return nil, err
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	ends, err := adm.ListEndOffsets(ctx, topics...)
	if err != nil {
		return nil, err
	}
	if err := ends.Error(); err != nil {
		return nil, err
	}
	starts, err := adm.ListStartOffsets(ctx, topics...)
	if err != nil {
		return nil, err
	}
	left := map[string]map[int32]int64{}
	offsets := map[string]map[int32]kgo.Offset{}
	total := 0
	ends.Each(func(o kadm.ListedOffset) {
		s, _ := starts.Lookup(o.Topic, o.Partition)
		if o.Offset <= s.Offset {
			return
		}
		if left[o.Topic] == nil {
			left[o.Topic], offsets[o.Topic] = map[int32]int64{}, map[int32]kgo.Offset{}
		}
		left[o.Topic][o.Partition] = o.Offset
		offsets[o.Topic][o.Partition] = kgo.NewOffset().At(s.Offset)
		total++
	})
	if total == 0 {
		return nil, nil
	}
	cl.AddConsumePartitions(offsets)
	var recs []*kgo.Record
	for total > 0 {
		fs := cl.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("read %v: %d partition(s) not read to their end: %w", topics, total, err)
		}
		fs.EachError(func(t string, p int32, err error) {
			if err != context.Canceled {
				// Transient (a bounce): the client retries.
				_ = err
			}
		})
		fs.EachRecord(func(r *kgo.Record) {
			end, ok := left[r.Topic][r.Partition]
			if !ok || r.Offset >= end {
				return
			}
			recs = append(recs, r)
			if r.Offset == end-1 {
				delete(left[r.Topic], r.Partition)
				total--
			}
		})
	}
	// Offset order within a partition, as fetched; partitions apart.
	slices.SortStableFunc(recs, func(a, b *kgo.Record) int {
		if c := strings.Compare(a.Topic, b.Topic); c != 0 {
			return c
		}
		if a.Partition != b.Partition {
			return int(a.Partition - b.Partition)
		}
		return int(a.Offset - b.Offset)
	})
	return recs, nil
}
