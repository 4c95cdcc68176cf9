package builtin

import (
	"container/list"
	"context"
	"crypto/sha256"
	"sync"
	"time"

	"github.com/millrace-dev/millrace/transforms"
	"github.com/millrace-dev/millrace/transforms/codec"
	"github.com/millrace-dev/millrace/transforms/spec"
)

func init() {
	transforms.Register(transforms.Spec{
		Name:    "dedupe",
		Summary: "Drop records whose key was already seen within a time window.",
		Description: "The `key` expression names what makes records the same, such as " +
			"`event_id` or `user_id + \":\" + string(order_id)`. The first record with a key " +
			"passes; later ones with that key are dropped until `window` has passed since the " +
			"first (repeats do not extend it). A key of `null` is never deduplicated. Time is the " +
			"runner's clock when the record is processed.\n\n" +
			"Memory is bounded: at most `max_entries` keys are remembered (as 32-byte digests), " +
			"and when that is full the oldest is forgotten first, which may let a repeat of it " +
			"through. A record that comes again from the same topic, partition and offset (a " +
			"retry after a failed publish) passes again, so a retry is not lost as a duplicate; " +
			"records fanned out of one input share its position, so repeats among them pass too.\n\n" +
			"The state lives in the memory of one runner process: it is lost on restart, and " +
			"copies of the runner do not share it. Each copy sees only its own partitions, so " +
			"make the Kafka key include the dedupe key to bring repeats to the same partition. " +
			"This is best-effort deduplication, not exactly-once delivery.",
		Config: spec.Object("",
			&spec.Field{Name: "key", Type: spec.Expr(""), Required: true, Doc: "Expression that yields the key records are compared by.", Examples: []any{"event_id"}},
			&spec.Field{Name: "window", Type: spec.Duration(""), Default: "10m", Doc: "How long a key is remembered after it is first seen."},
			&spec.Field{Name: "max_entries", Type: spec.Int(""), Default: 100000, Doc: "Most keys remembered; the oldest is forgotten first."},
		),
		Examples: []transforms.Example{
			{Title: "The first record passes", Config: `{key: event_id, window: 1h}`, Input: `{"event_id":"e-1"}`, Output: []string{`{"event_id":"e-1"}`}},
			{Title: "A null key always passes", Config: `{key: 'order.id'}`, Input: `{"order":{}}`, Output: []string{`{"order":{}}`}},
			{Title: "A failing key expression fails the record", Config: `{key: 'id + 1'}`, Input: `{"id":"x"}`, Error: "invalid operation"},
		},
	}, newDedupe)
}

// dedupeConfig is dedupe's config; its spec declares the defaults.
type dedupeConfig struct {
	Key        *spec.Value
	Window     time.Duration
	MaxEntries int
}

func newDedupe(b *transforms.Build) (transforms.Transform, error) {
	var c dedupeConfig
	if err := b.Decode(&c); err != nil {
		return nil, err
	}
	d := &dedupe{window: c.Window, max: c.MaxEntries, now: time.Now,
		seen: map[[sha256.Size]byte]*list.Element{}, order: list.New()}
	var errs spec.Errors
	p, err := b.Expr(c.Key)
	if err != nil {
		errs.Add(c.Key.Pos, err)
	}
	d.key = p
	if d.window <= 0 {
		errs = append(errs, b.Config.Get("window").Errorf("window must be positive"))
	}
	if d.max < 1 {
		errs = append(errs, b.Config.Get("max_entries").Errorf("max_entries must be at least 1"))
	}
	if err := errs.Err(); err != nil {
		return nil, err
	}
	return d, nil
}

type dedupe struct {
	key    transforms.Program
	window time.Duration
	max    int
	now    func() time.Time

	mu    sync.Mutex
	seen  map[[sha256.Size]byte]*list.Element
	order *list.List // of *dedupeEntry, oldest first
}

type dedupeEntry struct {
	digest [sha256.Size]byte
	at     time.Time
	// Where the first record with the key was read, to let its retries pass.
	topic     string
	partition int32
	offset    int64
}

func (d *dedupe) Apply(_ context.Context, r *transforms.Record) ([]*transforms.Record, error) {
	v, err := d.key.Eval(r)
	if err != nil {
		return nil, err
	}
	if v == nil {
		return r.One(), nil
	}
	digest, err := dedupeDigest(v)
	if err != nil {
		return nil, err
	}
	now := d.now()
	d.mu.Lock()
	defer d.mu.Unlock()
	d.expire(now)
	if el, ok := d.seen[digest]; ok {
		e := el.Value.(*dedupeEntry)
		if r.Source.Topic != "" && e.topic == r.Source.Topic && e.partition == r.Source.Partition && e.offset == r.Source.Offset {
			return r.One(), nil // the same record again: a retry
		}
		return nil, nil
	}
	if d.order.Len() >= d.max {
		d.forget(d.order.Front())
	}
	d.seen[digest] = d.order.PushBack(&dedupeEntry{digest: digest, at: now,
		topic: r.Source.Topic, partition: r.Source.Partition, offset: r.Source.Offset})
	return r.One(), nil
}

// expire forgets the keys first seen a window or more ago. Entries are in
// the order they were added, so the expired ones are at the front.
func (d *dedupe) expire(now time.Time) {
	for el := d.order.Front(); el != nil; el = d.order.Front() {
		if now.Sub(el.Value.(*dedupeEntry).at) < d.window {
			return
		}
		d.forget(el)
	}
}

func (d *dedupe) forget(el *list.Element) {
	delete(d.seen, el.Value.(*dedupeEntry).digest)
	d.order.Remove(el)
}

// dedupeDigest hashes a key; a string and its JSON text differ ("1" and 1).
func dedupeDigest(v any) ([sha256.Size]byte, error) {
	h := sha256.New()
	if s, ok := v.(string); ok {
		h.Write([]byte{'s'})
		h.Write([]byte(s))
	} else {
		b, err := codec.Encode(v)
		if err != nil {
			return [sha256.Size]byte{}, err
		}
		h.Write([]byte{'j'})
		h.Write(b)
	}
	var d [sha256.Size]byte
	h.Sum(d[:0])
	return d, nil
}
