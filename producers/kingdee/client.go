// Package kingdee speaks 金蝶云星辰 V2 (Kingdee JDY)'s open API: every call
// carries the client headers signed as vendors.md §4.2 says (HMAC-SHA256 over
// the method, the encoded path, the double-encoded sorted query and the
// nonce and timestamp lines, sent as base64 of the hex text); business calls
// add the app-token and the router address that the three-step
// authorisation of §4.1 yields. Pages count from 1.
//
// The client authorises by itself: it asks push_app_authorize for the app
// key, app secret and domain, trades them for an app-token at
// kingdee_auth_token, and renews both before the token's 24 hours run out.
// The app secret rotates every 24 hours; when a call answers errcode
// 1030002006 (授权密钥校验失败) the client authorises again and retries the
// call once.
//
// The client classifies every answer: errcode 0 is success; errcode 429
// (HTTP 200) is throttling; HTTP 5xx and 429, timeouts, broken connections
// and truncated or unparsable bodies are transient; all of those are retried
// with jittered exponential backoff until the context ends, so a page is
// never skipped. Any other errcode is a vendor error (*APIError), returned
// at once with the vendor's code and description. Calls stay within a
// per-account rate limit. Secrets, tokens and signatures never reach a log
// or an error.
package kingdee

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/ferry-data/ferry/internal/vendorhttp"
	"github.com/ferry-data/ferry/vendors"
)

// The API's paths (vendors.md §4.1).
const (
	AuthorizePath = "/jdyconnector/app_management/push_app_authorize"
	TokenPath     = "/jdyconnector/app_management/kingdee_auth_token"
	CustomerPath  = "/jdy/v2/bd/customer"
	// DetailPath is the customer detail call: one customer by id, with
	// the fields the list lacks (addr, district_name, bomentity[]).
	DetailPath = "/jdy/v2/bd/customer_detail"
)

// Codes the client acts on.
const (
	// CodeAuthKey (授权密钥校验失败) answers a call whose app-token or app
	// secret is stale; the cure is to authorise again.
	CodeAuthKey = 1030002006
	// CodeThrottle answers a call over the account's budget, with HTTP
	// 200. The code is a stand-in: vendors.md §4.4 found none.
	CodeThrottle = 429
)

// Outcome reads CodeAuthKey as a refusal of the credentials, the one
// such code vendors.md §4.4 confirms.
func (e *APIError) Outcome() string {
	if e.Code == CodeAuthKey {
		return vendorhttp.AuthRefused
	}
	return vendorhttp.Failed
}

// TokenRenewAfter is how old an app-token may grow before the client
// renews it; the vendor honours it for 24 hours.
const TokenRenewAfter = 20 * time.Hour

// Config holds a Kingdee JDY account and how to call it.
type Config struct {
	// URL is the API host, as https://api.kingdee.com.
	URL string
	// ClientID and ClientSecret are the application's credentials;
	// OuterInstanceID names the authorised 账套 (push_app_authorize's
	// outerInstanceId).
	ClientID, ClientSecret, OuterInstanceID string
	// Options are every client's; the budget defaults to 500 calls a minute, authorisation
	// calls included.
	vendors.Options
}

// Client calls one Kingdee JDY account. It is safe for concurrent use.
type Client struct {
	cfg  Config
	base string
	api  *vendorhttp.Caller // the account's HTTP client, budget, retries and log

	mu   sync.Mutex // guards sess; held while authorising
	sess *session

	opaque sync.Once // warns of a field that does not decrypt
}

// session is what the authorisation yields.
type session struct {
	token  string
	domain string
	at     time.Time // when the token was issued, by cfg.Now
}

// APIError is an answer with a non-zero code that is neither throttling
// nor, the first time, a stale authorisation.
type APIError struct {
	Path        string
	Code        int64
	Description string
}

func (e *APIError) Error() string {
	return fmt.Sprintf("kingdee %s: errcode %d: %s", e.Path, e.Code, e.Description)
}

// New returns a client for the account.
func New(cfg Config) (*Client, error) {
	if cfg.URL == "" || cfg.ClientID == "" || cfg.ClientSecret == "" || cfg.OuterInstanceID == "" {
		return nil, errors.New("kingdee: URL, ClientID, ClientSecret and OuterInstanceID are required")
	}
	u, err := url.Parse(cfg.URL)
	if err != nil || u.Scheme == "" || u.Host == "" || u.RawQuery != "" {
		return nil, fmt.Errorf("kingdee: URL %q is not a host such as https://api.kingdee.com", cfg.URL)
	}
	cfg.Options = cfg.Defaults(rate.Limit(500.0 / 60))
	return &Client{
		cfg:  cfg,
		base: strings.TrimSuffix(u.Scheme+"://"+u.Host+u.Path, "/"),
		api:  vendorhttp.NewCaller("kingdee", cfg.Options, "client_id", cfg.ClientID),
	}, nil
}

// Page is one page of a list call.
type Page struct {
	// Total is the number of matches (data.count).
	Total int
	// TotalPages is the vendor's data.total_page.
	TotalPages int
	// Records are the raw rows, as the vendor sent them.
	Records []json.RawMessage
}

