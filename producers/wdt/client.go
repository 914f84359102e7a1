// Package wdt speaks 旺店通旗舰版 (WDT ultimate)'s direct open API: system
// parameters in the query string, business parameters as a JSON array in
// the body, the MD5 signature of vendors.md §3.2, 0-based pages.
//
// The client classifies every answer: status 0 is success; status 100 with
// the frequency message is throttling; HTTP 5xx, timeouts, broken
// connections and truncated bodies are transient; all of those are retried
// with jittered exponential backoff until the context ends, so a page is
// never skipped. Any other status is a vendor error (*APIError), returned at
// once with the vendor's code and message. Calls stay within a per-account
// rate limit. Secrets never reach a log or an error.
package wdt

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"github.com/ferry-data/ferry/internal/vendorhttp"
	"github.com/ferry-data/ferry/vendors"
)

// ThrottleMessage is the message WDT answers, with status 100, when an
// account exceeds its per-minute call budget.
const ThrottleMessage = "超过每分钟最大调用频率限制，请稍后重试"

// MaxPageSize is the largest page ferry asks for: WDT documents no hard
// maximum and advises "200以下" (vendors.md §3.4).
const MaxPageSize = 200

// Config holds a WDT account and how to call it.
type Config struct {
	// URL is the full endpoint, as http://wdt.wangdian.cn/openapi.
	URL string
	// SID is the seller account, AppKey the application key, AppSecret
	// the "secret:salt" pair.
	SID, AppKey, AppSecret string
	// Options are every client's; the budget defaults to one call a second.
	vendors.Options
}

// Client calls one WDT account.
type Client struct {
	cfg    Config
	secret string
	salt   string
	api    *vendorhttp.Caller // the account's HTTP client, budget, retries and log
}

// APIError is an answer with a non-zero status that is not throttling.
type APIError struct {
	Method  string
	Status  int
	Message string
}

func (e *APIError) Error() string {
	return fmt.Sprintf("wdt %s: status %d: %s", e.Method, e.Status, e.Message)
}

// New returns a client for the account.
func New(cfg Config) (*Client, error) {
	if cfg.URL == "" || cfg.SID == "" || cfg.AppKey == "" || cfg.AppSecret == "" {
		return nil, errors.New("wdt: URL, SID, AppKey and AppSecret are required")
	}
	secret, salt := SplitSecret(cfg.AppSecret)
	if salt == "" {
		return nil, errors.New("wdt: AppSecret must be in the secret:salt form")
	}
	cfg.Options = cfg.Defaults(1)
	return &Client{
		cfg:    cfg,
		secret: secret,
		salt:   salt,
		api:    vendorhttp.NewCaller("wdt", cfg.Options, "sid", cfg.SID),
	}, nil
}

// Page is one page of a search.
type Page struct {
	// Total is the number of matches (the call asks for calc_total).
	Total int
	// Records are the raw records, as the vendor sent them.
	Records []json.RawMessage
}

type envelope struct {
	Status  *int   `json:"status"`
	Message string `json:"message"`
	Data    *struct {
		TotalCount int               `json:"total_count"`
		Order      []json.RawMessage `json:"order"`
	} `json:"data"`
}

// Search calls method with the business params, asking for page pageNo
// (0-based) of pageSize records and the total count. It retries throttling
// and transient failures until ctx ends.
func (c *Client) Search(ctx context.Context, method string, params map[string]any, pageNo, pageSize int) (Page, error) {
	body, err := json.Marshal([]map[string]any{params})
	if err != nil {
		return Page{}, err
	}
	var page Page
	err = c.api.Do(ctx, func() error {
		page, err = c.call(ctx, method, string(body), pageNo, pageSize)
		return err
	}, "method", method, "page_no", pageNo)
	return page, err
}

func (c *Client) call(ctx context.Context, method, body string, pageNo, pageSize int) (Page, error) {
	q := map[string]string{
		"sid":        c.cfg.SID,
		"key":        c.cfg.AppKey,
		"salt":       c.salt,
		"method":     method,
		"v":          "1.0",
		"timestamp":  Timestamp(c.cfg.Now()),
		"page_no":    strconv.Itoa(pageNo),
		"page_size":  strconv.Itoa(pageSize),
		"calc_total": "1",
		"body":       body,
	}
	q["sign"] = Sign(q, c.secret)
	delete(q, "body")
	resp, err := c.api.HTTP.R().
		SetContext(ctx).
		SetQueryParams(q).
		SetHeader("Content-Type", "application/json").
		SetBody(body).
		Post(c.cfg.URL)
	if err != nil {
		return Page{}, vendorhttp.Unanswered(ctx, err)
	}
	if err := vendorhttp.Status(resp); err != nil {
		return Page{}, fmt.Errorf("wdt %s: %w", method, err)
	}
	return readPage(method, resp.Body())
}

// readPage reads an answer of method: its page, or the error that says
// what the answer is (a throttle, a refusal, an answer that is not WDT's).
func readPage(method string, body []byte) (Page, error) {
	var env envelope
	if err := json.Unmarshal(body, &env); err != nil {
		return Page{}, vendorhttp.Unreadable("unreadable body (%d bytes): %w", len(body), err)
	}
	// An answer without status, or a success without data, is not WDT's
	// (a gateway's page, a wrapper): read as an empty page it would skip
	// records, so it is retried like any failure.
	switch {
	case env.Status == nil:
		return Page{}, vendorhttp.Unreadable("an answer without status (%d bytes)", len(body))
	case *env.Status == 0 && env.Data != nil && env.Data.TotalCount < 0:
		return Page{}, vendorhttp.Unreadable("a success counting %d records", env.Data.TotalCount)
	case *env.Status == 0 && env.Data != nil:
		return Page{Total: env.Data.TotalCount, Records: env.Data.Order}, nil
	case *env.Status == 0:
		return Page{}, vendorhttp.Unreadable("a success without data")
	case *env.Status == 100 && env.Message == ThrottleMessage:
		return Page{}, vendorhttp.Throttle(0, "throttled: status %d: %s", *env.Status, env.Message)
	}
	// WDT answers status 100 to every refusal, a bad signature as a bad
	// parameter (vendors.md §3.5): its refusals count as failures, not as
	// refused credentials, since nothing tells them apart but the text.
	return Page{}, &APIError{Method: method, Status: *env.Status, Message: env.Message}
}
