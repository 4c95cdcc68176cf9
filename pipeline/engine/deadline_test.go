package engine

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
)

// runTimed runs step inside the timeout middleware and returns the
// context the step saw.
func runTimed(t *testing.T, d time.Duration, step func(ctx context.Context)) context.Context {
	t.Helper()
	var seen context.Context
	h := timeout(d)(func(msg *message.Message) ([]*message.Message, error) {
		seen = msg.Context()
		step(seen)
		return nil, nil
	})
	if _, err := h(message.NewMessage("", nil)); err != nil {
		t.Fatal(err)
	}
	return seen
}

// A step that waits on Done is stopped at the deadline, as with an eager
// timer; a step that never asks sees Err turn at the deadline too.
func TestLazyDeadline(t *testing.T) {
	start := time.Now()
	var waited error
	runTimed(t, 50*time.Millisecond, func(ctx context.Context) {
		if dl, ok := ctx.Deadline(); !ok || dl.Sub(start) > time.Second {
			t.Errorf("deadline %v %v", dl, ok)
		}
		select {
		case <-ctx.Done():
			waited = ctx.Err()
		case <-time.After(20 * time.Second):
		}
	})
	if !errors.Is(waited, context.DeadlineExceeded) {
		t.Errorf("a waiting step got %v, want the deadline", waited)
	}
	if d := time.Since(start); d < 50*time.Millisecond {
		t.Errorf("done after %v, before the deadline", d)
	}

	var before, after error
	ctx := runTimed(t, 30*time.Millisecond, func(ctx context.Context) {
		before = ctx.Err()
		time.Sleep(60 * time.Millisecond)
		after = ctx.Err()
		select {
		case <-ctx.Done():
		default:
			t.Error("Done not closed after the deadline")
		}
	})
	if before != nil || !errors.Is(after, context.DeadlineExceeded) {
		t.Errorf("Err before the deadline %v, after %v", before, after)
	}
	// After the run, like Watermill's Timeout, the context is canceled.
	if ctx.Err() == nil {
		t.Error("the context outlived its run")
	}
	select {
	case <-ctx.Done():
	default:
		t.Error("Done open after the run")
	}
}

// A context never asked for Done is canceled after its run, and one that
// is asked only then is done at once; a parent's earlier deadline wins.
func TestLazyDeadlineStopped(t *testing.T) {
	ctx := runTimed(t, time.Hour, func(ctx context.Context) {
		if ctx.Err() != nil {
			t.Errorf("Err %v during the run", ctx.Err())
		}
	})
	if !errors.Is(ctx.Err(), context.Canceled) {
		t.Errorf("Err after the run %v", ctx.Err())
	}
	select {
	case <-ctx.Done():
	default:
		t.Error("Done open after the run")
	}
	parent, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	lazy := &lazyDeadline{Context: parent, at: time.Now().Add(time.Hour)}
	defer lazy.stop()
	if pd, _ := parent.Deadline(); func() time.Time { d, _ := lazy.Deadline(); return d }() != pd {
		t.Error("the parent's earlier deadline is not the one given")
	}
	cancel()
	if !errors.Is(lazy.Err(), context.Canceled) {
		t.Errorf("a canceled parent: Err %v", lazy.Err())
	}
}
