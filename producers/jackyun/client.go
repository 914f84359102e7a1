// Package jackyun speaks 吉客云 (Jackyun)'s own open gateway for the trade
// search jackyun.tradenotsensitiveinfos.list.get: every parameter in a
// form-encoded POST body, business parameters as the JSON text bizcontent,
// the MD5 signature of vendors.md §2.2, 0-based pageIndex.
//
// The client classifies every answer: code 200 is success; code 429 (subCode
// GW.RATE_LIMIT) is throttling; HTTP 5xx and 429, timeouts, broken
// connections and truncated or unparsable bodies are transient; all of those
// are retried with jittered exponential backoff until the context ends, so a
// page is never skipped. Any other code is a vendor error (*APIError),
// returned at once with the vendor's code, subCode and message. Calls stay
// within a per-account rate limit. Secrets never reach a log or an error.
//
// Answers come in more than one shape (vendors.md §2.4): result.data may be
// an object or a JSON string holding one, and a customised deployment
// answers with PascalCase keys (Trades, TotalResults, TradeId…). The client
// reads both, and hands records on with camelCase keys whatever the
// deployment, so flows name fields one way.
package jackyun

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/ferry-data/ferry/internal/backoff"
	"github.com/ferry-data/ferry/internal/vendorhttp"
	"github.com/ferry-data/ferry/vendors"
)

const (
	// DefaultURL is the own gateway (not the Qimen route).
	DefaultURL = "https://open.jackyun.com/open/openapi/do"
	// Version is the version parameter the official example and the Go
	// clients send.
	Version = "v1.0"
	// CodeOK is the envelope code of success.
	CodeOK = 200
	// CodeThrottled and SubCodeThrottled mark a throttled call. They are
	// stand-ins (vendors.md §2.4 [S]): no source shows the real ones.
	CodeThrottled    = 429
	SubCodeThrottled = "GW.RATE_LIMIT"
	// MaxPageSize is the largest pageSize the vendor serves (vendors.md §2.3).
	MaxPageSize = 1000
	// MaxWindow is the longest span a time-filter pair may cover
	// (vendors.md §2.3, [S]/[C-weak]).
	MaxWindow = 7 * 24 * time.Hour
)

// Config holds a Jackyun account and how to call it.
type Config struct {
	// URL is the gateway; default DefaultURL.
	URL string
	// AppKey and Secret are the application's credentials.
	AppKey, Secret string
	// Options are every client's; the budget defaults to 5 calls a second (the stand-in quota
	// is 10 a second and 600 a minute).
	vendors.Options
}

// Client calls one Jackyun account.
type Client struct {
	cfg Config
	api *vendorhttp.Caller // the account's HTTP client, budget, retries and log
}

// APIError is an answer with a code other than success and throttling.
type APIError struct {
	Method  string
	Code    int
	SubCode string
	Message string
}

func (e *APIError) Error() string {
	return fmt.Sprintf("jackyun %s: code %d (%s): %s", e.Method, e.Code, e.SubCode, e.Message)
}

// Outcome reads codes 401 and 403 as a refusal of the credentials: the
// gateway's codes follow HTTP's (200 is success), and vendors.md §2.4
// suggests 401 for a bad signature, a stand-in [S] no source confirms.
func (e *APIError) Outcome() string {
	if e.Code == http.StatusUnauthorized || e.Code == http.StatusForbidden {
		return vendorhttp.AuthRefused
	}
	return vendorhttp.Failed
}

// New returns a client for the account.
func New(cfg Config) (*Client, error) {
	if cfg.AppKey == "" || cfg.Secret == "" {
		return nil, errors.New("jackyun: AppKey and Secret are required")
	}
	if cfg.URL == "" {
		cfg.URL = DefaultURL
	}
	cfg.Options = cfg.Defaults(5)
	return &Client{
		cfg: cfg,
		api: vendorhttp.NewCaller("jackyun", cfg.Options, "appkey", cfg.AppKey),
	}, nil
}

// Page is one page of a search.
type Page struct {
	// Total is the number of matches (result.data.totalResults), or -1 when
	// the answer does not say.
	Total int
	// Records are the raw trades, with camelCase keys.
	Records []json.RawMessage
}