// List calls the list API at path (as CustomerPath) with the query params,
// paging params included. It authorises when needed and retries
// throttling and transient failures until ctx ends.
func (c *Client) List(ctx context.Context, path string, params map[string]string) (Page, error) {
	var data listData
	if err := c.get(ctx, path, params, &data); err != nil {
		return Page{}, err
	}
	return data.page(), nil
}

// listData is a list answer's data.
type listData struct {
	Count     flexInt           `json:"count"`
	TotalPage flexInt           `json:"total_page"`
	Rows      []json.RawMessage `json:"rows"`
}

// UnmarshalJSON refuses a negative count, which no list answers: read as
// "no count" it would stop the flow.
func (d *listData) UnmarshalJSON(b []byte) error {
	type plain listData
	if err := json.Unmarshal(b, (*plain)(d)); err != nil {
		return err
	}
	if d.Count < 0 || d.TotalPage < 0 {
		return fmt.Errorf("count %d and total_page %d", d.Count, d.TotalPage)
	}
	return nil
}

func (d listData) page() Page {
	return Page{Total: int(d.Count), TotalPages: int(d.TotalPage), Records: d.Rows}
}

// Detail calls the customer detail API for the customer id and returns
// the customer with its sensitive fields decrypted (see Open). It retries
// as List does.
func (c *Client) Detail(ctx context.Context, id string) (json.RawMessage, error) {
	var data map[string]json.RawMessage
	if err := c.get(ctx, DetailPath, map[string]string{"id": id}, &data); err != nil {
		return nil, err
	}
	if data == nil {
		return nil, fmt.Errorf("kingdee %s: no customer in the answer for id %s", DetailPath, id)
	}
	c.openFields(data, sensitive)
	var contacts []map[string]json.RawMessage
	if json.Unmarshal(data["bomentity"], &contacts) == nil && contacts != nil {
		for _, k := range contacts {
			c.openFields(k, sensitiveContact)
		}
		data["bomentity"], _ = json.Marshal(contacts)
	}
	return json.Marshal(data)
}

// get makes a business call and reads its data into v, authorising when
// needed and retrying throttling and transient failures until ctx ends.
func (c *Client) get(ctx context.Context, path string, params map[string]string, v any) error {
	reauthorised := false
	return c.api.Retry(ctx, func() error {
		err := c.try(ctx, path, params, v)
		var ae *APIError
		if errors.As(err, &ae) && ae.Code == CodeAuthKey && !reauthorised {
			reauthorised = true
			c.api.Log.Info("kingdee refused the authorisation, authorising again", "path", ae.Path, "code", ae.Code, "description", ae.Description)
			err = c.try(ctx, path, params, v)
		}
		return err
	}, "path", path, "page", params["page"], "id", params["id"])
}

// try makes one attempt: authorise if needed, then call. A stale
// authorisation is dropped, so that the next attempt renews it.
func (c *Client) try(ctx context.Context, path string, params map[string]string, v any) error {
	s, err := c.session(ctx)
	if err == nil {
		var body []byte
		body, err = c.do(ctx, http.MethodGet, path, params, map[string]string{HeaderAppToken: s.token, HeaderRouter: s.domain})
		if err == nil {
			err = decode(path, body, v)
		}
	}
	var ae *APIError
	if errors.As(err, &ae) && ae.Code == CodeAuthKey {
		c.drop(s)
	}
	return err
}

// session returns the authorisation in force, renewing it (steps 1 and 2
// of §4.1) when there is none or its token is old.
func (c *Client) session(ctx context.Context) (*session, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if s := c.sess; s != nil && c.cfg.Now().Sub(s.at) < TokenRenewAfter {
		return s, nil
	}
	appKey, appSecret, domain, err := c.authorize(ctx)
	if err != nil {
		return nil, err
	}
	token, err := c.token(ctx, appKey, appSecret)
	if err != nil {
		return nil, err
	}
	c.sess = &session{token: token, domain: domain, at: c.cfg.Now()}
	c.api.Log.Info("kingdee authorised", "domain", domain)
	return c.sess, nil
}

// drop forgets s if it is still the session in force.
func (c *Client) drop(s *session) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if s == nil || c.sess == s {
		c.sess = nil
	}
}

// authorize is step 1: push_app_authorize gives the app key, the app
// secret and the domain of the 账套.
func (c *Client) authorize(ctx context.Context) (appKey, appSecret, domain string, err error) {
	body, err := c.do(ctx, http.MethodPost, AuthorizePath, map[string]string{"outerInstanceId": c.cfg.OuterInstanceID}, nil)
	if err != nil {
		return "", "", "", err
	}
	var apps []struct {
		AppKey    string  `json:"appKey"`
		AppSecret string  `json:"appSecret"`
		Domain    string  `json:"domain"`
		Status    flexInt `json:"status"`
	}
	if err := decode(AuthorizePath, body, &apps); err != nil {
		return "", "", "", err
	}
	if len(apps) == 0 || apps[0].AppKey == "" || apps[0].AppSecret == "" || apps[0].Domain == "" {
		return "", "", "", fmt.Errorf("kingdee %s: no authorised app for the outer instance", AuthorizePath)
	}
	if a := apps[0]; a.Status != 1 {
		return "", "", "", fmt.Errorf("kingdee %s: the authorisation is not active (status %d)", AuthorizePath, a.Status)
	}
	return apps[0].AppKey, apps[0].AppSecret, apps[0].Domain, nil
}

