package pipeline

import (
	"testing"
	"time"

	"github.com/millrace-dev/millrace/pipeline/config"
)

// The budget is spent once, when the share of dead letters in the window
// crosses max_ratio after min_records; records that left the window no
// longer count, and a reset rearms it.
func TestBudgetWindow(t *testing.T) {
	now := time.Unix(1000, 0)
	var reasons []string
	b := newBudget(config.Budget{MaxRatio: 0.05, Window: 10 * time.Second, MinRecords: 100}, func() time.Time { return now })
	b.spent = func(r string) { reasons = append(reasons, r) }
	for range 10 { // 10 dead letters before min_records: not yet
		b.add(1, 1)
	}
	for range 89 {
		b.add(1, 0)
	}
	if len(reasons) != 0 {
		t.Fatalf("spent after 99 records: %v", reasons)
	}
	b.add(1, 0) // 10 of 100 > 5%
	if len(reasons) != 1 {
		t.Fatalf("not spent at 10 dead letters of 100: %v", reasons)
	}
	b.add(1, 1)
	if len(reasons) != 1 {
		t.Fatalf("spent twice: %v", reasons)
	}
	b.reset()
	now = now.Add(5 * time.Second)
	for range 100 {
		b.add(1, 0)
	}
	now = now.Add(6 * time.Second) // those 100 are 6 s old, in the window
	for range 5 {
		b.add(1, 1)
	}
	if len(reasons) != 1 {
		t.Fatalf("5 of 105 spent the budget: %v", reasons)
	}
	now = now.Add(5 * time.Second) // the 100 good ones left the window
	for range 95 {
		b.add(1, 0)
	}
	if b.done != 100 || b.dead != 5 || len(reasons) != 1 {
		t.Fatalf("window holds %d done, %d dead (want 100 and 5); spent %v", b.done, b.dead, reasons)
	}
	b.add(1, 1) // 6 of 101
	if len(reasons) != 2 {
		t.Fatalf("6 of 101 did not spend the rearmed budget: %v", reasons)
	}
	now = now.Add(time.Hour)
	b.add(0, 0)
	if b.done != 0 || b.dead != 0 {
		t.Fatalf("an hour later the window holds %d done, %d dead", b.done, b.dead)
	}
}
