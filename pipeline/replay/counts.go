package replay

import (
	"maps"
	"sync"

	"github.com/millrace-dev/millrace/pipeline/engine"
)

// counts tallies how a replay's records were settled: outputs per topic,
// and per input partition the inputs that were written and those
// dead-lettered. A dry run's producer writes nothing, so what it counts is
// what a real run would write.
type counts struct {
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

func newCounts() *counts {
	return &counts{byTopic: map[string]int64{}, parts: map[int32]*partitionCounts{}}
}

// add counts the settled input in.
func (c *counts) add(in *engine.Record, res engine.Result) {
	if !res.Done || len(res.Outputs) == 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	pc := c.parts[in.Partition]
	if pc == nil {
		pc = &partitionCounts{}
		c.parts[in.Partition] = pc
	}
	if res.Dead {
		pc.deadLettered++
		return
	}
	pc.written++
	for _, o := range res.Outputs {
		c.byTopic[o.Topic]++
		pc.outputs++
	}
}

// snapshot returns a copy of the counts.
func (c *counts) snapshot() (map[string]int64, map[int32]partitionCounts) {
	c.mu.Lock()
	defer c.mu.Unlock()
	parts := make(map[int32]partitionCounts, len(c.parts))
	for p, pc := range c.parts {
		parts[p] = *pc
	}
	return maps.Clone(c.byTopic), parts
}

// discard is a dry run's producer.
type discard struct{}

func (discard) Produce(_ []*engine.Record, done func(error)) { done(nil) }
