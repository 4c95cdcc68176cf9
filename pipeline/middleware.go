package pipeline

import (
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/message/router/middleware"
	"github.com/millrace-dev/millrace/pipeline/config"
)

// middleware returns a pipeline's Watermill middleware, outermost first:
//
//  1. poison queue (dead-letter topic) for data errors, or, without a
//     dead-letter topic, a stop of the pipeline (halt);
//  2. retry with exponential backoff, for errors that may pass (publish
//     failures); data errors are not retried;
//  3. timeout, bounding one attempt;
//  4. recoverer, turning a panic into a data error.
//
// Errors that are not data errors and outlast the retries nack the message,
// which the subscriber redelivers: nothing is skipped.
//
// Without retries (2 left out), for handlers that do not publish: every
// error left inside them is a data error, and the caller retries its
// publishes itself (see publishOutputs).
func (r *Runner) middleware(p *config.Pipeline, pub message.Publisher, halt func(), retries bool) ([]message.HandlerMiddleware, error) {
	var first message.HandlerMiddleware
	if p.Errors.DeadLetterTopic != "" {
		pq, err := middleware.PoisonQueueWithFilter(r.deadLetters(p, pub), p.Errors.DeadLetterTopic, isDataError)
		if err != nil {
			return nil, err
		}
		first = pq
	} else {
		first = func(next message.HandlerFunc) message.HandlerFunc {
			return func(msg *message.Message) ([]*message.Message, error) {
				out, err := next(msg)
				if isDataError(err) {
					r.stop(p, halt, err)
				}
				return out, err
			}
		}
	}
	if !retries {
		return r.observed(p, []message.HandlerMiddleware{
			first,
			middleware.Timeout(p.Timeout),
			middleware.Recoverer,
		}, 0), nil
	}
	rc := p.Errors.Retry
	retry := middleware.Retry{
		MaxRetries:          rc.MaxRetries,
		InitialInterval:     rc.InitialInterval,
		MaxInterval:         rc.MaxInterval,
		Multiplier:          rc.Multiplier,
		RandomizationFactor: retryRandomization,
		ShouldRetry:         func(rp middleware.RetryParams) bool { return !isDataError(rp.Err) },
		ResetContextOnRetry: true,
	}
	return r.observed(p, []message.HandlerMiddleware{
		first,
		retry.Middleware,
		middleware.Timeout(p.Timeout),
		middleware.Recoverer,
	}, 1), nil
}

// retryRandomization spreads retries of many records over time.
const retryRandomization = 0.2