// token is step 2: kingdee_auth_token trades the app key, signed with the
// app secret, for an app-token.
func (c *Client) token(ctx context.Context, appKey, appSecret string) (string, error) {
	q := map[string]string{"app_key": appKey, "app_signature": AppSignature(appSecret, appKey)}
	body, err := c.do(ctx, http.MethodGet, TokenPath, q, nil)
	if err != nil {
		return "", err
	}
	var data struct {
		AppToken string `json:"app-token"`
	}
	if err := decode(TokenPath, body, &data); err != nil {
		return "", err
	}
	if data.AppToken == "" {
		return "", fmt.Errorf("kingdee %s: no app-token in the answer", TokenPath)
	}
	return data.AppToken, nil
}

// do sends one signed request and returns the body of an HTTP 200 answer.
func (c *Client) do(ctx context.Context, method, path string, params, headers map[string]string) ([]byte, error) {
	if err := c.api.Wait(ctx); err != nil {
		return nil, err
	}
	full := c.base + path
	u, err := url.Parse(full)
	if err != nil {
		return nil, fmt.Errorf("kingdee %s: %w", path, err)
	}
	ts := strconv.FormatInt(c.cfg.Now().UnixMilli(), 10)
	nonce := strconv.FormatInt(1_000_000_000+rand.Int64N(9_000_000_000), 10)
	if q := Query(params); q != "" {
		full += "?" + q
	}
	req := c.api.HTTP.R().
		SetContext(ctx).
		SetHeaders(map[string]string{
			"Content-Type":    "application/json",
			HeaderClientID:    c.cfg.ClientID,
			HeaderAuthVersion: AuthVersion,
			HeaderTimestamp:   ts,
			HeaderNonce:       nonce,
			HeaderSignHeaders: SignHeaders,
			HeaderSignature:   Sign(c.cfg.ClientSecret, StringToSign(method, u.Path, params, nonce, ts)),
		}).
		SetHeaders(headers)
	resp, err := req.Execute(method, full)
	if err != nil {
		return nil, vendorhttp.Unanswered(ctx, err)
	}
	if err := vendorhttp.Status(resp); err != nil {
		return nil, fmt.Errorf("kingdee %s: %w", path, err)
	}
	return resp.Body(), nil
}

// envelope is the vendor's wrapper. Business and token calls answer
// errcode/description; push_app_authorize answers code/msg.
type envelope struct {
	Errcode     *flexInt        `json:"errcode"`
	Description string          `json:"description"`
	Code        *flexInt        `json:"code"`
	Msg         string          `json:"msg"`
	Data        json.RawMessage `json:"data"`
}

// decode classifies an answer and, on success, reads its data into v.
func decode(path string, body []byte, v any) error {
	var env envelope
	if err := json.Unmarshal(body, &env); err != nil {
		return vendorhttp.Unreadable("%s: unreadable body (%d bytes): %w", path, len(body), err)
	}
	code, text := int64(-1), env.Description
	switch {
	case env.Errcode != nil:
		code = int64(*env.Errcode)
	case env.Code != nil:
		code, text = int64(*env.Code), env.Msg
		if code == http.StatusOK { // push_app_authorize's success
			code = 0
		}
	}
	switch code {
	case 0:
		// No call of the API answers success without data: a list read
		// as empty would skip records, so it is retried like any failure.
		if len(env.Data) == 0 || string(env.Data) == "null" {
			return vendorhttp.Unreadable("%s: a success without data", path)
		}
		if err := json.Unmarshal(env.Data, v); err != nil {
			return vendorhttp.Unreadable("%s: unreadable data (%d bytes): %w", path, len(env.Data), err)
		}
		return nil
	case -1:
		return vendorhttp.Unreadable("%s: answer without errcode (%d bytes)", path, len(body))
	case CodeThrottle:
		return vendorhttp.Throttle(0, "%s: throttled: errcode %d: %s", path, code, text)
	}
	return &APIError{Path: path, Code: code, Description: text}
}

// flexInt reads a JSON number or a number in a string ("0"), as the vendor
// sends either.
type flexInt int64

func (n *flexInt) UnmarshalJSON(b []byte) error {
	s := strings.TrimSpace(string(b))
	if s == "null" {
		*n = 0
		return nil
	}
	if uq, err := strconv.Unquote(s); err == nil {
		s = strings.TrimSpace(uq)
		if s == "" {
			*n = 0
			return nil
		}
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return fmt.Errorf("not an integer: %s", b)
	}
	*n = flexInt(v)
	return nil
}
