package pipeline

import (
	"fmt"
	"sync"
	"time"

	"github.com/millrace-dev/millrace/pipeline/config"
	"github.com/millrace-dev/millrace/pipeline/engine"
	"github.com/millrace-dev/millrace/pipeline/observe"
)

// budgeted is the engine's observer of pipeline p: op, counted against
// p's error budget (errors.budget) when it has one, which pauses ctl once
// spent. Nil when there is neither.
func (r *Runner) budgeted(p *config.Pipeline, op *observe.Pipeline, ctl *control) engine.Observer {
	if p.Errors.Budget == nil {
		if op == nil {
			return nil
		}
		return op
	}
	b := newBudget(*p.Errors.Budget, time.Now)
	b.spent = func(reason string) {
		// Not on the engine's goroutine: the pause waits for the
		// consumer's loop, which may wait for this record's settlement.
		go ctl.pause(reason)
	}
	ctl.resumed = b.reset
	return &budgetObserver{Pipeline: op, b: b}
}

// budgetObserver counts finished and dead-lettered records for the budget
// and passes everything on to the pipeline's observer (whose methods do
// nothing on nil, without an admin server).
type budgetObserver struct {
	*observe.Pipeline
	b *budget
}

func (o *budgetObserver) End(done bool) {
	o.Pipeline.End(done)
	if done {
		o.b.add(1, 0)
	}
}

func (o *budgetObserver) DeadLettered() {
	o.Pipeline.DeadLettered()
	o.b.add(0, 1)
}

// budgetSlots is how many parts a budget's window is kept in: the window
// slides by a tenth of itself, so the share it reports covers between 90%
// and 100% of the window. A ring of counters is all a sliding ratio needs;
// a rate limiter or a metrics library would count only one of the two.
const budgetSlots = 10

// budget is an error budget over a sliding window: finished records and,
// among them, dead-lettered ones, counted in slots of window/budgetSlots.
type budget struct {
	cfg   config.Budget
	now   func() time.Time
	spent func(reason string) // called once when the share crosses max_ratio

	mu       sync.Mutex
	slots    [budgetSlots]struct{ done, dead int }
	at       int64 // the slot index (time / slot length) of slots[at%budgetSlots]
	done     int   // sums over the slots
	dead     int
	exceeded bool // spent was called; reset rearms it
}

func newBudget(cfg config.Budget, now func() time.Time) *budget {
	return &budget{cfg: cfg, now: now, at: now().UnixNano() / int64(cfg.Window/budgetSlots)}
}

// add counts finished and dead-lettered records, and calls spent when the
// share of dead letters in the window crosses max_ratio, once at least
// min_records finished in it.
func (b *budget) add(done, dead int) {
	b.mu.Lock()
	b.advance()
	s := &b.slots[b.at%budgetSlots]
	s.done += done
	s.dead += dead
	b.done += done
	b.dead += dead
	over := !b.exceeded && b.done >= b.cfg.MinRecords && float64(b.dead) > b.cfg.MaxRatio*float64(b.done)
	var reason string
	if over {
		b.exceeded = true
		reason = fmt.Sprintf("error budget spent: %d of the last %d finished records were dead-lettered within %s (errors.budget.max_ratio %g)",
			b.dead, b.done, b.cfg.Window, b.cfg.MaxRatio)
	}
	b.mu.Unlock()
	if over {
		b.spent(reason)
	}
}

// advance clears the slots that fell out of the window.
func (b *budget) advance() {
	cur := b.now().UnixNano() / int64(b.cfg.Window/budgetSlots)
	for ; b.at < cur; b.at++ {
		if cur-b.at > budgetSlots {
			b.at = cur - budgetSlots // the whole window is old: clear it once
		}
		s := &b.slots[(b.at+1)%budgetSlots]
		b.done -= s.done
		b.dead -= s.dead
		*s = struct{ done, dead int }{}
	}
}

// reset empties the window and rearms the budget (a resume).
func (b *budget) reset() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.slots = [budgetSlots]struct{ done, dead int }{}
	b.done, b.dead, b.exceeded = 0, 0, false
}
