package pipeline

import (
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/millrace-dev/millrace/pipeline/config"
	"golang.org/x/time/rate"
)

// inputLimiter paces pipeline p's records (input.rate_limit): one limiter
// per pipeline and runner, shared by its workers. Nil without a limit.
func inputLimiter(p *config.Pipeline) *rate.Limiter {
	if p.Input.RateLimit <= 0 {
		return nil
	}
	return rate.NewLimiter(rate.Limit(p.Input.RateLimit), p.Input.RateBurst)
}

// rateLimited is input.rate_limit on the watermill-kafka adapter: each
// message waits for its turn before the handler runs; a wait cut short by
// the shutdown nacks it, unprocessed.
func rateLimited(lim *rate.Limiter) message.HandlerMiddleware {
	return func(h message.HandlerFunc) message.HandlerFunc {
		return func(msg *message.Message) ([]*message.Message, error) {
			if err := lim.Wait(msg.Context()); err != nil {
				return nil, err
			}
			return h(msg)
		}
	}
}
