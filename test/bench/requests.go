package main

import (
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// clientRequests counts what a scenario's franz-go clients ask of the
// brokers during its drain (a kgo hook; Millrace's clients take it through
// pipeline.Options.KafkaHooks). The broker's CPU per record follows from
// these: every produce request, and every partition's batch in it, is work
// for the broker however few records it holds. W0 (Sarama) and KS (Java)
// are not counted.
type clientRequests struct {
	produce, fetch, commit atomic.Int64 // requests written
	batches, batchRecords  atomic.Int64 // produced record batches and their records
}

var (
	produceKey = (&kmsg.ProduceRequest{}).Key()
	fetchKey   = (&kmsg.FetchRequest{}).Key()
	commitKey  = (&kmsg.OffsetCommitRequest{}).Key()
)

func (c *clientRequests) OnBrokerWrite(_ kgo.BrokerMetadata, key int16, _ int, _, _ time.Duration, err error) {
	if err != nil {
		return
	}
	switch key {
	case produceKey:
		c.produce.Add(1)
	case fetchKey:
		c.fetch.Add(1)
	case commitKey:
		c.commit.Add(1)
	}
}

func (c *clientRequests) OnProduceBatchWritten(_ kgo.BrokerMetadata, _ string, _ int32, m kgo.ProduceBatchMetrics) {
	c.batches.Add(1)
	c.batchRecords.Add(int64(m.NumRecords))
}

// requestCounts are clientRequests' counts at one moment.
type requestCounts struct{ produce, fetch, commit, batches, batchRecords int64 }

func (c *clientRequests) snapshot() requestCounts {
	return requestCounts{c.produce.Load(), c.fetch.Load(), c.commit.Load(), c.batches.Load(), c.batchRecords.Load()}
}

// fill puts the counts, per million input records, in res.
func (c requestCounts) fill(res *Result, records int64) {
	if c.produce == 0 && c.fetch == 0 {
		return // not a counted scenario
	}
	per := func(n int64) float64 { return float64(n) / float64(records) * 1e6 }
	res.ProduceRequestsPerMillion = per(c.produce)
	res.FetchRequestsPerMillion = per(c.fetch)
	res.CommitRequestsPerMillion = per(c.commit)
	res.BatchesPerMillion = per(c.batches)
	if c.batches > 0 {
		res.RecordsPerBatch = float64(c.batchRecords) / float64(c.batches)
	}
}
