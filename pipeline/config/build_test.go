package config_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/millrace-dev/millrace/pipeline/config"
	"github.com/millrace-dev/millrace/transforms"
	"github.com/millrace-dev/millrace/transforms/spec"
)

const dedupeYAML = `
version: 1
pipelines:
  - name: p
    input: {topic: in}
    transforms:
      - dedupe: {key: id}
    output: {topic: out}
`

// Each Build makes new transform instances: the keys one dedupe saw are not
// known to the next. (Loading built the chain too, to check it, and keeps
// nothing of it.)
func TestBuildsShareNoState(t *testing.T) {
	cfg := parse(t, dedupeYAML, nil)
	p := cfg.Pipelines[0]
	passes := func(parts *config.Parts, offset int64) bool {
		r := &transforms.Record{Value: map[string]any{"id": "a"}, Source: transforms.Source{Topic: "in", Offset: offset}}
		outs, err := parts.Chain.Run(t.Context(), r)
		if err != nil {
			t.Fatal(err)
		}
		return len(outs) == 1
	}
	first := build(t, cfg, p)
	if !passes(first, 0) || passes(first, 1) {
		t.Fatal("dedupe does not drop a repeat")
	}
	second := build(t, cfg, p)
	if second.Chain == first.Chain || second.Chain.Steps[0].Transform == first.Chain.Steps[0].Transform {
		t.Fatal("two builds share the chain")
	}
	if !passes(second, 1) {
		t.Error("a second build remembers the keys of the first")
	}
}

// The destination: a topic a transform set, else the first route whose
// condition holds, else output.topic. A condition that fails is a
// RouteError.
func TestDestination(t *testing.T) {
	cfg := parse(t, `
version: 1
pipelines:
  - name: p
    input: {topic: in}
    output:
      topic: out
      routes:
        - {when: 'n > 10', topic: big}
        - {when: 'n > 0', topic: positive}
`, nil)
	parts := build(t, cfg, cfg.Pipelines[0])
	for _, tc := range []struct {
		n     any
		topic string
		want  string
	}{
		{20, "", "big"},
		{5, "", "positive"},
		{-1, "", "out"},
		{20, "positive", "positive"}, // a topic a transform chose, named by the config
	} {
		r := &transforms.Record{Value: map[string]any{"n": tc.n}, Topic: tc.topic}
		if got, err := parts.Destination(r); err != nil || got != tc.want {
			t.Errorf("n=%v topic=%q: %q, %v; want %q", tc.n, tc.topic, got, err, tc.want)
		}
	}
	_, err := parts.Destination(&transforms.Record{Value: map[string]any{"n": "x"}})
	var re *config.RouteError
	if !errors.As(err, &re) || err.Error() != `output route: expression "n > 10": invalid operation: string > int (column 3)` {
		t.Errorf("failing condition: %v", err)
	}
}

// A topic computed from a record must be allowed: by output.allowed_topics
// when given (names or patterns), else by being named in the config
// (output.topic, output.routes, route's cases and default). The input
// topic never is. What is not allowed fails the record (dead letter)
// instead of creating a topic.
func TestAllowedTopics(t *testing.T) {
	named := parse(t, `
version: 1
pipelines:
  - name: p
    input: {topic: in}
    transforms:
      - route: {cases: [{when: 'n > 10', topic: big}], default: small}
    output:
      topic: out
      routes: [{when: 'n < 0', topic: negative}]
`, nil)
	patterns := parse(t, `
version: 1
pipelines:
  - name: p
    input: {topic: r-in}
    transforms:
      - route: '"r-" + c'
    output:
      topic: r-default
      allowed_topics: ["r-*", exact]
`, nil)
	for _, tc := range []struct {
		cfg   *config.Config
		topic string
		ok    bool
	}{
		{named, "big", true}, {named, "small", true}, {named, "out", true}, {named, "negative", true},
		{named, "big2", false}, {named, "in", false}, {named, "r-x", false},
		{patterns, "r-x", true}, {patterns, "r-", true}, {patterns, "exact", true},
		{patterns, "exact2", false}, {patterns, "x-r", false}, {patterns, "r-in", false},
	} {
		parts := build(t, tc.cfg, tc.cfg.Pipelines[0])
		got, err := parts.Destination(&transforms.Record{Value: map[string]any{"n": 1}, Topic: tc.topic})
		if tc.ok && (err != nil || got != tc.topic) {
			t.Errorf("%s: %q, %v; want it allowed", tc.topic, got, err)
		}
		if !tc.ok && err == nil {
			t.Errorf("%s: allowed", tc.topic)
		}
		// A computed name is made of the record's data: the error gives
		// its length, not the name.
		if !tc.ok && err != nil && !strings.Contains(err.Error(), "own input topic") {
			if strings.Contains(err.Error(), tc.topic) {
				t.Errorf("%s: the error names the topic: %v", tc.topic, err)
			}
			if want := fmt.Sprintf("a topic (%d characters) that", len(tc.topic)); !strings.Contains(err.Error(), want) {
				t.Errorf("%s: %v; want it to say %q", tc.topic, err, want)
			}
		}
	}
	_, err := config.Parse("p.yaml", []byte(`
version: 1
pipelines:
  - name: p
    input: {topic: in}
    output:
      topic: out
      routes: [{when: 'n < 0', topic: negative}]
      allowed_topics: ["[a-", "o*"]
`), config.Options{})
	want := []string{
		`p.yaml:9:24: invalid topic pattern "[a-": syntax error in pattern`,
		`p.yaml:8:39: topic "negative" is not in output.allowed_topics`,
	}
	if err == nil {
		t.Fatal("no config error")
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("errors %q lack %q", err, w)
		}
	}
}

