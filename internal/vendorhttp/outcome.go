package vendorhttp

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/go-resty/resty/v2"

	"github.com/ferry-data/ferry/internal/backoff"
)

// How a vendor call ended, as the metrics count it (stats.Outcomes).
const (
	OK          = "ok"
	Throttled   = "throttled"
	Failed      = "failed"
	AuthRefused = "auth_refused"
	BadAnswer   = "bad_answer"
)

// Outcome tells how a call that returned err ended: OK for nil, what the
// error says through an Outcome method (a vendor's APIError tells its
// credential codes so), else Failed.
func Outcome(err error) string {
	if err == nil {
		return OK
	}
	var o interface{ Outcome() string }
	if errors.As(err, &o) {
		return o.Outcome()
	}
	return Failed
}

// Mark returns err marked with the outcome (one of the constants above)
// it stands for.
func Mark(kind string, err error) error { return &outcome{kind, err} }

// outcome marks an error with the outcome it stands for.
type outcome struct {
	kind string
	err  error
}

func (o *outcome) Error() string   { return o.err.Error() }
func (o *outcome) Unwrap() error   { return o.err }
func (o *outcome) Outcome() string { return o.kind }

// Throttle is the error of a call the vendor throttled: retried after at
// least after (0: the backoff policy's wait).
func Throttle(after time.Duration, format string, args ...any) error {
	return &backoff.Retry{Err: &outcome{Throttled, fmt.Errorf(format, args...)}, After: after}
}

// Unreadable is the error of an answer that is not the vendor's (a body
// that does not parse, a success without data, a gateway's page): read as
// an empty page it would skip records, so it is retried.
func Unreadable(format string, args ...any) error {
	return &backoff.Retry{Err: &outcome{BadAnswer, fmt.Errorf(format, args...)}}
}

// Status reads an answer's HTTP status: nil for 200; a throttle for 429
// and a transient failure for 5xx, both after the wait Retry-After asks;
// for 401 and 403 a refusal of the credentials; else a failure for good.
func Status(resp *resty.Response) error {
	code := resp.StatusCode()
	switch {
	case code == http.StatusOK:
		return nil
	case code == http.StatusTooManyRequests:
		return Throttle(RetryAfter(resp.Header(), time.Now()), "HTTP %d", code)
	case code >= 500:
		return &backoff.Retry{Err: fmt.Errorf("HTTP %d", code), After: RetryAfter(resp.Header(), time.Now())}
	case code == http.StatusUnauthorized || code == http.StatusForbidden:
		return &outcome{AuthRefused, fmt.Errorf("HTTP %d", code)}
	}
	return fmt.Errorf("HTTP %d", code)
}
