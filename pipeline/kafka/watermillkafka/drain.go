package watermillkafka

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
)

// DrainingSubscriber makes a shutdown commit everything that was processed.
//
// Watermill's router cancels subscription contexts as soon as it starts
// closing, and closes subscribers right away; watermill-kafka then drops the
// acks of messages still in a handler, so records already written would be
// consumed again after a restart. DrainingSubscriber subscribes with contexts
// that the caller's cancellation does not reach. When a subscription's context
// is cancelled, or the subscriber is closed, it stops handing out messages,
// waits (up to the timeout) until those in flight are acked or nacked, and
// only then ends the subscription, which commits the marked offsets.
type DrainingSubscriber struct {
	sub     message.Subscriber
	timeout time.Duration

	mu      sync.Mutex
	subs    []*subscription
	closing chan struct{}
	closed  chan struct{}
	once    sync.Once
	err     error
}

type subscription struct {
	inflight atomic.Int64
	stop     chan struct{} // closed when no more messages may be handed out
	stopOnce sync.Once
	done     chan struct{} // closed after the output channel is closed
}

// markGrace is how long a drain waits after the last ack. watermill-kafka
// marks an acked offset in another goroutine and skips the mark once the
// session ends; the pause lets the pending marks land.
const markGrace = 250 * time.Millisecond

// NewDrainingSubscriber wraps sub; timeout bounds each drain.
func NewDrainingSubscriber(sub message.Subscriber, timeout time.Duration) *DrainingSubscriber {
	return &DrainingSubscriber{sub: sub, timeout: timeout, closing: make(chan struct{}), closed: make(chan struct{})}
}

// Subscribe subscribes to topic until ctx is cancelled or the subscriber is
// closed, draining in-flight messages first in both cases.
func (d *DrainingSubscriber) Subscribe(ctx context.Context, topic string) (<-chan *message.Message, error) {
	subCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	in, err := d.sub.Subscribe(subCtx, topic)
	if err != nil {
		cancel()
		return nil, err
	}
	s := &subscription{stop: make(chan struct{}), done: make(chan struct{})}
	d.mu.Lock()
	d.subs = append(d.subs, s)
	d.mu.Unlock()
	go func() {
		select {
		case <-ctx.Done():
			s.drain(time.Now().Add(d.timeout))
			cancel()
		case <-d.closed:
			cancel()
		}
	}()
	out := make(chan *message.Message)
	go func() {
		defer close(s.done)
		defer close(out)
		for msg := range in {
			s.inflight.Add(1)
			// Once stopped, never hand out: a select with both cases ready
			// picks one at random, which could pass a message on after the
			// drain finished waiting.
			select {
			case <-s.stop:
				s.inflight.Add(-1)
				continue
			default:
			}
			select {
			case out <- msg:
				go s.settle(msg)
			case <-s.stop:
				// Not handed out: left unacked, it is consumed again later.
				s.inflight.Add(-1)
			}
		}
	}()
	return out, nil
}

func (s *subscription) settle(msg *message.Message) {
	select {
	case <-msg.Acked():
	case <-msg.Nacked():
	}
	s.inflight.Add(-1)
}

// drain stops handing out messages and waits for those in flight.
func (s *subscription) drain(deadline time.Time) {
	s.stopOnce.Do(func() { close(s.stop) })
	for s.inflight.Load() > 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	time.Sleep(markGrace)
}

// Close drains every subscription, then closes the wrapped subscriber, which
// commits the marked offsets. It returns once the output channels of all
// subscriptions are closed. Later calls wait for the first to finish.
func (d *DrainingSubscriber) Close() error {
	d.once.Do(func() {
		close(d.closing)
		deadline := time.Now().Add(d.timeout)
		d.mu.Lock()
		subs := append([]*subscription(nil), d.subs...)
		d.mu.Unlock()
		var wg sync.WaitGroup
		for _, s := range subs {
			wg.Add(1)
			go func() { defer wg.Done(); s.drain(deadline) }()
		}
		wg.Wait()
		d.err = d.sub.Close()
		// The wrapped subscriber has closed its channels; wait until the
		// forwarding goroutines have closed theirs.
		for _, s := range subs {
			<-s.done
		}
		close(d.closed)
	})
	<-d.closed
	return d.err
}
