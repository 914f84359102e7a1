// Package backoff holds ferry's one way to retry: an error that says
// "retry this" (Retry, with an optional wait the other side asked for),
// full-jitter exponential backoff, the loop that retries (Do), and a sleep
// that ends with its context.
package backoff

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"
)

// Policy shapes the waits between attempts.
type Policy struct {
	// Base is the wait before the second attempt, on average; default 500ms.
	Base time.Duration
	// Max caps a wait; default 30s.
	Max time.Duration
	// Tries bounds how many times Do runs its op; 0 means until ctx
	// ends. The last try's failure is returned as its cause, no longer
	// marked Retry.
	Tries int
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

// Retry marks a failure worth trying again: a lost connection, a throttle,
// a server error. After, when set, is the least the failing side asked to
// wait (an HTTP Retry-After, or its equivalent in a vendor's body). It
// wraps its cause. Every vendor client and writer says "retry this" with
// it, and Do retries what it marks.
type Retry struct {
	Err   error
	After time.Duration
}

func (r *Retry) Error() string { return "transient: " + r.Err.Error() }

// Unwrap returns the cause.
func (r *Retry) Unwrap() error { return r.Err }

// Transient returns a *Retry of a formatted cause (%w wraps).
func Transient(format string, args ...any) error {
	return &Retry{Err: fmt.Errorf(format, args...)}
}

// Retryable reports whether err is, or wraps, a *Retry, and returns it.
func Retryable(err error) (*Retry, bool) {
	var r *Retry
	ok := errors.As(err, &r)
	return r, ok
}

// Do runs op until it succeeds, fails with an error that is not
// retryable, has run p.Tries times (when set), or ctx ends. Between attempts it waits the policy's delay, or
// longer when the error asks to (Retry.After), and first tells notify
// (attempt is 0-based), which logs.
func Do(ctx context.Context, p Policy, op func() error, notify func(attempt int, wait time.Duration, err error)) error {
	for attempt := 0; ; attempt++ {
		err := op()
		if err == nil {
			return nil
		}
		r, ok := Retryable(err)
		if !ok || ctx.Err() != nil {
			return err
		}
		if p.Tries > 0 && attempt+1 >= p.Tries {
			return r.Err
		}
		wait := max(p.Delay(attempt), r.After)
		if notify != nil {
			notify(attempt, wait, err)
		}
		if err := Sleep(ctx, wait); err != nil {
			return err
		}
	}
}
