package pipeline

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/millrace-dev/millrace/pipeline/config"
	"github.com/millrace-dev/millrace/pipeline/engine"
	"github.com/millrace-dev/millrace/pipeline/observe"
	"github.com/millrace-dev/millrace/transforms"
)

// EngineOptions say where one pipeline's engine writes and what it does
// when a record fails without a dead-letter topic.
type EngineOptions struct {
	// Producer writes outputs and dead letters.
	Producer engine.Producer
	// Halt stops the pipeline: a record failed and there is no dead-letter
	// topic. It must not block. Nil: the record is only left not done.
	Halt func(error)
	// Subscriber names the source in Watermill's poison headers.
	Subscriber string
	// Destination, if set, replaces the pipeline's own choice of output
	// topic (a replay's --to-topic wraps it).
	Destination func(next func(*transforms.Record) (string, error)) func(*transforms.Record) (string, error)
	// Observer and Middleware observe the records (metrics, status page).
	Observer   engine.Observer
	Middleware []message.HandlerMiddleware
	// Logger logs failed records.
	Logger *slog.Logger
	// NoProduceRetry: see engine.Config.NoProduceRetry (a pipelined source).
	NoProduceRetry bool
	// ReuseWork: see engine.Config.ReuseWork (`run`, whose producer and
	// source keep nothing of a settled record's outputs).
	ReuseWork bool
}

// Engine builds the record path of pipeline p: fresh running parts of its
// config (config.Build: transform instances, compiled expressions, so that
// no state passes from one run, replay or test case to the next),
// Watermill's middleware, the producer. `run`, `replay` and
// `pipeline-runner test` all build their engines here. Close releases
// what the parts hold.
func Engine(cfg *config.Config, p *config.Pipeline, opts EngineOptions) (*engine.Engine, func() error, error) {
	parts, err := cfg.Build(p, config.BuildOptions{Logger: opts.Logger})
	if err != nil {
		return nil, nil, fmt.Errorf("pipeline %s: %w", p.Name, err)
	}
	dest := parts.Destination
	if opts.Destination != nil {
		dest = opts.Destination(dest)
	}
	var destFields *transforms.Fields
	if f, ok := parts.DestinationFields(); ok {
		destFields = &f
	}
	rc := p.Errors.Retry
	e, err := engine.New(engine.Config{
		Pipeline:           p.Name,
		InputTopic:         p.Input.Topic,
		Subscriber:         opts.Subscriber,
		Chain:              parts.Chain,
		Destination:        dest,
		DestinationFields:  destFields,
		DeadLetterTopic:    p.Errors.DeadLetterTopic,
		Halt:               opts.Halt,
		Timeout:            p.Timeout,
		Retry:              engine.Retry{MaxRetries: rc.MaxRetries, InitialInterval: rc.InitialInterval, MaxInterval: rc.MaxInterval, Multiplier: rc.Multiplier},
		Producer:           opts.Producer,
		Observer:           opts.Observer,
		Logger:             opts.Logger,
		LogPayloads:        cfg.Runner.LogPayloads,
		Context:            observe.WithPipeline(context.Background(), p.Name),
		Middleware:         opts.Middleware,
		NoProduceRetry:     opts.NoProduceRetry,
		ReuseWork:          opts.ReuseWork,
		ReplaceInvalidUTF8: p.Input.InvalidUTF8 == "replace",
	})
	if err != nil {
		return nil, nil, errors.Join(fmt.Errorf("pipeline %s: %w", p.Name, err), parts.Close())
	}
	return e, parts.Close, nil
}

// closeList releases the parts of the engines a run built.
type closeList []func() error

func (l *closeList) add(c func() error) { *l = append(*l, c) }

// close calls every closer and joins their errors.
func (l closeList) close() (err error) {
	for _, c := range l {
		err = errors.Join(err, c())
	}
	return err
}

// typeName names a source in poison headers: kafka.ConcurrentSubscriber.
func typeName(v any) string { return strings.TrimPrefix(fmt.Sprintf("%T", v), "*") }

// HandlerFunc returns pipeline name of cfg as a Watermill handler, for a
// message.Router of one's own, with one's own subscriber, publisher and
// middleware: the pipeline's record path and middleware (dead letters
// included) as `run` has them, returning the outputs and dead letters as
// messages that name their topic in engine.MetaDestination (publish them
// through engine.DestinationPublisher, unless the publisher reads it, as
// Millrace's does). Close releases the pipeline's parts.
//
// Watermill metadata is a map: records that pass through it keep one
// value per header key, in no order. Millrace's own path keeps them all.
func HandlerFunc(cfg *config.Config, name string) (message.HandlerFunc, func() error, error) {
	for _, p := range cfg.Pipelines {
		if p.Name == name {
			e, closeParts, err := Engine(cfg, p, EngineOptions{Subscriber: "router"})
			if err != nil {
				return nil, nil, err
			}
			return e.HandlerFunc(), closeParts, nil
		}
	}
	var known []string
	for _, p := range cfg.Pipelines {
		known = append(known, p.Name)
	}
	return nil, nil, &UnknownPipelineError{Name: name, Known: known}
}
