package config

import (
	"errors"
	"fmt"
	"log/slog"

	"github.com/millrace-dev/millrace/transforms"
	"github.com/millrace-dev/millrace/transforms/expression"
	"github.com/millrace-dev/millrace/transforms/spec"
)

// exprs compiles the expressions of steps and routes.
var exprs transforms.ExprCompiler = expression.Compiler{}

// BuildOptions tune Build.
type BuildOptions struct {
	// Logger is the parent of the transforms' loggers; nil means
	// slog.Default().
	Logger *slog.Logger
}

// Parts are the running parts of one pipeline: its transform instances
// and compiled expressions, for one run, one replay or one config test
// case. State that transforms keep (dedupe's keys) lives here, so parts
// from two Builds share nothing. Close them when done.
type Parts struct {
	// Chain runs the steps; set its Observe before it runs.
	Chain *transforms.Chain
	// Routes are the output routes with their conditions compiled, in
	// order.
	Routes []BuiltRoute
	// Topic is output.topic, for records that no route takes.
	Topic string
	// input is the pipeline's input topic, which no record may be
	// routed to; allowed lists output.allowed_topics, or named the
	// topics the config names when it is not given.
	input   string
	allowed []string
	named   map[string]bool
}

// BuiltRoute is an output route ready to run.
type BuiltRoute struct {
	When  transforms.Program
	Topic string
}

// Build makes new running parts of pipeline p, one of c's pipelines. Each
// call returns new instances. The config was checked when it loaded, so
// Build fails only when what a factory reads changed since (a schema file,
// an environment variable); the error is spec.Errors.
func (c *Config) Build(p *Pipeline, opts BuildOptions) (*Parts, error) {
	steps := &spec.Value{Kind: spec.KindList}
	for _, s := range p.Steps {
		steps.Items = append(steps.Items, s.Value)
	}
	parts, errs := c.build(p, steps, opts)
	if err := errs.Err(); err != nil {
		parts.Close()
		return nil, err
	}
	return parts, nil
}

// build makes the parts of p with the steps in the list steps, reporting
// every error at its place; Parse runs it on the `transforms:` list as
// written, Build on p.Steps.
func (c *Config) build(p *Pipeline, steps *spec.Value, opts BuildOptions) (*Parts, spec.Errors) {
	reg := c.reg
	if reg == nil {
		reg = transforms.Default
	}
	chain, errs := transforms.BuildChain(reg, steps, transforms.ChainOptions{Pipeline: p.Name, Exprs: exprs, Logger: opts.Logger})
	parts := &Parts{Chain: chain, Topic: p.Output.Topic, input: p.Input.Topic, allowed: p.Output.AllowedTopics}
	if parts.allowed == nil {
		parts.named = map[string]bool{}
		for _, t := range p.Output.Topics() {
			parts.named[t] = true
		}
		if chain != nil {
			for _, st := range chain.Steps {
				if n, ok := st.Transform.(transforms.TopicNamer); ok {
					for _, t := range n.TopicNames() {
						parts.named[t] = true
					}
				}
			}
		}
	}
	for _, rt := range p.Output.Routes {
		when, err := (&transforms.Build{Config: rt.When, Pipeline: p.Name, Exprs: exprs}).Bool(rt.When)
		if err != nil {
			errs.Add(rt.When.Pos, err)
			continue
		}
		parts.Routes = append(parts.Routes, BuiltRoute{When: when, Topic: rt.Topic})
	}
	return parts, errs
}

// Destination picks the output topic of a record: the one a transform set
// (Record.Topic), else that of the first route whose condition holds, else
// Topic. A condition that fails on the record gives a *RouteError, which
// the pipeline reports as the step "output".
func (p *Parts) Destination(r *transforms.Record) (string, error) {
	if r.Topic != "" {
		if err := p.Allows(r.Topic); err != nil {
			return "", err
		}
		return r.Topic, nil
	}
	for _, rt := range p.Routes {
		ok, err := rt.When.EvalBool(r)
		if err != nil {
			return "", &RouteError{Err: err}
		}
		if ok {
			return rt.Topic, nil
		}
	}
	return p.Topic, nil
}

// Allows checks a topic a transform chose for a record: it must not be the
// pipeline's input, and it must be allowed by output.allowed_topics or,
// without it, named by the config. A record may not create topics.
func (p *Parts) Allows(topic string) error {
	// The topic is not quoted: a computed one is made of the record's data.
	switch {
	case topic == p.input:
		return errors.New("the record is routed to the pipeline's own input topic")
	case p.allowed != nil && !allowedBy(p.allowed, topic):
		return fmt.Errorf("the record is routed to a topic (%d characters) that output.allowed_topics does not allow", len(topic))
	case p.allowed == nil && !p.named[topic]:
		return fmt.Errorf("the record is routed to a topic (%d characters) that the config does not name (list the topics a route may compute in output.allowed_topics)", len(topic))
	}
	return nil
}

// DestinationFields returns the top-level fields Destination reads: those
// of the routes' conditions; ok is false when one does not say
// (transforms.TopLevel).
func (p *Parts) DestinationFields() (transforms.Fields, bool) {
	var f transforms.Fields
	for _, rt := range p.Routes {
		r, ok := transforms.FieldsOf(rt.When)
		if !ok {
			return transforms.Fields{}, false
		}
		f = f.Merge(r)
	}
	return f, true
}

// Close closes the transforms that hold resources (transforms.Closer).
func (p *Parts) Close() error {
	if p == nil || p.Chain == nil {
		return nil
	}
	return p.Chain.Close()
}

// RouteError is an output route whose condition failed on a record.
type RouteError struct{ Err error }

func (e *RouteError) Error() string { return fmt.Sprintf("output route: %v", e.Err) }
func (e *RouteError) Unwrap() error { return e.Err }
