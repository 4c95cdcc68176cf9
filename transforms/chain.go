package transforms

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strings"
	"sync/atomic"
	"time"

	"github.com/millrace-dev/millrace/transforms/spec"
)

// reservedStepKeys may stand beside the transform's key in any step.
var reservedStepKeys = map[string]bool{"when": true}

// Step is one built transform of a chain.
type Step struct {
	Name  string // transform name, such as "filter"
	Index int    // position in the chain, from 0
	Pos   spec.Pos
	// When, if set, limits the step to records where it is true; the others
	// pass through unchanged.
	When      Program
	Transform Transform
}

// Chain runs steps in order over a record and its descendants.
type Chain struct {
	Steps []*Step
	// Observe, when set, is called after each application of a step to one
	// record with the time it took (negative when the run is not timed:
	// TimeOneIn), the number of records it returned and its error. Set it before the chain runs; it is called concurrently
	// when records are processed concurrently. Nil costs nothing.
	Observe func(step *Step, d time.Duration, outputs int, err error)
	// TimeOneIn, above 1, times about one run in that many, chosen at
	// random (and the first run): for the steps of the others Observe
	// gets a negative duration. Reading the clock and recording a time
	// for every step cost as much as the steps of a cheap chain.
	TimeOneIn int
	timedOnce atomic.Bool
}

// StepError is a step that failed on a record. The pipeline sends the input
// record to the dead-letter topic with these details.
type StepError struct {
	Name  string
	Index int
	Err   error
}

func (e *StepError) Error() string {
	return fmt.Sprintf("step %d (%s): %v", e.Index, e.Name, e.Err)
}
func (e *StepError) Unwrap() error { return e.Err }

// Close closes the transforms that hold resources.
func (c *Chain) Close() error {
	var errs []error
	for _, s := range c.Steps {
		if cl, ok := s.Transform.(Closer); ok {
			if err := cl.Close(); err != nil {
				errs = append(errs, fmt.Errorf("step %d (%s): %w", s.Index, s.Name, err))
			}
		}
	}
	return errors.Join(errs...)
}

// Run applies every step. It returns the surviving records; an empty result
// means the record was filtered out.
func (c *Chain) Run(ctx context.Context, r *Record) ([]*Record, error) {
	recs := r.One()
	var clk stepClock
	if c.Observe != nil && c.timed() {
		clk.start()
	}
	for _, s := range c.Steps {
		if len(recs) == 1 {
			// The common case: one record in, so its step's result is the next
			// step's input as it is.
			out, err := c.apply(ctx, &clk, s, recs[0])
			if err != nil {
				return nil, err
			}
			if recs = out; len(recs) == 0 {
				return nil, nil
			}
			continue
		}
		next := make([]*Record, 0, len(recs))
		for _, rec := range recs {
			out, err := c.apply(ctx, &clk, s, rec)
			if err != nil {
				return nil, err
			}
			next = append(next, out...)
		}
		recs = next
		if len(recs) == 0 {
			return nil, nil
		}
	}
	return recs, nil
}

// apply runs one step on one record, observed.
func (c *Chain) apply(ctx context.Context, clk *stepClock, s *Step, rec *Record) ([]*Record, error) {
	out, err := s.apply(ctx, rec)
	if c.Observe != nil {
		c.Observe(s, clk.lap(), len(out), err)
	}
	if err != nil {
		return nil, &StepError{Name: s.Name, Index: s.Index, Err: err}
	}
	return out, nil
}

// timed draws whether a run is timed (TimeOneIn).
func (c *Chain) timed() bool {
	switch {
	case c.TimeOneIn <= 1:
		return true
	case !c.timedOnce.Load() && !c.timedOnce.Swap(true):
		return true // the first run
	}
	return rand.N(c.TimeOneIn) == 0
}

// stepClock times the applications of one run's steps, which follow one
// another on one goroutine: one reading of the monotonic clock ends a step
// and starts the next. A reading costs 70–100 ns on some virtual machines,
// as much as a cheap step.
type stepClock struct {
	t0   time.Time     // zero: the run is not timed
	mark time.Duration // since t0, at the end of the last step
}

func (c *stepClock) start() { c.t0 = time.Now() }

// lap is the time since the last lap, or since start; -1 when the run is
// not timed.
func (c *stepClock) lap() time.Duration {
	if c.t0.IsZero() {
		return -1
	}
	now := time.Since(c.t0)
	d := now - c.mark
	c.mark = now
	return d
}

