package config

import (
	"math"
	"time"

	"github.com/millrace-dev/millrace/transforms/spec"
)

// rateLimit reads input.rate_limit and input.rate_burst.
func (b *builder) rateLimit(p *Pipeline, in *spec.Value) {
	lv, bv := in.Get("rate_limit"), in.Get("rate_burst")
	p.Input.RateLimit = floatOr(lv, 0)
	if lv != nil && !lv.Failed && (p.Input.RateLimit <= 0 || math.IsInf(p.Input.RateLimit, 0)) {
		b.errs = append(b.errs, lv.Errorf("rate_limit must be more than 0 records per second").WithHint("leave it out for no limit"))
	}
	if lv != nil {
		p.Input.RateBurst = intOr(bv, max(1, int(p.Input.RateLimit/20)))
	}
	switch {
	case bv == nil:
	case lv == nil:
		b.errs = append(b.errs, bv.Errorf("rate_burst without rate_limit").WithHint("set input.rate_limit too, or leave rate_burst out"))
	case p.Input.RateBurst < 1:
		b.errs = append(b.errs, bv.Errorf("rate_burst must be at least 1"))
	}
}

// budget reads errors.budget; nil when absent.
func (b *builder) budget(v, deadLetter *spec.Value) *Budget {
	if v == nil || v.Kind != spec.KindMap {
		return nil
	}
	bu := &Budget{
		MaxRatio:   floatOr(v.Get("max_ratio"), 0),
		Window:     durationOr(v.Get("window"), DefaultBudgetWindow),
		MinRecords: intOr(v.Get("min_records"), DefaultBudgetMinRecords),
	}
	if rv := v.Get("max_ratio"); rv != nil && !rv.Failed && (bu.MaxRatio <= 0 || bu.MaxRatio > 1) {
		b.errs = append(b.errs, rv.Errorf("max_ratio must be more than 0 and at most 1").WithHint("0.05 pauses when more than 5% of the records are dead-lettered"))
	}
	if wv := v.Get("window"); wv != nil && !wv.Failed && bu.Window < minBudgetWindow {
		b.errs = append(b.errs, wv.Errorf("window must be at least %s", minBudgetWindow))
	}
	if mv := v.Get("min_records"); mv != nil && !mv.Failed && bu.MinRecords < 1 {
		b.errs = append(b.errs, mv.Errorf("min_records must be at least 1"))
	}
	if b.cfg.Kafka.Adapter == AdapterWatermillKafka {
		b.errs = append(b.errs, v.Errorf("errors.budget needs Millrace's Kafka adapter: Watermill's cannot pause fetching").WithHint("remove kafka.adapter: watermill-kafka, or the budget"))
	}
	if deadLetter == nil {
		b.errs = append(b.errs, v.Errorf("errors.budget without errors.dead_letter_topic: without one, a failed record stops the pipeline").WithHint("set errors.dead_letter_topic"))
	}
	return bu
}

// minBudgetWindow is the shortest errors.budget.window: the share is kept
// in a tenth of the window per slot (see pipeline's budget), and a slot
// shorter than 100ms would be mostly empty.
const minBudgetWindow = time.Second
