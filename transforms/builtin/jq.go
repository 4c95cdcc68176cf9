package builtin

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/big"
	"strings"
	"time"

	"github.com/itchyny/gojq"
	"github.com/millrace-dev/millrace/transforms"
	"github.com/millrace-dev/millrace/transforms/codec"
	"github.com/millrace-dev/millrace/transforms/spec"
)

func init() {
	transforms.Register(transforms.Spec{
		Name:    "jq",
		Summary: "Reshape the record with a jq program; each output becomes a record.",
		Description: "`jq: '<program>'`, or `jq: {program: '<program>', timeout: 100ms, max_outputs: 10, max_steps: 1000000}`. " +
			"The record value is the program's input, and every value the program " +
			"outputs becomes an output record with the input's key, headers and timestamp: no " +
			"output drops the record (`select(...)` filters), several fan it out (`.items[]`). " +
			"An error in the program (`error(\"...\")`, a type error, the timeout) fails the " +
			"record; `halt` ends it normally with the outputs so far. A type error names the " +
			"types it met, not the values (`cannot add: string and object`), as every error text " +
			"does; the text of the program's own `error(...)` is kept. The language is jq 1.7's, " +
			"as implemented by gojq, and the program is compiled when the config is loaded, so a " +
			"syntax error is a config error at its place.\n\n" +
			"`$kafka` holds the record's Kafka fields: `$kafka.key` (null without a key), " +
			"`$kafka.headers`, `$kafka.topic`, `$kafka.partition`, `$kafka.offset` and " +
			"`$kafka.timestamp` (Unix milliseconds). `$ENV` and `env` are empty, so a program " +
			"cannot read the runner's environment, and `input` and modules are not available.\n\n" +
			"A run stops at the pipeline's timeout, or at `timeout` when it is shorter, at " +
			"`max_outputs` outputs, and after `max_steps` steps of gojq's machine (one step is one " +
			"instruction: a path, an operator, a function call, a turn of a loop); each stop fails " +
			"the record. The step budget is what bounds memory: gojq evaluates on a stack of its " +
			"own, so runaway recursion (`def f: [f]; f`) grows the heap, not the Go stack, by " +
			"some 100 bytes a step (a million steps take some 0.1 to 0.3 s and at most some 100 MB). " +
			"A single step can still build a large value (`. + .` on a string or array doubles it): " +
			"while a run longer than 64 steps is under way, the process's heap is read every " +
			"millisecond, and a run during which it grows by more than 256 MiB fails with " +
			"`memory budget exceeded` (`reduce range(40) as $i ([1]; . + .)` stops with the heap " +
			"some 500 MB larger). That heap is the process's: other work that grows it as much during " +
			"the run fails the run too, which a runner whose live heap stays well under 256 MiB does not do. " +
			"Integers too large for 64 bits keep their digits; `nan` " +
			"becomes `null` and infinities the largest finite numbers, as jq writes them.",
		Config: spec.OneOf("A jq program, or an options object.", spec.String("jq program."), jqOptions),
		Examples: []transforms.Example{
			{Title: "Reshape", Config: `'{id: .order_id, total: (.items | map(.price * .qty) | add)}'`,
				Input:  `{"order_id":7,"items":[{"price":2.5,"qty":2},{"price":1,"qty":3}]}`,
				Output: []string{`{"id":7,"total":8}`}},
			{Title: "Fan out and filter", Config: `'.items[] | select(.qty > 0) | {sku, qty}'`,
				Input:  `{"items":[{"sku":"a","qty":1},{"sku":"b","qty":0},{"sku":"c","qty":2}]}`,
				Output: []string{`{"qty":1,"sku":"a"}`, `{"qty":2,"sku":"c"}`}},
			{Title: "No output drops the record", Config: `'select(.type == "order")'`, Input: `{"type":"ping"}`},
			{Title: "An error fails the record", Config: `'if .id == null then error("id is required") else . end'`, Input: `{}`,
				Error: "jq: error: id is required"},
		},
	}, newJQ)
}

var jqOptions = spec.Object("",
	&spec.Field{Name: "program", Type: spec.String(""), Required: true, Doc: "jq program.", Examples: []any{"'.payload'"}},
	&spec.Field{Name: "timeout", Type: spec.Duration(""), Doc: "Longest time one run may take; the pipeline's timeout applies in any case."},
	&spec.Field{Name: "max_outputs", Type: spec.Int(""), Default: 1000, Doc: "Most outputs one record may yield; more fail the record."},
	&spec.Field{Name: "max_steps", Type: spec.Int(""), Default: defaultJQSteps, Doc: "Most steps (instructions of gojq's machine) one run may take; more fail the record. It bounds the memory a run can take, about 100 bytes a step at most."},
)

// jqConfig is jq's options; the short form is the program alone.
type jqConfig struct {
	Program    *spec.Value
	Timeout    time.Duration
	MaxOutputs int
	MaxSteps   int
}

type jq struct {
	code       *gojq.Code
	timeout    time.Duration
	maxOutputs int
	maxSteps   int
	meta       bool // the program uses $kafka
}

