// Package configtest runs config unit tests: it feeds a test's records to the
// real pipeline — chain, middleware, dead-letter path — over an in-memory
// transport instead of Kafka, and compares what comes out with what the test
// expects.
package configtest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/pubsub/gochannel"
	"github.com/millrace-dev/millrace/pipeline"
	"github.com/millrace-dev/millrace/pipeline/config"
	"github.com/millrace-dev/millrace/pipeline/kafka"
)

// Result is the outcome of one test.
type Result struct {
	Name     string   `json:"name"`
	Pipeline string   `json:"pipeline"`
	Pos      string   `json:"position"`
	Passed   bool     `json:"passed"`
	Failures []string `json:"failures,omitempty"`
}

// Timeout bounds one test: a record that neither passes nor fails within it
// (a pipeline stopped without a dead-letter topic) fails the test.
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

// runCase runs one case on a runner of its own, whose router builds fresh
// parts of the pipeline (config.Build): no transform state, such as the
// keys a dedupe step saw, passes from one case to the next.
func runCase(cfg *config.Config, tc *config.TestCase) (outputs, string, error) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	r, err := pipeline.New(cfg, pipeline.Options{Pipelines: []string{tc.Pipeline}, Logger: log})
	if err != nil {
		return nil, "", err
	}
	var p *config.Pipeline
	for _, cp := range cfg.Pipelines {
		if cp.Name == tc.Pipeline {
			p = cp
		}
	}
	bus := gochannel.NewGoChannel(gochannel.Config{Persistent: true, BlockPublishUntilSubscriberAck: true}, watermill.NopLogger{})
	defer bus.Close()

	ctx, cancel := context.WithTimeout(context.Background(), Timeout)
	defer cancel()
	got := outputs{}
	var mu sync.Mutex
	var collectors sync.WaitGroup
	topics := append(p.Output.Topics(), p.Errors.DeadLetterTopic)
	seen := map[string]bool{}
	for _, t := range topics {
		if t == "" || seen[t] {
			continue
		}
		seen[t] = true
		msgs, err := bus.Subscribe(ctx, t)
		if err != nil {
			return nil, "", err
		}
		collectors.Add(1)
		go func() {
			defer collectors.Done()
			for m := range msgs {
				mu.Lock()
				got[t] = append(got[t], toRecord(m))
				mu.Unlock()
				m.Ack()
			}
		}()
	}
	router, err := r.Router(pipeline.DestinationPublisher{Publisher: bus}, func(*config.Pipeline) (message.Subscriber, error) { return bus, nil })
	if err != nil {
		return nil, "", err
	}
	runErr := make(chan error, 1)
	go func() { runErr <- r.RunRouter(ctx, router) }()
	select {
	case <-router.Running():
	case <-ctx.Done():
		return nil, "", errors.New("the pipeline did not start")
	}
	published := make(chan error, 1)
	go func() {
		for i, in := range tc.Inputs {
			if err := bus.Publish(p.Input.Topic, inputMessage(p.Input.Topic, i, in)); err != nil {
				published <- err
				return
			}
		}
		published <- nil
	}()
	var failure error
	select {
	case err := <-published:
		failure = err
	case err := <-runErr:
		// The router stops early only when the pipeline stopped on a record
		// it could not dead-letter.
		return nil, "", fmt.Errorf("the pipeline stopped: %v", err)
	case <-ctx.Done():
		failure = fmt.Errorf("timed out after %s: a record was neither written nor dead-lettered", Timeout)
	}
	cancel()
	if err := <-runErr; err != nil && failure == nil {
		failure = fmt.Errorf("the pipeline stopped: %v", err)
	}
	collectors.Wait()
	return got, p.Errors.DeadLetterTopic, failure
}

// inputMessage builds the message a Kafka subscriber would deliver.
func inputMessage(topic string, offset int, in config.TestInput) *message.Message {
	m := message.NewMessage(topic+"/0/"+strconv.Itoa(offset), in.Value)
	for k, v := range in.Headers {
		m.Metadata.Set(k, v)
	}
	if in.Key != nil {
		m.Metadata.Set(kafka.MetaKey, string(in.Key))
	}
	m.Metadata.Set(kafka.MetaTopic, topic)
	m.Metadata.Set(kafka.MetaPartition, "0")
	m.Metadata.Set(kafka.MetaOffset, strconv.Itoa(offset))
	m.Metadata.Set(kafka.MetaTimestamp, strconv.FormatInt(time.Now().UnixMilli(), 10))
	return m
}

func toRecord(m *message.Message) record {
	r := record{Value: m.Payload, Headers: map[string]string{}}
	for k, v := range m.Metadata {
		if !kafka.IsInternal(k) {
			r.Headers[k] = v
		}
	}
	if k, ok := m.Metadata[kafka.MetaKey]; ok {
		r.Key = []byte(k)
	}
	return r
}
