package config

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/millrace-dev/millrace/internal/readfile"
	"github.com/millrace-dev/millrace/transforms"
	"github.com/millrace-dev/millrace/transforms/spec"
)

// TestCase is one config unit test: records fed to a pipeline and what must
// come out, checked by `pipeline-runner test` without a broker.
type TestCase struct {
	Name     string
	Pos      spec.Pos
	Pipeline string
	Inputs   []TestInput
	// Outputs maps every topic the pipeline may write to the records expected
	// there, in order. A topic not listed must receive nothing.
	Outputs     map[string][]Expectation
	OutputOrder []string // topics in file order
	// DeadLetters are the expected dead-letter records, in order.
	DeadLetters []Expectation
}

// TestInput is one record fed to the pipeline.
type TestInput struct {
	Value   []byte
	Key     []byte             // nil: no key
	Headers transforms.Headers // in file order
}

// Expectation is one expected output or dead-letter record; every condition
// that is set must hold.
type Expectation struct {
	Pos           spec.Pos
	JSONEquals    any // decoded JSON, or nil
	JSONContains  any
	Key           *string
	Headers       map[string]string // subset that must be present
	ErrorContains string            // dead letters: text in millrace.error
	Step          string            // dead letters: the failing step
}

var expectationSchema = spec.Object("An expected record; every condition given must hold.",
	&spec.Field{Name: "json_equals", Type: spec.Any("The value equals this JSON (key order and number formatting aside).")},
	&spec.Field{Name: "json_contains", Type: spec.Any("The value contains this structure: objects may have more keys.")},
	&spec.Field{Name: "key", Type: spec.String("The Kafka key.")},
	&spec.Field{Name: "headers", Type: spec.Map("header", spec.String(""), 0, "Headers that must be present with these values.")},
	&spec.Field{Name: "error_contains", Type: spec.String("Dead letters: text the error (millrace.error) contains.")},
	&spec.Field{Name: "step", Type: spec.String("Dead letters: the failing step (transform name, decode or output).")},
)

// TestsSchema is the shape of the `tests:` list, in a config or in a
// *_test.yaml file beside it.
var TestsSchema = spec.List(spec.Object("A config test.",
	&spec.Field{Name: "name", Type: spec.String("What the test shows."), Required: true},
	&spec.Field{Name: "pipeline", Type: spec.String("The pipeline under test; may be omitted when the config has one.")},
	&spec.Field{Name: "input", Required: true, Doc: "Records fed to the pipeline's input, in order.", Type: spec.List(spec.Object("",
		&spec.Field{Name: "value", Type: spec.Any("The record value as YAML/JSON; it is encoded as JSON.")},
		&spec.Field{Name: "raw", Type: spec.String("The record value as raw text, for values that are not JSON.")},
		&spec.Field{Name: "key", Type: spec.String("The Kafka key.")},
		&spec.Field{Name: "headers", Type: spec.Map("header", spec.String(""), 0, "Kafka headers.")},
	), 1, "")},
	&spec.Field{Name: "expect", Doc: "Expected records per output topic, in order; a topic not listed must receive nothing.",
		Type: spec.Map("topic", spec.List(expectationSchema, 0, ""), 0, "")},
	&spec.Field{Name: "dead_letter", Doc: "Expected dead-letter records, in order.", Type: spec.List(expectationSchema, 0, "")},
), 0, "Config unit tests run by `pipeline-runner test`.")

// TestFile is where tests beside a config live: pipelines.yaml → pipelines_test.yaml.
func TestFile(configPath string) string {
	ext := filepath.Ext(configPath)
	return strings.TrimSuffix(configPath, ext) + "_test" + ext
}

// LoadTests returns the tests of a loaded config: its `tests:` section and
// those of its *_test.yaml sibling, if any.
func LoadTests(cfg *Config, lookup spec.LookupEnv) ([]*TestCase, error) {
	if lookup == nil {
		lookup = os.LookupEnv
	}
	var errs spec.Errors
	cases := buildTests(cfg, cfg.testsValue, &errs)
	path := TestFile(cfg.File)
	data, err := readfile.Read(path, MaxConfigSize)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		errs = append(errs, &spec.Error{Pos: spec.Pos{File: path}, Msg: "cannot read tests: " + err.Error()})
	default:
		root, perrs := spec.ParseYAML(path, data, lookup)
		errs = append(errs, perrs...)
		if root != nil {
			fileSchema := spec.Object("", &spec.Field{Name: "tests", Type: TestsSchema, Required: true})
			verrs := spec.Validate(root, fileSchema)
			errs = append(errs, verrs...)
			if len(perrs) == 0 && len(verrs) == 0 {
				cases = append(cases, buildTests(cfg, root.Get("tests"), &errs)...)
			}
		}
	}
	return cases, errs.Err()
}

