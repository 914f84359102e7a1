// Package jushuitan speaks 聚水潭 (Jushuitan)'s open platform, the new
// "openapi" protocol of vendors.md §1: every call a signed form POST
// (app_key, access_token, timestamp, charset, version=2, biz as a JSON
// string, sign), pages counted from 1, answers {"code","msg","data"}.
//
// The client keeps the account's access token: it gets one with
// getInitToken when it has none, refreshes it when less than
// Config.RefreshMargin remains, and refreshes it when a call answers code
// 100, then calls once more.
//
// It classifies every answer: code 0 is success; codes 199 and 200
// (HTTP 200) are throttling; HTTP 5xx and 429, timeouts, broken
// connections and truncated or unreadable bodies are transient; all of
// those are retried with jittered exponential backoff until the context
// ends, so a page is never skipped. Any other code is a vendor error
// (*APIError), returned at once with the vendor's code and message. Calls
// stay within the account's rate limit. The app secret, the tokens and
// signatures never reach a log or an error.
package jushuitan

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/ferry-data/ferry/internal/backoff"
	"github.com/ferry-data/ferry/internal/vendorhttp"
	"github.com/ferry-data/ferry/vendors"
)

// Paths of the calls ferry makes (vendors.md §1.1).
const (
	OrdersPath       = "/open/orders/out/simple/query"
	ShopsPath        = "/open/shops/query"
	InitTokenPath    = "/openWeb/auth/getInitToken"
	RefreshTokenPath = "/openWeb/auth/refreshToken"
)

// Codes the vendor answers (vendors.md §1.5). CodeInvalid is a stand-in:
// the vendor's code for a refused window or parameter is not known.
const (
	CodeOK               = 0
	CodeBadSign          = 10  // 无效签名
	CodeBadToken         = 100 // 无效的access_token或access_token已过期
	CodeIPDenied         = 110 // IP 不在白名单
	CodeInvalid          = 130 // [S] window or parameter refused, as 时间间隔不能超过七天
	CodeBadTimestamp     = 140 // 无效的timestamp
	CodeRefreshForbidden = 150 // 服务商应用禁止刷新access_token
	CodeNoPermission     = 190 // 无API权限
	CodeThrottledSecond  = 199 // more than 5 calls a second
	CodeThrottledMinute  = 200 // more than 100 calls a minute
)

// DefaultLimit is the account's budget: 100 calls a minute (the tighter of
// the vendor's two quotas, vendors.md §1.6).
const DefaultLimit = rate.Limit(100.0 / 60)

// Config holds a Jushuitan account and how to call it.
type Config struct {
	// URL is the base, as https://openapi.jushuitan.com.
	URL string
	// AppKey and AppSecret are the application's credentials.
	AppKey, AppSecret string
	// AccessToken and RefreshToken are optional: without an access token
	// the client refreshes one with RefreshToken, or else gets one with
	// getInitToken (self-built apps).
	AccessToken, RefreshToken string
	// TokenExpires is when AccessToken expires, if known; the client
	// learns it from expires_in for the tokens it gets itself.
	TokenExpires time.Time
	// RefreshMargin is how long before its expiry the token is refreshed;
	// default 24h (as the vendor's Java SDK does).
	RefreshMargin time.Duration
	// Options are every client's; the budget defaults to DefaultLimit.
	vendors.Options
}

// refreshRetry is how long the client waits before trying again a
// refresh the vendor refused while the token still works.
const refreshRetry = time.Hour

// Client calls one Jushuitan account. It is safe for concurrent use.
type Client struct {
	cfg Config
	api *vendorhttp.Caller // the account's HTTP client, budget, retries and log

	mu            sync.Mutex // guards the token state; held while it is renewed
	access        string
	refresh       string
	expires       time.Time // zero: unknown
	nextRefreshAt time.Time // no early refresh before this (after a refusal)
}

// APIError is an answer with a non-zero code that is not throttling.
type APIError struct {
	Path    string
	Code    int
	Message string
}

func (e *APIError) Error() string {
	return fmt.Sprintf("jushuitan %s: code %d: %s", e.Path, e.Code, e.Message)
}

// Outcome reads the codes about the app's signature, token, address or
// permissions (vendors.md §1.5) as a refusal of the credentials.
func (e *APIError) Outcome() string {
	switch e.Code {
	case CodeBadSign, CodeBadToken, CodeIPDenied, CodeRefreshForbidden, CodeNoPermission:
		return vendorhttp.AuthRefused
	}
	return vendorhttp.Failed
}

// New returns a client for the account.
func New(cfg Config) (*Client, error) {
	if cfg.URL == "" || cfg.AppKey == "" || cfg.AppSecret == "" {
		return nil, errors.New("jushuitan: URL, AppKey and AppSecret are required")
	}
	if _, err := url.Parse(cfg.URL); err != nil {
		return nil, fmt.Errorf("jushuitan: URL: %w", err)
	}
	cfg.URL = strings.TrimRight(cfg.URL, "/")
	if cfg.RefreshMargin <= 0 {
		cfg.RefreshMargin = 24 * time.Hour
	}
	cfg.Options = cfg.Defaults(DefaultLimit)
	return &Client{
		cfg:     cfg,
		api:     vendorhttp.NewCaller("jushuitan", cfg.Options, "app_key", cfg.AppKey),
		access:  cfg.AccessToken,
		refresh: cfg.RefreshToken,
		expires: cfg.TokenExpires,
	}, nil
}

