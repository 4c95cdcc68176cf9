package main

import (
	"testing"
	"time"

	"github.com/millrace-dev/millrace/pipeline/config"
)

// TestMillraceTuning: every setting the bench's tuning flags override
// reaches the config the Millrace scenarios run, and unset ones keep the
// config's defaults.
func TestMillraceTuning(t *testing.T) {
	s := &stage{Brokers: []string{"127.0.0.1:9092"}, In: "in", Out: "out", DLQ: "dlq", Group: "g"}
	parse := func() *config.Config {
		t.Helper()
		cfg, err := config.Parse("bench.yaml", []byte(millraceConfig(s, "key")), config.Options{})
		if err != nil {
			t.Fatalf("%v\n%s", err, millraceConfig(s, "key"))
		}
		return cfg
	}
	def := parse()
	s.Tuning = millraceTuning{CommitInterval: 7 * time.Millisecond, Linger: 3 * time.Millisecond,
		MaxInFlight: 512, FetchMaxPartitionBytes: 65536, RateLimit: 1000}
	cfg := parse()
	in := cfg.Pipelines[0].Input
	for _, c := range []struct {
		name      string
		got, want any
		def       any
	}{
		{"linger", cfg.Kafka.ProducerLinger, 3 * time.Millisecond, def.Kafka.ProducerLinger},
		{"fetch_max_partition_bytes", cfg.Kafka.FetchMaxPartitionBytes, 65536, def.Kafka.FetchMaxPartitionBytes},
		{"commit_interval", in.CommitInterval, 7 * time.Millisecond, def.Pipelines[0].Input.CommitInterval},
		{"max_in_flight", in.MaxInFlight, 512, def.Pipelines[0].Input.MaxInFlight},
		{"rate_limit", in.RateLimit, 1000.0, def.Pipelines[0].Input.RateLimit},
	} {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
		if c.def == c.want {
			t.Errorf("%s: the default %v is the tuned value, so the test shows nothing", c.name, c.def)
		}
	}
}