// envelope is the gateway's answer. encoding/json matches keys without
// regard to case, so PascalCase answers decode into the same fields.
type envelope struct {
	Code    flexInt         `json:"code"`
	Msg     string          `json:"msg"`
	SubCode string          `json:"subCode"`
	Result  json.RawMessage `json:"result"`
}

type result struct {
	// Data is an object, or a JSON string holding one.
	Data json.RawMessage `json:"data"`
}

type tradeData struct {
	Trades       []json.RawMessage `json:"trades"`
	TotalResults *flexInt          `json:"totalResults"`
}

// flexInt reads a number written as a JSON number or as a string.
type flexInt int

func (n *flexInt) UnmarshalJSON(b []byte) error {
	s := string(bytes.Trim(b, `"`))
	if s == "" || s == "null" {
		*n = 0
		return nil
	}
	v, err := strconv.Atoi(s)
	if err != nil {
		return fmt.Errorf("not a whole number: %s", b)
	}
	*n = flexInt(v)
	return nil
}

// failure is the cause of a backoff.Retry: Code, SubCode and Msg are the
// vendor's, when it answered with an envelope; Status is the HTTP status,
// when there was one.
type failure struct {
	Code    int
	SubCode string
	Msg     string
	Status  int
	Err     error
}

func (e *failure) Error() string {
	switch {
	case e.Code != 0:
		return fmt.Sprintf("throttled: code %d (%s): %s", e.Code, e.SubCode, e.Msg)
	case e.Err != nil:
		return e.Err.Error()
	}
	return fmt.Sprintf("HTTP %d", e.Status)
}

// Unwrap returns the transport's error, if any.
func (e *failure) Unwrap() error { return e.Err }

// Outcome tells a throttle (an envelope's code, HTTP 429) from a failure
// and from an answer that could not be read.
func (e *failure) Outcome() string {
	switch {
	case e.Code != 0 || e.Status == http.StatusTooManyRequests:
		return vendorhttp.Throttled
	case e.Err != nil:
		return vendorhttp.Outcome(e.Err)
	}
	return vendorhttp.Failed
}

func (e *failure) LogAttrs() []any {
	var out []any
	if e.Code != 0 {
		out = append(out, "code", e.Code, "sub_code", e.SubCode, "msg", e.Msg)
	}
	if e.Status != 0 {
		out = append(out, "http_status", e.Status)
	}
	return out
}

// Search calls method with the business params, asking for page pageIndex
// (0-based) of pageSize records and the total count: pageIndex, pageSize and
// hasTotal=1 are set here whatever params hold. It retries throttling and
// transient failures until ctx ends.
func (c *Client) Search(ctx context.Context, method string, params map[string]any, pageIndex, pageSize int) (Page, error) {
	biz := make(map[string]any, len(params)+3)
	maps.Copy(biz, params)
	biz["pageIndex"] = pageIndex
	biz["pageSize"] = pageSize
	biz["hasTotal"] = 1
	bizcontent, err := marshal(biz)
	if err != nil {
		return Page{}, fmt.Errorf("jackyun %s: encode bizcontent: %w", method, err)
	}
	var page Page
	err = c.api.Do(ctx, func() error {
		page, err = c.call(ctx, method, bizcontent)
		return err
	}, "method", method, "page_index", pageIndex)
	return page, err
}

func (c *Client) call(ctx context.Context, method, bizcontent string) (Page, error) {
	form := map[string]string{
		"method":      method,
		"appkey":      c.cfg.AppKey,
		"version":     Version,
		"contenttype": "json",
		"timestamp":   Timestamp(c.cfg.Now()),
		"bizcontent":  bizcontent,
	}
	form["sign"] = Sign(form, c.cfg.Secret)
	resp, err := c.api.HTTP.R().
		SetContext(ctx).
		SetFormData(form).
		Post(c.cfg.URL)
	if err != nil {
		if ctx.Err() != nil {
			return Page{}, ctx.Err()
		}
		return Page{}, &backoff.Retry{Err: &failure{Err: vendorhttp.Redact(err)}}
	}
	if code := resp.StatusCode(); code >= 500 || code == http.StatusTooManyRequests {
		return Page{}, &backoff.Retry{Err: &failure{Status: code}, After: vendorhttp.RetryAfter(resp.Header(), time.Now())}
	} else if err := vendorhttp.Status(resp); err != nil {
		return Page{}, fmt.Errorf("jackyun %s: %w", method, err)
	}
	return readPage(method, resp.Body())
}

