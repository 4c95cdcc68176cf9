// Package configtest runs config unit tests: it feeds a test's records to
// the pipeline's engine — the record path `run` uses: chain, middleware,
// dead-letter path — with a producer that keeps what is written in memory
// instead of Kafka, and compares what comes out with what the test
// expects. Every case gets freshly built parts, so that transforms with
// state (dedupe) start empty in each.
package configtest

import (
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/millrace-dev/millrace/pipeline"
	"github.com/millrace-dev/millrace/pipeline/config"
	"github.com/millrace-dev/millrace/pipeline/engine"
)

// Result is the outcome of one test.
type Result struct {
	Name     string   `json:"name"`
	Pipeline string   `json:"pipeline"`
	Pos      string   `json:"position"`
	Passed   bool     `json:"passed"`
	Failures []string `json:"failures,omitempty"`
}

// Timeout bounds one record of a test: one that is neither written nor
// dead-lettered within it fails the test.
var Timeout = 10 * time.Second

// Run runs every case against cfg and returns one result per case.
func Run(cfg *config.Config, cases []*config.TestCase) []Result {
	results := make([]Result, 0, len(cases))
	for _, tc := range cases {
		res := Result{Name: tc.Name, Pipeline: tc.Pipeline, Pos: tc.Pos.String()}
		got, dlq, err := runCase(cfg, tc)
		if err != nil {
			res.Failures = []string{err.Error()}
		} else {
			res.Failures = compare(tc, got, dlq)
		}
		res.Passed = len(res.Failures) == 0
		results = append(results, res)
	}
	return results
}

// record is what a pipeline wrote: an output or a dead letter.
type record struct {
	Value   []byte
	Key     []byte
	Headers map[string]string
}

// outputs are the records written per topic, in order.
type outputs map[string][]record

// memory is the producer of a test: it keeps what is written.
type memory struct {
	mu  sync.Mutex
	got outputs
}

func (m *memory) Produce(recs []*engine.Record, done func(error)) {
	m.mu.Lock()
	for _, r := range recs {
		m.got[r.Topic] = append(m.got[r.Topic], record{Value: r.Value, Key: r.Key, Headers: r.Headers.Map()})
	}
	m.mu.Unlock()
	done(nil)
}

func runCase(cfg *config.Config, tc *config.TestCase) (outputs, string, error) {
	var p *config.Pipeline
	for _, cp := range cfg.Pipelines {
		if cp.Name == tc.Pipeline {
			p = cp
		}
	}
	if p == nil {
		return nil, "", fmt.Errorf("unknown pipeline %q", tc.Pipeline)
	}
	sink := &memory{got: outputs{}}
	var stopped error
	eng, closeParts, err := pipeline.Engine(cfg, p, pipeline.EngineOptions{
		Producer:   sink,
		Halt:       func(err error) { stopped = err },
		Subscriber: "configtest",
		Logger:     slog.New(slog.DiscardHandler),
	})
	if err != nil {
		return nil, "", err
	}
	defer closeParts()
	now := time.Now()
	for i, in := range tc.Inputs {
		rec := &engine.Record{Topic: p.Input.Topic, Offset: int64(i), Key: in.Key, Value: in.Value,
			Headers: in.Headers.Clone(), Timestamp: now}
		result := make(chan engine.Result, 1)
		eng.Process(rec, func(res engine.Result) { result <- res })
		select {
		case res := <-result:
			if !res.Done {
				if stopped != nil {
					return nil, "", fmt.Errorf("the pipeline stopped: %v", stopped)
				}
				return nil, "", fmt.Errorf("input %d was not processed: %w", i, orUnknown(res.Err))
			}
		case <-time.After(Timeout):
			return nil, "", fmt.Errorf("timed out after %s: a record was neither written nor dead-lettered", Timeout)
		}
	}
	return sink.got, p.Errors.DeadLetterTopic, nil
}

func orUnknown(err error) error {
	if err == nil {
		return errors.New("unknown reason")
	}
	return err
}
