package engine

import (
	"time"

	cbackoff "github.com/cenkalti/backoff/v5"
)

// retryRandomization spreads the retries of many records over time.
const retryRandomization = 0.2

// backoff is the exponential backoff of one record's produce retries.
type backoff struct{ b *cbackoff.ExponentialBackOff }

func newBackoff(r Retry) *backoff {
	b := &cbackoff.ExponentialBackOff{
		InitialInterval:     r.InitialInterval,
		RandomizationFactor: retryRandomization,
		Multiplier:          r.Multiplier,
		MaxInterval:         r.MaxInterval,
	}
	b.Reset()
	return &backoff{b}
}

func (b *backoff) next() time.Duration { return b.b.NextBackOff() }