func buildTests(cfg *Config, list *spec.Value, errs *spec.Errors) []*TestCase {
	if list == nil || list.Kind != spec.KindList {
		return nil
	}
	var out []*TestCase
	for _, tv := range list.Items {
		tc := &TestCase{Name: tv.Get("name").Text, Pos: tv.Pos, Outputs: map[string][]Expectation{}}
		p, err := testPipeline(cfg, tv)
		if err != nil {
			*errs = append(*errs, err)
			continue
		}
		tc.Pipeline = p.Name
		for _, iv := range tv.Get("input").Items {
			in, err := testInput(iv)
			if err != nil {
				*errs = append(*errs, err)
				continue
			}
			tc.Inputs = append(tc.Inputs, in)
		}
		if ev := tv.Get("expect"); ev != nil {
			topics := p.Output.Topics()
			for _, e := range ev.Entries {
				if !contains(topics, e.Key.Text) {
					*errs = append(*errs, e.Key.Errorf("pipeline %q does not write topic %q", p.Name, e.Key.Text).WithHint("its output topics are "+strings.Join(topics, ", ")))
					continue
				}
				tc.OutputOrder = append(tc.OutputOrder, e.Key.Text)
				tc.Outputs[e.Key.Text] = expectations(e.Value)
			}
		}
		if dv := tv.Get("dead_letter"); dv != nil {
			if p.Errors.DeadLetterTopic == "" && len(dv.Items) > 0 {
				*errs = append(*errs, dv.Errorf("pipeline %q has no dead_letter_topic", p.Name))
			}
			tc.DeadLetters = expectations(dv)
		}
		out = append(out, tc)
	}
	return out
}

func testPipeline(cfg *Config, tv *spec.Value) (*Pipeline, *spec.Error) {
	pv := tv.Get("pipeline")
	if pv == nil {
		if len(cfg.Pipelines) == 1 {
			return cfg.Pipelines[0], nil
		}
		return nil, tv.Errorf("test %q does not say which pipeline it tests", tv.Get("name").Text).WithHint("add pipeline: NAME")
	}
	var names []string
	for _, p := range cfg.Pipelines {
		if p.Name == pv.Text {
			return p, nil
		}
		names = append(names, p.Name)
	}
	e := pv.Errorf("unknown pipeline %q", pv.Text)
	if s := spec.Suggest(pv.Text, names); s != "" {
		return nil, e.WithHint(fmt.Sprintf("did you mean %q?", s))
	}
	return nil, e.WithHint("the config has: " + strings.Join(names, ", "))
}

func testInput(iv *spec.Value) (TestInput, *spec.Error) {
	var in TestInput
	v, raw := iv.Get("value"), iv.Get("raw")
	switch {
	case v != nil && raw != nil:
		return in, iv.Errorf("give value or raw, not both")
	case v != nil:
		b, err := json.Marshal(v.Plain())
		if err != nil {
			return in, v.Errorf("value: %v", err)
		}
		in.Value = b
	case raw != nil:
		in.Value = []byte(raw.Text)
	default:
		return in, iv.Errorf("an input needs value or raw")
	}
	if k := iv.Get("key"); k != nil {
		in.Key = []byte(k.Text)
	}
	if h := iv.Get("headers"); h != nil {
		for _, e := range h.Entries {
			in.Headers.Add(e.Key.Text, e.Value.Text)
		}
	}
	return in, nil
}

func expectations(list *spec.Value) []Expectation {
	var out []Expectation
	for _, ev := range list.Items {
		e := Expectation{Pos: ev.Pos, Headers: map[string]string{}}
		if v := ev.Get("json_equals"); v != nil {
			e.JSONEquals = v.Plain()
		}
		if v := ev.Get("json_contains"); v != nil {
			e.JSONContains = v.Plain()
		}
		if v := ev.Get("key"); v != nil {
			k := v.Text
			e.Key = &k
		}
		if v := ev.Get("headers"); v != nil {
			for _, h := range v.Entries {
				e.Headers[h.Key.Text] = h.Value.Text
			}
		}
		if v := ev.Get("error_contains"); v != nil {
			e.ErrorContains = v.Text
		}
		if v := ev.Get("step"); v != nil {
			e.Step = v.Text
		}
		out = append(out, e)
	}
	return out
}

func contains(xs []string, s string) bool {
	for _, x := range xs {
		if x == s {
			return true
		}
	}
	return false
}
