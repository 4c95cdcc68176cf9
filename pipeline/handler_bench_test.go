package pipeline

import (
	"log/slog"
	"strconv"
	"testing"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/millrace-dev/millrace/pipeline/config"
	"github.com/millrace-dev/millrace/pipeline/kafka"
)

// benchConfig is test/bench's pipeline.
const benchConfig = `version: 1
kafka: {brokers: ["127.0.0.1:1"]}
admin: {address: "off"}
pipelines:
  - name: bench
    input: {topic: in, group: g}
    transforms:
      - filter: 'amount > 0'
      - set: {total_cents: 'int(amount * 100)'}
      - rename: {user: user_id}
      - drop: [debug]
    output: {topic: out}
    errors: {dead_letter_topic: dlq}
`

const benchEvent = `{"id":"evt-0000000042","user":"user-01337","amount":129.90,"currency":"EUR","country":"DE","status":"paid","channel":"web","items":3,"debug":{"trace":"9f86d081884c7d65","sampled":false,"host":"worker-07"},"ts":1709283600123}`

// BenchmarkRecordPath measures what a worker does for one record of the
// benchmark's pipeline, without Kafka: the message as the subscriber
// builds it, the middleware, decode, chain, encode. Compare runs with
// -benchmem; the end-to-end figures are test/bench's.
func BenchmarkRecordPath(b *testing.B) {
	cfg, err := config.Parse("bench.yaml", []byte(benchConfig), config.Options{})
	if err != nil {
		b.Fatal(err)
	}
	r, err := New(cfg, Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatal(err)
	}
	p := cfg.Pipelines[0]
	parts, err := cfg.Build(p, config.BuildOptions{})
	if err != nil {
		b.Fatal(err)
	}
	pp := &pipe{cfg: p, parts: parts, log: r.log}
	mw, err := r.middleware(p, nil, func() {}, false)
	if err != nil {
		b.Fatal(err)
	}
	h := compose(mw, pp.process)
	payload := []byte(benchEvent)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		msg := message.NewMessage("in/0/"+strconv.Itoa(i), payload)
		msg.Metadata = message.Metadata{"source": "bench", kafka.MetaKey: "user-01337", kafka.MetaTimestamp: "1709283600123",
			kafka.MetaTopic: "in", kafka.MetaPartition: "0", kafka.MetaOffset: strconv.Itoa(i)}
		outs, err := h(msg)
		if err != nil || len(outs) != 1 {
			b.Fatalf("%d outputs, %v", len(outs), err)
		}
	}
}