// readPage reads an answer of method: its page, or the error that says
// what the answer is (a throttle, a refusal, an answer that is not
// Jackyun's).
func readPage(method string, body []byte) (Page, error) {
	page, err := decode(body)
	if err != nil {
		return Page{}, &backoff.Retry{Err: &failure{Err: vendorhttp.Mark(vendorhttp.BadAnswer, fmt.Errorf("unreadable body (%d bytes): %w", len(body), err))}}
	}
	switch env := page.env; {
	case env.Code == CodeOK:
		return page.Page, nil
	case env.Code == CodeThrottled || env.SubCode == SubCodeThrottled:
		return Page{}, &backoff.Retry{Err: &failure{Code: int(env.Code), SubCode: env.SubCode, Msg: env.Msg}}
	default:
		return Page{}, &APIError{Method: method, Code: int(env.Code), SubCode: env.SubCode, Message: env.Msg}
	}
}

// decoded is an answer read in full.
type decoded struct {
	Page
	env envelope
}

// decode reads an answer. A success without result.data is an error: read
// as an empty page it would skip records. A success whose data has no count
// has Total -1.
func decode(body []byte) (decoded, error) {
	var d decoded
	if err := json.Unmarshal(body, &d.env); err != nil {
		return d, err
	}
	if d.env.Code != CodeOK {
		return d, nil
	}
	var res result
	if len(d.env.Result) > 0 && !isNull(d.env.Result) {
		if err := json.Unmarshal(d.env.Result, &res); err != nil {
			return d, fmt.Errorf("result: %w", err)
		}
	}
	raw := res.Data
	if len(raw) > 0 && raw[0] == '"' { // data sent as a JSON string
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return d, fmt.Errorf("result.data: %w", err)
		}
		raw = json.RawMessage(s)
	}
	if len(raw) == 0 || isNull(raw) {
		return d, errors.New("a success without result.data")
	}
	var td tradeData
	if err := json.Unmarshal(raw, &td); err != nil {
		return d, fmt.Errorf("result.data: %w", err)
	}
	d.Total = -1
	if td.TotalResults != nil {
		if *td.TotalResults < 0 {
			return d, fmt.Errorf("result.data.totalResults %d", *td.TotalResults)
		}
		d.Total = int(*td.TotalResults)
	}
	d.Records = make([]json.RawMessage, 0, len(td.Trades))
	for i, r := range td.Trades {
		r, err := camelRecord(r)
		if err != nil {
			return d, fmt.Errorf("result.data.trades[%d]: %w", i, err)
		}
		d.Records = append(d.Records, r)
	}
	return d, nil
}

func isNull(b []byte) bool { return string(bytes.TrimSpace(b)) == "null" }

// camelRecord returns the record with the first letter of every key, at
// any depth, in lower case. A record already in camelCase comes back as it
// was sent, byte for byte.
func camelRecord(raw json.RawMessage) (json.RawMessage, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	v, changed := camelize(v)
	if !changed {
		return raw, nil
	}
	s, err := marshal(v)
	return json.RawMessage(s), err
}

func camelize(v any) (any, bool) {
	changed := false
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			e, c := camelize(e)
			lk := lowerFirst(k)
			changed = changed || c || lk != k
			out[lk] = e
		}
		return out, changed
	case []any:
		for i, e := range x {
			e, c := camelize(e)
			x[i] = e
			changed = changed || c
		}
		return x, changed
	}
	return v, false
}

func lowerFirst(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	if !unicode.IsUpper(r) {
		return s
	}
	return string(unicode.ToLower(r)) + s[n:]
}

// marshal renders v as compact JSON without HTML escaping, as the vendor's
// own clients write it.
func marshal(v any) (string, error) {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return "", err
	}
	return strings.TrimSuffix(b.String(), "\n"), nil
}
