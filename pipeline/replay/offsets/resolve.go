package offsets

import (
	"context"
	"errors"
	"fmt"
	"github.com/millrace-dev/millrace/transforms/spec"
	"slices"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
)

// Partition is what the brokers hold of one partition.
type Partition struct {
	Partition int32 `json:"partition"`
	// LogStart is the first offset still held (older records were
	// deleted by retention or DeleteRecords).
	LogStart int64 `json:"log_start"`
	// End is the offset the next record will get (the high watermark).
	End int64 `json:"end"`
}

// Topic is a topic's partitions, sorted, as read at one moment.
type Topic struct {
	Name       string
	Partitions []Partition
}

// Partition returns partition p, if the topic has it.
func (t *Topic) Partition(p int32) (Partition, bool) {
	for _, tp := range t.Partitions {
		if tp.Partition == p {
			return tp, true
		}
	}
	return Partition{}, false
}

// IDs lists the partition numbers.
func (t *Topic) IDs() []int32 {
	ids := make([]int32, len(t.Partitions))
	for i, p := range t.Partitions {
		ids[i] = p.Partition
	}
	return ids
}

// UnknownTopicError is a topic that does not exist; Known lists the
// topics that do (internal ones left out), the names closest to Topic
// first. The message shows the first 30.
type UnknownTopicError struct {
	Topic string
	Known []string
}

func (e *UnknownTopicError) Error() string {
	const show = 30
	known := e.Known
	more := ""
	if len(known) > show {
		more = fmt.Sprintf(" and %d more", len(known)-show)
		known = known[:show]
	}
	if len(known) == 0 {
		return fmt.Sprintf("topic %q does not exist; the cluster has no topics", e.Topic)
	}
	return fmt.Sprintf("topic %q does not exist; the cluster has: %s%s", e.Topic, strings.Join(known, ", "), more)
}

// UnknownPartitionError is a partition the topic does not have.
type UnknownPartitionError struct {
	Topic     string
	Partition int32
	Known     []int32
}

func (e *UnknownPartitionError) Error() string {
	ks := make([]string, len(e.Known))
	for i, k := range e.Known {
		ks[i] = fmt.Sprint(k)
	}
	return fmt.Sprintf("topic %q has no partition %d; its partitions are %s", e.Topic, e.Partition, strings.Join(ks, ","))
}

// OutOfRangeError is an offset outside what a partition holds.
type OutOfRangeError struct {
	Topic     string
	Partition int32
	Offset    int64
	LogStart  int64
	End       int64
	// What names the position, such as "--from offset:3".
	What string
}

func (e *OutOfRangeError) Error() string {
	if e.Offset < e.LogStart {
		return fmt.Sprintf("%s: offset %d of %s partition %d is below its log start %d (older records were deleted); the earliest valid offset is %d (oldest)",
			e.What, e.Offset, e.Topic, e.Partition, e.LogStart, e.LogStart)
	}
	return fmt.Sprintf("%s: offset %d of %s partition %d is beyond its end offset %d; the last valid position is %d (end)",
		e.What, e.Offset, e.Topic, e.Partition, e.End, e.End)
}

// NoCommitError is a consumer group without a committed offset for a
// partition.
type NoCommitError struct {
	Group      string
	Topic      string
	Partitions []int32
}

func (e *NoCommitError) Error() string {
	ps := make([]string, len(e.Partitions))
	for i, p := range e.Partitions {
		ps[i] = fmt.Sprint(p)
	}
	return fmt.Sprintf("group %q has no committed offset on %s partition(s) %s; limit the replay with --partitions or start elsewhere",
		e.Group, e.Topic, strings.Join(ps, ","))
}

// Describe reads the log start and end offsets of every partition of topic.
// A topic that does not exist is an *UnknownTopicError.
func Describe(ctx context.Context, adm *kadm.Client, topic string) (*Topic, error) {
	starts, err := adm.ListStartOffsets(ctx, topic)
	if err != nil {
		return nil, fmt.Errorf("list start offsets of %s: %w", topic, err)
	}
	if missing(starts, topic) {
		return nil, unknownTopic(ctx, adm, topic)
	}
	ends, err := adm.ListEndOffsets(ctx, topic)
	if err != nil {
		return nil, fmt.Errorf("list end offsets of %s: %w", topic, err)
	}
	if missing(ends, topic) {
		return nil, unknownTopic(ctx, adm, topic)
	}
	t := &Topic{Name: topic}
	for p, so := range starts[topic] {
		if so.Err != nil {
			return nil, fmt.Errorf("start offset of %s partition %d: %w", topic, p, so.Err)
		}
		eo, ok := ends.Lookup(topic, p)
		if !ok || eo.Err != nil {
			return nil, fmt.Errorf("end offset of %s partition %d: %v", topic, p, eo.Err)
		}
		t.Partitions = append(t.Partitions, Partition{Partition: p, LogStart: so.Offset, End: eo.Offset})
	}
	slices.SortFunc(t.Partitions, func(a, b Partition) int { return int(a.Partition - b.Partition) })
	return t, nil
}

func missing(l kadm.ListedOffsets, topic string) bool {
	ps, ok := l[topic]
	if !ok || len(ps) == 0 {
		return true
	}
	if o, ok := ps[-1]; ok && errors.Is(o.Err, kerr.UnknownTopicOrPartition) {
		return true
	}
	return false
}