// closing counts the instances of a transform that holds a resource.
type closing struct {
	transforms.Transform
	closed *atomic.Int64
}

func (c closing) Close() error {
	c.closed.Add(1)
	return nil
}

// Loading builds the parts once to check them and closes them; the parts
// of Build are closed by their owner.
func TestLoadClosesWhatItBuilt(t *testing.T) {
	var built, closed atomic.Int64
	reg := transforms.NewRegistry()
	reg.Register(transforms.Spec{Name: "conn", Summary: "Holds a connection.", Config: spec.Any("")},
		func(*transforms.Build) (transforms.Transform, error) {
			built.Add(1)
			pass := transforms.Func(func(_ context.Context, r *transforms.Record) ([]*transforms.Record, error) {
				return []*transforms.Record{r}, nil
			})
			return closing{pass, &closed}, nil
		})
	cfg, err := config.Parse("test.yaml", []byte(`
version: 1
pipelines:
  - name: p
    input: {topic: in}
    transforms:
      - conn: {}
    output: {topic: out}
`), config.Options{Registry: reg, LookupEnv: env(nil)})
	if err != nil {
		t.Fatal(err)
	}
	if built.Load() != 1 || closed.Load() != 1 {
		t.Fatalf("loading built %d and closed %d instances, want 1 and 1", built.Load(), closed.Load())
	}
	p := cfg.Pipelines[0]
	if len(p.Steps) != 1 || p.Steps[0].Name != "conn" || p.Steps[0].Pos != (spec.Pos{File: "test.yaml", Line: 7, Col: 9}) {
		t.Errorf("steps = %+v", p.Steps)
	}
	parts, err := cfg.Build(p, config.BuildOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if built.Load() != 2 || closed.Load() != 1 {
		t.Errorf("after Build: built %d, closed %d", built.Load(), closed.Load())
	}
	if err := parts.Close(); err != nil || closed.Load() != 2 {
		t.Errorf("Close: %v, closed %d", err, closed.Load())
	}
}

// Build runs the factories again: what they read may have changed since
// the config loaded, and Build says so at the place of the step.
func TestBuildReportsWhatNoLongerBuilds(t *testing.T) {
	t.Setenv("MILLRACE_TEST_HMAC", "k")
	cfg := parse(t, `
version: 1
pipelines:
  - name: p
    input: {topic: in}
    transforms:
      - hash: {fields: [email], key_env: MILLRACE_TEST_HMAC}
    output: {topic: out}
`, nil)
	t.Setenv("MILLRACE_TEST_HMAC", "")
	_, err := cfg.Build(cfg.Pipelines[0], config.BuildOptions{})
	var es spec.Errors
	if !errors.As(err, &es) || err.Error() != "test.yaml:7:42: environment variable MILLRACE_TEST_HMAC is empty (an HMAC key must not be empty)" {
		t.Errorf("got %v", err)
	}
}