// Page is one page of a query.
type Page struct {
	// Total is data_count, or -1 when the answer has none (shops).
	Total int
	// Records are data.datas, as the vendor sent them.
	Records []json.RawMessage
	// More is data.has_next.
	More bool
}

// Query calls a paged query with the business params (biz), which carry
// page_index and page_size, and returns the page.
func (c *Client) Query(ctx context.Context, path string, biz map[string]any) (Page, error) {
	text := "{}"
	if len(biz) > 0 {
		b, err := json.Marshal(biz)
		if err != nil {
			return Page{}, fmt.Errorf("jushuitan %s: biz: %w", path, err)
		}
		text = string(b)
	}
	var page Page
	_, err := c.call(ctx, path, text, func(raw json.RawMessage) (err error) {
		page, err = readPage(raw)
		return err
	})
	return page, err
}

// readPage reads a paged query's data; data it cannot read is an answer
// that is not Jushuitan's.
func readPage(raw json.RawMessage) (Page, error) {
	var data struct {
		DataCount *int              `json:"data_count"`
		HasNext   bool              `json:"has_next"`
		Datas     []json.RawMessage `json:"datas"`
	}
	if err := json.Unmarshal(raw, &data); err != nil {
		return Page{}, vendorhttp.Unreadable("unreadable data (%d bytes): %w", len(raw), err)
	}
	page := Page{Total: -1, Records: data.Datas, More: data.HasNext}
	if data.DataCount != nil {
		if *data.DataCount < 0 {
			return Page{}, vendorhttp.Unreadable("a page counting %d records", *data.DataCount)
		}
		page.Total = *data.DataCount
	}
	return page, nil
}

// Call posts a business call with biz, the JSON text of its params, and
// returns the answer's data. Throttling and transient failures are retried
// until ctx ends; an access token the vendor refuses (code 100) is renewed
// and the call made once more.
func (c *Client) Call(ctx context.Context, path, biz string) (json.RawMessage, error) {
	return c.call(ctx, path, biz, nil)
}

// call is Call, with read (when not nil) reading each answer's data within
// the attempt, so that data it cannot read is retried like any answer
// that is not the vendor's.
func (c *Client) call(ctx context.Context, path, biz string, read func(json.RawMessage) error) (json.RawMessage, error) {
	token, err := c.token(ctx)
	if err != nil {
		return nil, err
	}
	data, err := c.do(ctx, path, c.bizForm(token, biz), read)
	var ae *APIError
	if !errors.As(err, &ae) || ae.Code != CodeBadToken {
		return data, err
	}
	c.api.Log.Info("jushuitan refused the access_token; renewing it and calling again", "path", path, "code", ae.Code, "msg", ae.Message)
	if token, err = c.renew(ctx, token); err != nil {
		return nil, err
	}
	return c.do(ctx, path, c.bizForm(token, biz), read)
}

// bizForm returns a builder of the signed business form.
func (c *Client) bizForm(token, biz string) func() url.Values {
	return func() url.Values {
		return c.signed(map[string]string{
			"app_key":      c.cfg.AppKey,
			"access_token": token,
			"timestamp":    Timestamp(c.cfg.Now()),
			"charset":      "utf-8",
			"version":      "2",
			"biz":          biz,
		})
	}
}

func (c *Client) signed(p map[string]string) url.Values {
	form := make(url.Values, len(p)+1)
	for k, v := range p {
		form.Set(k, v)
	}
	form.Set("sign", Sign(p, c.cfg.AppSecret))
	return form
}

// token returns the access token to call with, getting one first when the
// client has none and refreshing it when it is about to expire.
func (c *Client) token(ctx context.Context) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.access == "" {
		if err := c.renewLocked(ctx); err != nil {
			return "", err
		}
		return c.access, nil
	}
	now := c.cfg.Now()
	if c.refresh == "" || c.expires.IsZero() || c.expires.Sub(now) >= c.cfg.RefreshMargin || now.Before(c.nextRefreshAt) {
		return c.access, nil
	}
	err := c.renewLocked(ctx)
	var ae *APIError
	switch {
	case err == nil:
	case errors.As(err, &ae) && now.Before(c.expires):
		// The token still works: use it, and try again later.
		c.nextRefreshAt = now.Add(refreshRetry)
		c.api.Log.Warn("jushuitan refused to refresh the access_token; using it until it expires",
			"code", ae.Code, "msg", ae.Message, "expires", c.expires, "retry_after", refreshRetry)
	default:
		return "", err
	}
	return c.access, nil
}

// renew replaces the access token stale, unless another call already did.
func (c *Client) renew(ctx context.Context, stale string) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.access != stale {
		return c.access, nil
	}
	if err := c.renewLocked(ctx); err != nil {
		return "", err
	}
	return c.access, nil
}

