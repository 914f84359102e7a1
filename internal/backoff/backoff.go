// Package backoff holds ferry's one retry wait: full-jitter exponential
// backoff, and a sleep that ends with its context.
package backoff

import (
	"context"
	"math/rand/v2"
	"time"
)

// Policy shapes the waits between attempts.
type Policy struct {
	// Base is the wait before the second attempt, on average; default 500ms.
	Base time.Duration
	// Max caps a wait; default 30s.
	Max time.Duration
}

// Delay is the wait after the given failed attempt (0-based): a random
// duration between half and all of Base·2^attempt, capped at Max.
func (p Policy) Delay(attempt int) time.Duration {
	base, limit := p.Base, p.Max
	if base <= 0 {
		base = 500 * time.Millisecond
	}
	if limit <= 0 {
		limit = 30 * time.Second
	}
	d := base << min(attempt, 30)
	if d > limit || d <= 0 {
		d = limit
	}
	return d/2 + rand.N(d/2+1)
}

// Sleep waits for d, or returns ctx's error when it ends first.
func Sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
