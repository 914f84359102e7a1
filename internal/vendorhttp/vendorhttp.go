// Package vendorhttp holds what every vendor client does the same way with
// HTTP: its resty client, which shows every answer's headers to an
// observer (ferry learns the vendor's clock from their Date) and times
// every request for the flow it is made for; how a call ended; and
// keeping secrets out of transport errors.
package vendorhttp

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/go-resty/resty/v2"

	"github.com/ferry-data/ferry/internal/stats"
)

// New returns a resty client of vendor with the timeout. observe, when
// not nil, sees the headers of every answer. Each request's time is
// counted for the flow its context names (stats.WithFlow).
func New(vendor string, timeout time.Duration, observe func(http.Header)) *resty.Client {
	c := resty.New().SetTimeout(timeout)
	c.OnAfterResponse(func(_ *resty.Client, r *resty.Response) error {
		stats.FlowOf(r.Request.Context()).Request(vendor, r.Time())
		if observe != nil {
			observe(r.Header())
		}
		return nil
	})
	c.OnError(func(r *resty.Request, _ error) {
		stats.FlowOf(r.Context()).Request(vendor, time.Since(r.Time))
	})
	return c
}

// Redact drops the query string, user info and fragment from a transport
// error's URL: vendors carry keys, tokens and signatures in the query.
func Redact(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		u, perr := url.Parse(ue.URL)
		if perr == nil {
			u.RawQuery, u.User, u.Fragment = "", nil, ""
			return &url.Error{Op: ue.Op, URL: u.String(), Err: ue.Err}
		}
		return ue.Err
	}
	return err
}

// RetryAfter reads an answer's Retry-After header, in seconds or as an
// HTTP date; 0 when there is none.
func RetryAfter(h http.Header, now time.Time) time.Duration {
	v := h.Get("Retry-After")
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(v); err == nil && s > 0 {
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}