// renewLocked gets a new token pair: by refreshToken when the client holds
// a refresh token, else by getInitToken. c.mu is held.
func (c *Client) renewLocked(ctx context.Context) error {
	path, form := InitTokenPath, func() url.Values {
		return c.signed(map[string]string{
			"app_key":    c.cfg.AppKey,
			"timestamp":  Timestamp(c.cfg.Now()),
			"grant_type": "authorization_code",
			"charset":    "utf-8",
			"code":       rand.Text()[:6],
		})
	}
	if refresh := c.refresh; refresh != "" {
		path, form = RefreshTokenPath, func() url.Values {
			return c.signed(map[string]string{
				"app_key":       c.cfg.AppKey,
				"timestamp":     Timestamp(c.cfg.Now()),
				"grant_type":    "refresh_token",
				"charset":       "utf-8",
				"refresh_token": refresh,
				"scope":         "all",
			})
		}
	}
	raw, err := c.do(ctx, path, form, nil)
	if err != nil {
		return fmt.Errorf("renew the access_token: %w", err)
	}
	var tok struct {
		AccessToken  string `json:"access_token"`
		ExpiresIn    int64  `json:"expires_in"`
		RefreshToken string `json:"refresh_token"`
	}
	if err := json.Unmarshal(raw, &tok); err != nil || tok.AccessToken == "" {
		return fmt.Errorf("jushuitan %s: answer without an access_token", path)
	}
	c.access = tok.AccessToken
	if tok.RefreshToken != "" {
		c.refresh = tok.RefreshToken
	}
	c.expires = time.Time{}
	if tok.ExpiresIn > 0 {
		c.expires = c.cfg.Now().Add(time.Duration(tok.ExpiresIn) * time.Second)
	}
	c.nextRefreshAt = time.Time{}
	c.api.Log.Info("jushuitan access_token renewed", "path", path, "expires", c.expires)
	return nil
}

// throttled is a throttle answer (code 199 or 200), the cause of a
// backoff.Retry.
type throttled struct {
	code int
	msg  string
}

func (t *throttled) Error() string { return fmt.Sprintf("throttled: code %d: %s", t.code, t.msg) }

// Outcome is a throttle's.
func (t *throttled) Outcome() string { return vendorhttp.Throttled }

// LogAttrs are what the log says of a throttle beside the error.
func (t *throttled) LogAttrs() []any { return []any{"code", t.code, "msg", t.msg} }

// do posts the form that form builds (afresh for each attempt, so the
// timestamp stays current) to path and returns the answer's data,
// retrying throttling and transient failures until ctx ends.
func (c *Client) do(ctx context.Context, path string, form func() url.Values, read func(json.RawMessage) error) (json.RawMessage, error) {
	var data json.RawMessage
	err := c.api.Do(ctx, func() error {
		var err error
		data, err = c.post(ctx, path, form())
		if err == nil && read != nil {
			err = read(data)
		}
		return err
	}, "path", path)
	if err != nil && ctx.Err() != nil {
		return nil, fmt.Errorf("jushuitan %s: %w", path, err)
	}
	return data, err
}

type envelope struct {
	Code *int            `json:"code"`
	Msg  string          `json:"msg"`
	Data json.RawMessage `json:"data"`
}

// post makes one call and classifies its answer.
func (c *Client) post(ctx context.Context, path string, form url.Values) (json.RawMessage, error) {
	resp, err := c.api.HTTP.R().
		SetContext(ctx).
		SetHeader("Content-Type", "application/x-www-form-urlencoded;charset=UTF-8").
		SetBody(form.Encode()).
		Post(c.cfg.URL + path)
	if err != nil {
		return nil, vendorhttp.Unanswered(ctx, err)
	}
	if err := vendorhttp.Status(resp); err != nil {
		return nil, fmt.Errorf("jushuitan %s: %w", path, err)
	}
	return readData(path, resp.Body())
}

// readData reads an answer of path: its data, or the error that says what
// the answer is (a throttle, a refusal, an answer that is not Jushuitan's).
func readData(path string, body []byte) (json.RawMessage, error) {
	var env envelope
	if err := json.Unmarshal(body, &env); err != nil {
		return nil, vendorhttp.Unreadable("unreadable body (%d bytes): %w", len(body), err)
	}
	// An answer without code, or a success without data, is not
	// Jushuitan's (a gateway's page, a wrapper): read as an empty page it
	// would skip records, so it is retried like any failure.
	if env.Code == nil {
		return nil, vendorhttp.Unreadable("an answer without code (%d bytes)", len(body))
	}
	switch *env.Code {
	case CodeOK:
		if len(env.Data) == 0 || string(env.Data) == "null" {
			return nil, vendorhttp.Unreadable("a success without data")
		}
		return env.Data, nil
	case CodeThrottledSecond, CodeThrottledMinute:
		return nil, &backoff.Retry{Err: &throttled{code: *env.Code, msg: env.Msg}}
	}
	return nil, &APIError{Path: path, Code: *env.Code, Message: env.Msg}
}