func unknownTopic(ctx context.Context, adm *kadm.Client, topic string) error {
	e := &UnknownTopicError{Topic: topic}
	if tds, err := adm.ListTopics(ctx); err == nil {
		for _, td := range tds.Sorted() {
			// The client's metadata lists the topic asked for, with an error.
			if !td.IsInternal && !strings.HasPrefix(td.Topic, "__") && td.Err == nil && td.Topic != topic {
				e.Known = append(e.Known, td.Topic)
			}
		}
	}
	dist := make(map[string]int, len(e.Known))
	for _, k := range e.Known {
		dist[k] = spec.Distance(topic, k)
	}
	slices.SortStableFunc(e.Known, func(a, b string) int { return dist[a] - dist[b] })
	return e
}

// Limit keeps the partitions in ids, or all when ids is empty. A partition
// the topic does not have is an *UnknownPartitionError.
func (t *Topic) Limit(ids []int32) (*Topic, error) {
	if len(ids) == 0 {
		return t, nil
	}
	out := &Topic{Name: t.Name}
	for _, id := range ids {
		p, ok := t.Partition(id)
		if !ok {
			return nil, &UnknownPartitionError{Topic: t.Name, Partition: id, Known: t.IDs()}
		}
		out.Partitions = append(out.Partitions, p)
	}
	return out, nil
}

// Warning is something the user should know about a resolved position,
// such as a time before the first record.
type Warning struct {
	Partition int32
	Msg       string
}

// Positions are resolved offsets by partition.
type Positions map[int32]int64

// ResolveStart resolves where a range begins on each partition of t. With
// PerPartition, only the listed partitions are returned. what names the
// position in errors, such as "--from".
func ResolveStart(ctx context.Context, adm *kadm.Client, t *Topic, s Spec, what string) (Positions, []Warning, error) {
	return resolve(ctx, adm, t, s, what, true)
}

// ResolveEnd resolves where a range ends (exclusive) on each partition of
// t. Partitions a PerPartition spec does not list end at their end offset.
func ResolveEnd(ctx context.Context, adm *kadm.Client, t *Topic, s Spec, what string) (Positions, []Warning, error) {
	return resolve(ctx, adm, t, s, what, false)
}

func resolve(ctx context.Context, adm *kadm.Client, t *Topic, s Spec, what string, start bool) (Positions, []Warning, error) {
	what = what + " " + s.Text
	out := Positions{}
	var warns []Warning
	check := func(p Partition, off int64) error {
		if off < p.LogStart || off > p.End {
			return &OutOfRangeError{Topic: t.Name, Partition: p.Partition, Offset: off, LogStart: p.LogStart, End: p.End, What: what}
		}
		return nil
	}
	switch s.Kind {
	case Oldest:
		for _, p := range t.Partitions {
			out[p.Partition] = p.LogStart
		}
	case Newest:
		for _, p := range t.Partitions {
			out[p.Partition] = p.End
		}
	case Offset:
		for _, p := range t.Partitions {
			if err := check(p, s.Offset); err != nil {
				return nil, nil, err
			}
			out[p.Partition] = s.Offset
		}
	case PerPartition:
		for id := range s.Partitions {
			if _, ok := t.Partition(id); !ok {
				return nil, nil, &UnknownPartitionError{Topic: t.Name, Partition: id, Known: t.IDs()}
			}
		}
		for _, p := range t.Partitions {
			off, ok := s.Partitions[p.Partition]
			if !ok {
				if !start {
					out[p.Partition] = p.End
				}
				continue
			}
			if err := check(p, off); err != nil {
				return nil, nil, err
			}
			out[p.Partition] = off
		}
	case Time:
		listed, err := adm.ListOffsetsAfterMilli(ctx, s.Time.UnixMilli(), t.Name)
		if err != nil {
			return nil, nil, fmt.Errorf("%s: list offsets by time: %w", what, err)
		}
		for _, p := range t.Partitions {
			lo, ok := listed.Lookup(t.Name, p.Partition)
			if !ok || lo.Err != nil {
				return nil, nil, fmt.Errorf("%s: offset by time of partition %d: %v", what, p.Partition, lo.Err)
			}
			off := lo.Offset
			if off < 0 || off > p.End {
				off = p.End // no record at or after the time
			}
			if off < p.LogStart {
				off = p.LogStart
			}
			if start && off == p.LogStart && p.LogStart < p.End && lo.Timestamp > s.Time.UnixMilli() {
				warns = append(warns, Warning{Partition: p.Partition, Msg: fmt.Sprintf(
					"%s is before the first record of partition %d (%s); starting at that record, offset %d",
					what, p.Partition, time.UnixMilli(lo.Timestamp).UTC().Format(time.RFC3339Nano), off)})
			}
			out[p.Partition] = off
		}
	case Group:
		committed, err := adm.FetchOffsetsForTopics(ctx, s.Group, t.Name)
		if errors.Is(err, kerr.GroupIDNotFound) {
			return nil, nil, &NoCommitError{Group: s.Group, Topic: t.Name, Partitions: t.IDs()}
		}
		if err != nil {
			return nil, nil, fmt.Errorf("%s: fetch the offsets of group %q: %w", what, s.Group, err)
		}
		var none []int32
		for _, p := range t.Partitions {
			o, ok := committed.Lookup(t.Name, p.Partition)
			if !ok || o.Err != nil || o.At < 0 {
				none = append(none, p.Partition)
				continue
			}
			if err := check(p, o.At); err != nil {
				return nil, nil, err
			}
			out[p.Partition] = o.At
		}
		if len(none) > 0 {
			return nil, nil, &NoCommitError{Group: s.Group, Topic: t.Name, Partitions: none}
		}
	default:
		return nil, nil, fmt.Errorf("%s: unsupported position", what)
	}
	return out, warns, nil
}
