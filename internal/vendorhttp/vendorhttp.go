// Package vendorhttp holds what every vendor client does the same way with
// HTTP: its resty client, which shows every answer's headers to an
// observer (ferry learns the vendor's clock from their Date) and times
// every request for the flow it is made for; how a call ended; and
// keeping secrets out of transport errors.
package vendorhttp

import (
	"errors"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/go-resty/resty/v2"
	"golang.org/x/text/encoding/simplifiedchinese"

	"github.com/ferry-data/ferry/internal/stats"
)

// New returns a resty client of vendor with the timeout, which reads
// answers of at most maxAnswer bytes (0: no limit) and turns an answer
// its Content-Type says is GBK, GB2312 or GB18030 into UTF-8. observe,
// when not nil, sees the headers of every answer. Each request's time is
// counted for the flow its context names (stats.WithFlow).
func New(vendor string, timeout time.Duration, maxAnswer int, observe func(http.Header)) *resty.Client {
	c := resty.New().SetTimeout(timeout)
	if maxAnswer > 0 {
		c.SetResponseBodyLimit(maxAnswer)
	}
	c.OnAfterResponse(func(_ *resty.Client, r *resty.Response) error {
		stats.FlowOf(r.Request.Context()).Request(vendor, r.Time())
		if observe != nil {
			observe(r.Header())
		}
		return toUTF8(r)
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

// toUTF8 turns the body of an answer in a Chinese national encoding (GBK,
// GB2312, or their superset GB18030, as its Content-Type charset says)
// into UTF-8, which the clients read.
func toUTF8(r *resty.Response) error {
	_, params, err := mime.ParseMediaType(r.Header().Get("Content-Type"))
	if err != nil {
		return nil // no charset said: read as UTF-8
	}
	switch strings.ToLower(params["charset"]) {
	case "gbk", "gb2312", "gb18030":
		b, err := simplifiedchinese.GB18030.NewDecoder().Bytes(r.Body())
		if err != nil {
			return Unreadable("a %s answer that does not decode: %w", params["charset"], err)
		}
		r.SetBody(b)
	}
	return nil
}