func (s *Step) apply(ctx context.Context, r *Record) (out []*Record, err error) {
	defer func() {
		// A panic inside a transform or a third-party evaluator is a failure
		// of this record, not of the runner.
		if p := recover(); p != nil {
			out, err = nil, fmt.Errorf("panic: %v", p)
		}
	}()
	if s.When != nil {
		ok, err := s.When.EvalBool(r)
		if err != nil {
			return nil, fmt.Errorf("when: %w", err)
		}
		if !ok {
			return r.One(), nil
		}
	}
	return s.Transform.Apply(ctx, r)
}

// ChainOptions are what BuildChain builds steps with, besides the registry.
type ChainOptions struct {
	// Pipeline names the pipeline, for Build.Pipeline and the logs.
	Pipeline string
	// Exprs compiles the steps' `when` and what factories ask for with
	// Build.Expr and Build.Bool. Nil makes every expression a config error.
	Exprs ExprCompiler
	// Logger is the parent of each step's Build.Logger; nil means
	// slog.Default().
	Logger *slog.Logger
}

// BuildChain builds a chain from a YAML list of steps. Each step is a mapping
// with one transform key, such as `filter: 'amount > 0'`, and optionally
// `when`. It reports every error it finds.
func BuildChain(reg *Registry, steps *spec.Value, opts ChainOptions) (*Chain, spec.Errors) {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	var errs spec.Errors
	chain := &Chain{}
	if steps == nil {
		return chain, nil
	}
	if steps.Kind != spec.KindList {
		return nil, spec.Errors{steps.Errorf("expected a list of transform steps, got %s", steps.Kind.Name())}
	}
	for i, item := range steps.Items {
		step, stepErrs := buildStep(reg, item, opts, i)
		errs = append(errs, stepErrs...)
		if step != nil {
			chain.Steps = append(chain.Steps, step)
		}
	}
	return chain, errs
}

func buildStep(reg *Registry, item *spec.Value, opts ChainOptions, index int) (*Step, spec.Errors) {
	if item.Kind != spec.KindMap {
		return nil, spec.Errors{item.Errorf("expected a transform step such as `- filter: 'amount > 0'`, got %s", item.Kind.Name())}
	}
	var name *spec.Value
	var errs spec.Errors
	for _, e := range item.Entries {
		if reservedStepKeys[e.Key.Text] {
			continue
		}
		if name != nil {
			errs = append(errs, e.Key.Errorf("a step holds one transform, found %q and %q", name.Text, e.Key.Text).WithHint("start a new list item with -"))
			continue
		}
		name = e.Key
	}
	if name == nil {
		return nil, append(errs, item.Errorf("step has no transform").WithHint("available: "+strings.Join(reg.Names(), ", ")))
	}
	reg1, ok := reg.Lookup(name.Text)
	if !ok {
		e := name.Errorf("unknown transform %q", name.Text)
		if s := spec.Suggest(name.Text, reg.Names()); s != "" {
			e.Hint = fmt.Sprintf("did you mean %q?", s)
		} else {
			e.Hint = "available: " + strings.Join(reg.Names(), ", ")
		}
		return nil, append(errs, e)
	}
	b := &Build{Config: item.Get(name.Text), Type: reg1.Spec.Config, Pipeline: opts.Pipeline, Index: index, Exprs: opts.Exprs,
		Logger: opts.Logger.With("pipeline", opts.Pipeline, "step", name.Text, "step_index", index)}
	if verrs := spec.Validate(b.Config, reg1.Spec.Config); len(verrs) > 0 {
		return nil, append(errs, verrs...)
	}
	step := &Step{Name: name.Text, Index: index, Pos: name.Pos}
	if w := item.Get("when"); w != nil {
		if verrs := spec.Validate(w, spec.Expr("")); len(verrs) > 0 {
			errs = append(errs, verrs...)
		} else if p, err := b.Bool(w); err != nil {
			errs.Add(w.Pos, err)
		} else {
			step.When = p
		}
	}
	t, err := reg1.New(b)
	if err != nil {
		errs.Add(b.Config.Pos, err)
		return nil, errs
	}
	step.Transform = t
	if len(errs) > 0 {
		return nil, errs
	}
	return step, nil
}
