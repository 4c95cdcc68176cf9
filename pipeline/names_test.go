package pipeline_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/millrace-dev/millrace/pipeline/config"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
)

// syncBuffer is a bytes.Buffer for a logger used from many goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// Names of pipelines and topics are identifiers, not secrets: the run's
// log says which pipeline and topic a failed record belongs to even when
// the names came from the environment (docs/configuration.md,
// Interpolation). The record's value is not logged.
func TestEnvironmentNamesInLogs(t *testing.T) {
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.AllowAutoTopicCreation(), kfake.DefaultNumPartitions(1))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	addr := c.ListenAddrs()[0]
	env := map[string]string{"PIPELINE": "orders-prod", "IN": "orders-prod-in"}
	yaml := fmt.Sprintf(`version: 1
kafka: {brokers: [%q]}
admin: {address: "off"}
pipelines:
  - name: ${PIPELINE}
    input: {topic: "${IN}", start: oldest}
    transforms:
      - filter: 'amount > 0'
    output: {topic: out}
    errors: {dead_letter_topic: dlq}
`, addr)
	cfg, err := config.Parse("p.yaml", []byte(yaml), config.Options{LookupEnv: func(k string) (string, bool) { v, ok := env[k]; return v, ok }})
	if err != nil {
		t.Fatal(err)
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.AllowAutoTopicCreation(), kgo.ConsumeTopics("dlq"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	const value = `{"amount":"card 4111-1111"}`
	if err := cl.ProduceSync(ctx, &kgo.Record{Topic: env["IN"], Value: []byte(value)}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	var logs syncBuffer
	ran, stop := startRun(t, ctx, cfg, slog.New(slog.NewJSONHandler(&logs, nil)))
	for n := 0; n == 0; {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatal("no dead letter before the timeout")
		}
		n = fs.NumRecords()
	}
	stop()
	<-ran
	found := false
	for _, line := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		if m["msg"] == "record failed" {
			found = true
			if m["pipeline"] != env["PIPELINE"] || m["topic"] != env["IN"] {
				t.Errorf("record failed: pipeline %v, topic %v; want the names from the environment", m["pipeline"], m["topic"])
			}
		}
	}
	if !found {
		t.Errorf("no \"record failed\" line in the log:\n%s", logs.String())
	}
	if strings.Contains(logs.String(), "4111") {
		t.Errorf("the record's value is in the log:\n%s", logs.String())
	}
}
