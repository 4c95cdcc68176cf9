package engine

import (
	"context"
	"sync"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
)

// timeout bounds one run of the chain, like Watermill's middleware.Timeout,
// but its timer starts only when a step asks for the context's Done
// channel: most steps (filter, set, rename…) never wait on anything, and a
// timer per record was a few per cent of the record path at 100k records
// a second. A step that waits (jq, a lookup) gets a real deadline, started
// when it first asks, ending at the same instant as an eager one would.
func timeout(d time.Duration) message.HandlerMiddleware {
	return func(h message.HandlerFunc) message.HandlerFunc {
		return func(msg *message.Message) ([]*message.Message, error) {
			var ctx *lazyDeadline
			if w := workOf(msg); w != nil {
				ctx = &w.deadline // allocated with the work
			} else {
				ctx = new(lazyDeadline)
			}
			ctx.Context, ctx.at = msg.Context(), time.Now().Add(d)
			defer ctx.stop()
			msg.SetContext(ctx)
			return h(msg)
		}
	}
}

// lazyDeadline is a context that ends at `at` (or with its parent), whose
// timer is made on the first call of Done. After stop it is canceled,
// like the context of Watermill's Timeout once the handler returned.
type lazyDeadline struct {
	context.Context // the parent
	at              time.Time

	mu      sync.Mutex
	timed   context.Context // made by the first Done
	cancel  context.CancelFunc
	stopped bool
}

// closed is the Done channel of a context stopped before anyone asked.
var closed = func() chan struct{} {
	c := make(chan struct{})
	close(c)
	return c
}()

func (c *lazyDeadline) Deadline() (time.Time, bool) {
	if p, ok := c.Context.Deadline(); ok && p.Before(c.at) {
		return p, true
	}
	return c.at, true
}

func (c *lazyDeadline) Done() <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.timed == nil {
		if c.stopped {
			return closed
		}
		c.timed, c.cancel = context.WithDeadline(c.Context, c.at)
	}
	return c.timed.Done()
}

func (c *lazyDeadline) Err() error {
	c.mu.Lock()
	timed, stopped := c.timed, c.stopped
	c.mu.Unlock()
	switch {
	case timed != nil:
		return timed.Err()
	case stopped:
		return context.Canceled
	case c.Context.Err() != nil:
		return c.Context.Err()
	case !time.Now().Before(c.at):
		return context.DeadlineExceeded
	}
	return nil
}

// stop ends the context and releases its timer, if one was made.
func (c *lazyDeadline) stop() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.stopped = true
	if c.cancel != nil {
		c.cancel()
	}
}

// asked reports whether anyone asked for the context's Done channel.
func (c *lazyDeadline) asked() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.timed != nil
}
