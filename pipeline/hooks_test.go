package pipeline_test

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/millrace-dev/millrace/pipeline"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// batchCounter is a franz-go hook that counts requests by key and the
// records of produced batches by topic.
type batchCounter struct {
	mu      sync.Mutex
	writes  map[int16]int
	records map[string]int
}

func (c *batchCounter) OnBrokerWrite(_ kgo.BrokerMetadata, key int16, _ int, _, _ time.Duration, err error) {
	if err == nil {
		c.mu.Lock()
		c.writes[key]++
		c.mu.Unlock()
	}
}

func (c *batchCounter) OnProduceBatchWritten(_ kgo.BrokerMetadata, topic string, _ int32, m kgo.ProduceBatchMetrics) {
	c.mu.Lock()
	c.records[topic] += m.NumRecords
	c.mu.Unlock()
}

// Options.KafkaHooks reach the runner's clients: the hook sees the
// pipeline's fetches and commits, and the batches it produced hold
// exactly the records another client reads from the output topic.
func TestKafkaHooks(t *testing.T) {
	addr, cfg, cl := runnerCluster(t, "millrace")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	const n = 50
	var recs []*kgo.Record
	for i := range n {
		recs = append(recs, &kgo.Record{Topic: "in", Key: fmt.Appendf(nil, "k%d", i), Value: fmt.Appendf(nil, `{"amount":%d}`, i%5)})
	}
	if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
	want := 0 // amount > 0 passes the filter
	for i := range n {
		if i%5 > 0 {
			want++
		}
	}

	hook := &batchCounter{writes: map[int16]int{}, records: map[string]int{}}
	r, err := pipeline.New(cfg, pipeline.Options{Logger: slog.New(slog.DiscardHandler), KafkaHooks: []kgo.Hook{hook}})
	if err != nil {
		t.Fatal(err)
	}
	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	ran := make(chan error, 1)
	go func() { ran <- r.Run(runCtx) }()

	reader, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.ConsumeTopics("out"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer reader.Close()
	got := 0
	for got < want {
		fs := reader.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("read %d of %d outputs: %v", got, want, ctx.Err())
		}
		got += fs.NumRecords()
	}
	stop() // a clean stop commits what was done
	if err := <-ran; err != nil {
		t.Fatalf("run: %v", err)
	}
	hook.mu.Lock()
	defer hook.mu.Unlock()
	if hook.records["out"] != got {
		t.Errorf("the hook saw %d records produced to out, another client read %d", hook.records["out"], got)
	}
	for _, key := range []int16{(&kmsg.FetchRequest{}).Key(), (&kmsg.OffsetCommitRequest{}).Key(), (&kmsg.ProduceRequest{}).Key()} {
		if hook.writes[key] == 0 {
			t.Errorf("the hook saw no %s request (it saw %v)", kmsg.NameForKey(key), hook.writes)
		}
	}
}
