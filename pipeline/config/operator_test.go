package config_test

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

const operatorYAML = `version: 1
pipelines:
  - name: a
    input: {topic: in%s}
    output: {topic: out}
    errors: {%s}
`

// input.rate_limit and errors.budget are read with their defaults, and
// wrong values are errors at their position.
func TestRateLimitAndBudget(t *testing.T) {
	p := parse(t, fmt.Sprintf(operatorYAML, ", rate_limit: 500", "dead_letter_topic: dlq, budget: {max_ratio: 0.05}"), nil).Pipelines[0]
	if p.Input.RateLimit != 500 || p.Input.RateBurst != 25 {
		t.Errorf("rate %v burst %d, want 500 and 25", p.Input.RateLimit, p.Input.RateBurst)
	}
	if b := p.Errors.Budget; b == nil || b.MaxRatio != 0.05 || b.Window != time.Minute || b.MinRecords != 100 {
		t.Errorf("budget %+v", b)
	}
	p = parse(t, fmt.Sprintf(operatorYAML, ", rate_limit: 2.5, rate_burst: 7", "dead_letter_topic: dlq, budget: {max_ratio: 1, window: 10s, min_records: 5}"), nil).Pipelines[0]
	if p.Input.RateLimit != 2.5 || p.Input.RateBurst != 7 || p.Errors.Budget.Window != 10*time.Second || p.Errors.Budget.MinRecords != 5 {
		t.Errorf("rate %v burst %d budget %+v", p.Input.RateLimit, p.Input.RateBurst, p.Errors.Budget)
	}
	if p := parse(t, fmt.Sprintf(operatorYAML, "", "dead_letter_topic: dlq"), nil).Pipelines[0]; p.Input.RateLimit != 0 || p.Errors.Budget != nil {
		t.Errorf("defaults: rate %v budget %+v", p.Input.RateLimit, p.Errors.Budget)
	}
	for _, c := range []struct{ input, errors, want string }{
		{", rate_limit: 0", "", "test.yaml:4:36: rate_limit must be more than 0"},
		{", rate_burst: 3", "", "test.yaml:4:36: rate_burst without rate_limit"},
		{", rate_limit: 10, rate_burst: 0", "", "test.yaml:4:52: rate_burst must be at least 1"},
		{"", "budget: {max_ratio: 0.1}", "errors.budget without errors.dead_letter_topic"},
		{"", "dead_letter_topic: dlq, budget: {max_ratio: 0}", "test.yaml:6:58: max_ratio must be more than 0 and at most 1"},
		{"", "dead_letter_topic: dlq, budget: {max_ratio: 0.1, window: 100ms}", "window must be at least 1s"},
		{"", "dead_letter_topic: dlq, budget: {max_ratio: 0.1, min_records: 0}", "min_records must be at least 1"},
		{"", "dead_letter_topic: dlq, budget: {window: 1m}", "max_ratio"},
	} {
		if got := parseErr(t, fmt.Sprintf(operatorYAML, c.input, c.errors), nil); !strings.Contains(got, c.want) {
			t.Errorf("input %q errors %q:\n%s\nwant %q", c.input, c.errors, got, c.want)
		}
	}
}
