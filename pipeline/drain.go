package pipeline

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
)

// drainingSubscriber makes a shutdown commit everything that was written.
//
// Watermill's router cancels the subscription context as soon as it starts
// closing, and closes subscribers right away; watermill-kafka then drops the
// acks of messages still in the handler, so records already written would be
// consumed again after a restart. This wrapper subscribes with a context that
// is not cancelled, and on cancellation or Close it stops handing out
// messages, waits (bounded) until those in flight are acked or nacked, and
// only then closes the subscriber, which commits the marked offsets.
type drainingSubscriber struct {
	message.Subscriber
	timeout  time.Duration
	inflight atomic.Int64
	closing  chan struct{} // no more messages are handed out
	closed   chan struct{} // the subscriber is closed
	once     sync.Once
	err      error
}

// markGrace is how long Close waits after the last ack. watermill-kafka marks
// an acked offset in another goroutine and skips the mark once the session
// ends, which closing any partition's claim does; the pause lets the pending
// marks land.
const markGrace = 250 * time.Millisecond

func newDrainingSubscriber(s message.Subscriber, timeout time.Duration) *drainingSubscriber {
	return &drainingSubscriber{Subscriber: s, timeout: timeout, closing: make(chan struct{}), closed: make(chan struct{})}
}

func (d *drainingSubscriber) Subscribe(ctx context.Context, topic string) (<-chan *message.Message, error) {
	in, err := d.Subscriber.Subscribe(context.WithoutCancel(ctx), topic)
	if err != nil {
		return nil, err
	}
	go func() {
		select {
		case <-ctx.Done():
			_ = d.Close()
		case <-d.closed:
		}
	}()
	out := make(chan *message.Message)
	go func() {
		defer close(out)
		for msg := range in {
			d.inflight.Add(1)
			select {
			case out <- msg:
				go d.settle(msg)
			case <-d.closing:
				// Not handed out: left unacked, it is consumed again later.
				d.inflight.Add(-1)
			}
		}
	}()
	return out, nil
}

func (d *drainingSubscriber) settle(msg *message.Message) {
	select {
	case <-msg.Acked():
	case <-msg.Nacked():
	}
	d.inflight.Add(-1)
}

// Close drains and closes; later calls wait for the first to finish.
func (d *drainingSubscriber) Close() error {
	d.once.Do(func() {
		close(d.closing)
		deadline := time.Now().Add(d.timeout)
		for d.inflight.Load() > 0 && time.Now().Before(deadline) {
			time.Sleep(5 * time.Millisecond)
		}
		time.Sleep(markGrace)
		d.err = d.Subscriber.Close()
		close(d.closed)
	})
	<-d.closed
	return d.err
}