func newJQ(b *transforms.Build) (transforms.Transform, error) {
	var c jqConfig
	if err := decodeShort(b, jqOptions, "program", &c); err != nil {
		return nil, err
	}
	t := &jq{timeout: c.Timeout, maxOutputs: c.MaxOutputs, maxSteps: c.MaxSteps}
	if v := b.Config.Get("timeout"); v != nil && !v.Failed && t.timeout <= 0 {
		return nil, v.Errorf("timeout must be positive")
	}
	if t.maxOutputs < 1 {
		return nil, b.Config.Get("max_outputs").Errorf("max_outputs must be at least 1")
	}
	if t.maxSteps < 1 {
		return nil, b.Config.Get("max_steps").Errorf("max_steps must be at least 1")
	}
	prog := c.Program
	if prog.Failed {
		return nil, spec.ErrReported
	}
	q, err := gojq.Parse(prog.Text)
	if err != nil {
		return nil, jqConfigError(prog, err)
	}
	t.code, err = gojq.Compile(q,
		gojq.WithVariables([]string{"$kafka"}),
		gojq.WithEnvironLoader(func() []string { return nil }),
	)
	if err != nil {
		return nil, jqConfigError(prog, err)
	}
	t.meta = strings.Contains(prog.Text, "$kafka")
	return t, nil
}

// jqConfigError places a parse error at its token: exactly for a program
// written on one line, else at the scalar with the line and column inside
// the program.
func jqConfigError(v *spec.Value, err error) error {
	if v.Secret {
		return v.Errorf("invalid jq program from the environment; its text is not shown")
	}
	e := v.Errorf("invalid jq program: %v", err).WithHint("the jq manual describes the language")
	var pe *gojq.ParseError
	if !errors.As(err, &pe) {
		return e
	}
	at := max(0, min(len(v.Text), pe.Offset-len(pe.Token)))
	if p, ok := v.PosAt(at); ok && !strings.Contains(v.Text, "\n") {
		e.Pos = p
		return e
	}
	line := 1 + strings.Count(v.Text[:at], "\n")
	col := at - strings.LastIndexByte(v.Text[:at], '\n')
	e.Msg += fmt.Sprintf(" (line %d, column %d of the program)", line, col)
	return e
}

func (t *jq) Apply(ctx context.Context, r *transforms.Record) ([]*transforms.Record, error) {
	in, err := plainJSON(r.Value)
	if err != nil {
		return nil, err
	}
	if t.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, t.timeout)
		defer cancel()
	}
	var meta any
	if t.meta {
		meta = jqMeta(r)
	}
	steps := newJQSteps(ctx, t.maxSteps)
	defer steps.close()
	iter := t.code.RunWithContext(steps, in, meta)
	var vals []any
	for {
		v, ok := iter.Next()
		if !ok {
			break
		}
		if err, ok := v.(error); ok {
			var halt *gojq.HaltError
			if errors.As(err, &halt) && halt.Value() == nil && halt.ExitCode() == 0 {
				break
			}
			return nil, &jqError{err}
		}
		if len(vals) == t.maxOutputs {
			return nil, fmt.Errorf("jq: more than %d outputs", t.maxOutputs)
		}
		vals = append(vals, fromJQ(v))
	}
	if len(vals) == 0 {
		return nil, nil
	}
	outs := make([]*transforms.Record, len(vals))
	for i, v := range vals[1:] {
		outs[i+1] = derive(r, v)
	}
	r.Value = vals[0]
	outs[0] = r
	return outs, nil
}

// jqMeta is $kafka.
func jqMeta(r *transforms.Record) map[string]any {
	h := make(map[string]any, len(r.Headers))
	for _, x := range r.Headers {
		h[x.Key] = string(x.Value)
	}
	var key any
	if r.Key != nil {
		key = string(r.Key)
	}
	var ts any
	if !r.Timestamp.IsZero() {
		ts = int(r.Timestamp.UnixMilli())
	}
	return map[string]any{
		"key":       key,
		"headers":   h,
		"topic":     r.Source.Topic,
		"partition": int(r.Source.Partition),
		"offset":    int(r.Source.Offset),
		"timestamp": ts,
	}
}

// fromJQ converts a jq output to the types Decode produces (a whole float
// becomes an int, as it would after encoding and decoding), copying it: jq
// shares parts between its outputs (`{a: .x, b: .x}`), and later steps
// change records in place.
func fromJQ(v any) any {
	switch x := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[k] = fromJQ(e)
		}
		return m
	case []any:
		s := make([]any, len(x))
		for i, e := range x {
			s[i] = fromJQ(e)
		}
		return s
	case *big.Int:
		if x.IsInt64() {
			return int(x.Int64())
		}
		return json.Number(x.String())
	case json.Number:
		if n, ok := codec.Number(string(x)); ok {
			return n
		}
	case float64:
		switch {
		case math.IsNaN(x):
			return nil
		case math.IsInf(x, 1):
			return math.MaxFloat64
		case math.IsInf(x, -1):
			return -math.MaxFloat64
		case x == math.Trunc(x) && math.Abs(x) <= 1<<53:
			return int(x) // as Decode reads a whole number
		}
	}
	return v
}
