package vendorhttp

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/go-resty/resty/v2"
	"golang.org/x/time/rate"

	"github.com/ferry-data/ferry/internal/backoff"
	"github.com/ferry-data/ferry/internal/stats"
	"github.com/ferry-data/ferry/vendors"
)

// Caller makes the calls of one vendor account: one HTTP client that shows
// every answer's headers to the options' observer, one call budget, and
// one way of retrying, whose log says why.
type Caller struct {
	// HTTP is the account's client.
	HTTP *resty.Client
	// Log is the account's log, with the vendor and the account named.
	Log     *slog.Logger
	vendor  string
	limiter *rate.Limiter
	policy  backoff.Policy
}

// NewCaller makes the caller of an account of vendor; account names it in
// the log (key, value pairs, never a secret).
func NewCaller(vendor string, o vendors.Options, account ...any) *Caller {
	return &Caller{
		HTTP:    New(vendor, o.Timeout, o.MaxAnswer, o.Observe),
		Log:     o.Logger.With(append([]any{"vendor", vendor}, account...)...),
		vendor:  vendor,
		limiter: rate.NewLimiter(o.Limit, 1),
		policy:  o.Backoff,
	}
}

// Wait waits until the budget allows one more call.
func (c *Caller) Wait(ctx context.Context) error { return c.limiter.Wait(ctx) }

// Do runs call as Retry does, each attempt within the budget.
func (c *Caller) Do(ctx context.Context, call func() error, attrs ...any) error {
	return c.Retry(ctx, func() error {
		if err := c.Wait(ctx); err != nil {
			return err
		}
		return call()
	}, attrs...)
}

// Retry runs call until it succeeds, fails for good, or ctx ends, and
// retries what the backoff package calls transient, after the wait it
// asks. Each retry is logged as "<vendor> call failed, backing off" with
// attrs, the attempt, the wait, what the error adds through a LogAttrs
// method, and the error. When ctx ends first, the error also names the
// last failure. Each attempt's outcome and each wait are counted for the
// flow ctx names (stats.WithFlow).
func (c *Caller) Retry(ctx context.Context, call func() error, attrs ...any) error {
	var last error
	flow := stats.FlowOf(ctx)
	attempt := func() error {
		err := call()
		if ctx.Err() == nil || err == nil {
			flow.Call(c.vendor, Outcome(err))
		}
		return err
	}
	err := backoff.Do(ctx, c.policy, attempt, func(attempt int, wait time.Duration, err error) {
		flow.Backoff(c.vendor, wait)
		last = err
		a := append([]any{}, attrs...)
		if flow.Name() != "" {
			a = append(a, "flow", flow.Name())
		}
		a = append(a, "attempt", attempt+1, "wait", wait)
		var la interface{ LogAttrs() []any }
		if errors.As(err, &la) {
			a = append(a, la.LogAttrs()...)
		}
		c.Log.Warn(c.vendor+" call failed, backing off", append(a, "err", err.Error())...)
	})
	if err != nil && ctx.Err() != nil && last != nil {
		return fmt.Errorf("%w (last failure: %v)", err, last)
	}
	return err
}

// Unanswered is the error of a call that got no answer it could read:
// ctx's, when it ended; an answer over the size limit (Options.MaxAnswer);
// or else a transient error without the URL's secrets.
func Unanswered(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if errors.Is(err, resty.ErrResponseBodyTooLarge) {
		return Unreadable("an answer over the size limit (FERRY_VENDOR_ANSWER_LIMIT): %v", err)
	}
	var u *outcome
	if errors.As(err, &u) {
		return err // an answer that did not decode (toUTF8)
	}
	return backoff.Transient("%v", Redact(err))
}
