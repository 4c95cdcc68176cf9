package replay

import (
	"strconv"
	"strings"
	"sync"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/millrace-dev/millrace/pipeline/kafka"
)

// countingPublisher sits between the pipeline's handler and the Kafka
// publisher. It redirects outputs to toTopic when set, and counts what was
// acknowledged: outputs per topic, and per input partition the inputs that
// were written and those dead-lettered. With next nil (a dry run) it
// publishes nothing and counts what would have been written.
//
// The pipeline's handler publishes all outputs of one input in one call,
// each carrying its topic in kafka.MetaDestination; the poison-queue
// middleware publishes a dead letter (the input message itself, which has
// no destination) to the dead-letter topic. That is how the two are told
// apart.
type countingPublisher struct {
	next    message.Publisher
	toTopic string

	mu      sync.Mutex
	byTopic map[string]int64
	parts   map[int32]*partitionCounts
}

// partitionCounts are the outcomes of one input partition's records.
type partitionCounts struct {
	outputs      int64 // output records written
	written      int64 // inputs with at least one output written
	deadLettered int64 // inputs written to the dead-letter topic
}

func newCountingPublisher(next message.Publisher, toTopic string) *countingPublisher {
	return &countingPublisher{next: next, toTopic: toTopic, byTopic: map[string]int64{}, parts: map[int32]*partitionCounts{}}
}

func (c *countingPublisher) Publish(topic string, msgs ...*message.Message) error {
	if len(msgs) == 0 {
		return nil
	}
	dead := msgs[0].Metadata.Get(kafka.MetaDestination) == ""
	if !dead && c.toTopic != "" {
		for _, m := range msgs {
			m.Metadata.Set(kafka.MetaDestination, c.toTopic)
		}
	}
	if c.next != nil {
		if err := c.next.Publish(topic, msgs...); err != nil {
			return err
		}
	}
	part := inputPartition(msgs[0].UUID)
	c.mu.Lock()
	defer c.mu.Unlock()
	pc := c.parts[part]
	if pc == nil {
		pc = &partitionCounts{}
		c.parts[part] = pc
	}
	if dead {
		pc.deadLettered++
		return nil
	}
	pc.written++
	for _, m := range msgs {
		c.byTopic[m.Metadata.Get(kafka.MetaDestination)]++
		pc.outputs++
	}
	return nil
}

func (c *countingPublisher) Close() error {
	if c.next == nil {
		return nil
	}
	return c.next.Close()
}

// counts returns a copy of the counts.
func (c *countingPublisher) counts() (map[string]int64, map[int32]partitionCounts) {
	c.mu.Lock()
	defer c.mu.Unlock()
	byTopic := make(map[string]int64, len(c.byTopic))
	for t, n := range c.byTopic {
		byTopic[t] = n
	}
	parts := make(map[int32]partitionCounts, len(c.parts))
	for p, pc := range c.parts {
		parts[p] = *pc
	}
	return byTopic, parts
}

// inputPartition reads the input partition from a message UUID:
// topic/partition/offset, with "#i" appended for the outputs of a split
// (kafka.Marshaler.Unmarshal and the pipeline's handler make them so).
func inputPartition(uuid string) int32 {
	id, _, _ := strings.Cut(uuid, "#")
	rest, _, ok := cutLast(id, "/")
	if !ok {
		return -1
	}
	_, ps, ok := cutLast(rest, "/")
	if !ok {
		return -1
	}
	p, err := strconv.ParseInt(ps, 10, 32)
	if err != nil {
		return -1
	}
	return int32(p)
}

func cutLast(s, sep string) (string, string, bool) {
	i := strings.LastIndex(s, sep)
	if i < 0 {
		return s, "", false
	}
	return s[:i], s[i+len(sep):], true
}
