package kingdee_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/time/rate"

	"github.com/ferry-data/ferry/flows"
	"github.com/ferry-data/ferry/internal/backoff"
	"github.com/ferry-data/ferry/internal/sandbox"
	"github.com/ferry-data/ferry/internal/vendortest"
	"github.com/ferry-data/ferry/producers"
	"github.com/ferry-data/ferry/producers/kingdee"
	"github.com/ferry-data/ferry/producers/kingdee/kingdeesandbox"
	"github.com/ferry-data/ferry/vendors"
)

var start = time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)

type fixture struct {
	sb    *kingdeesandbox.Sandbox
	clock *sandbox.Clock
	srv   *vendortest.Server
	logs  *vendortest.LogWatch
	cfg   kingdee.Config

	mu      sync.Mutex
	secrets []string // app-tokens and signatures seen on the wire
	queries []string // the business calls' query strings
}

func newFixture(t testing.TB, sc kingdeesandbox.Config) *fixture {
	t.Helper()
	f := &fixture{clock: sandbox.NewClock(start), logs: &vendortest.LogWatch{}}
	sc.Now = f.clock.Now
	f.sb = kingdeesandbox.New(sc)
	f.srv = vendortest.Serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		for _, h := range []string{kingdee.HeaderAppToken, kingdee.HeaderSignature} {
			if v := r.Header.Get(h); v != "" {
				f.secrets = append(f.secrets, v)
			}
		}
		if r.URL.Path == kingdee.CustomerPath {
			f.queries = append(f.queries, r.URL.RawQuery)
		}
		f.mu.Unlock()
		f.sb.ServeHTTP(w, r)
	}))
	c := f.sb.Config()
	f.cfg = kingdee.Config{
		URL: f.srv.URL, ClientID: c.ClientID, ClientSecret: c.ClientSecret, OuterInstanceID: c.OuterInstanceID,
		Options: vendors.Options{Limit: rate.Inf, Backoff: backoff.Policy{Base: time.Millisecond, Max: 2 * time.Millisecond}, Timeout: time.Second, Now: f.clock.Now, Logger: f.logs.Logger()},
	}
	return f
}

func (f *fixture) client(t testing.TB) *kingdee.Client {
	t.Helper()
	c, err := kingdee.New(f.cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// params asks for page of size rows of the customers modified in the
// month before start.
func params(page, size int) map[string]string {
	return map[string]string{
		"modify_start_time": strconv.FormatInt(start.Add(-31*24*time.Hour).UnixMilli(), 10),
		"modify_end_time":   strconv.FormatInt(start.UnixMilli(), 10),
		"page":              strconv.Itoa(page),
		"page_size":         strconv.Itoa(size),
	}
}

func TestListPages(t *testing.T) {
	f := newFixture(t, kingdeesandbox.Config{Customers: 120, Settings: sandbox.Settings{Seed: 1}})
	c := f.client(t)
	seen := map[string]bool{}
	for pg := 1; pg <= 3; pg++ {
		p, err := c.List(context.Background(), kingdee.CustomerPath, params(pg, 50))
		if err != nil {
			t.Fatal(err)
		}
		if p.Total != 120 || p.TotalPages != 3 {
			t.Fatalf("total %d in %d pages, want 120 in 3", p.Total, p.TotalPages)
		}
		for _, r := range p.Records {
			seen[string(r)] = true
		}
	}
	if len(seen) != 120 {
		t.Fatalf("three pages held %d distinct customers, want 120", len(seen))
	}
	if s := f.sb.Stats(); s.Auths != 1 || s.Tokens != 1 || s.Calls != 5 {
		t.Fatalf("stats = %+v: want one authorisation for all pages", s)
	}
	// An empty window: the vendor counts "0", as a string.
	empty := params(1, 50)
	empty["modify_start_time"] = empty["modify_end_time"]
	empty["modify_end_time"] = strconv.FormatInt(start.Add(time.Hour).UnixMilli(), 10)
	if p, err := c.List(context.Background(), kingdee.CustomerPath, empty); err != nil || p.Total != 0 || len(p.Records) != 0 {
		t.Fatalf("empty window: %+v, %v", p, err)
	}
}

// TestRetriesUntilTheVendorAnswers: throttling (errcode 429 with HTTP
// 200), 502, slow 504 and truncated bodies are retried, on business calls
// and on the authorisation alike; the call then succeeds.
func TestRetriesUntilTheVendorAnswers(t *testing.T) {
	for _, tc := range []struct {
		name   string
		faults sandbox.Faults
		stat   func(kingdeesandbox.Stats) int
		logged string
	}{
		{"throttled", sandbox.Faults{ThrottleRate: 1}, func(s kingdeesandbox.Stats) int { return s.Throttled }, "throttled: errcode 429: 请求过于频繁"},
		{"failing", sandbox.Faults{FailRate: 1, SlowDelay: 5 * time.Millisecond}, func(s kingdeesandbox.Stats) int { return s.Failed }, "transient"},
	} {
		for _, during := range []string{"authorisation", "business call"} {
			t.Run(tc.name+" "+during, func(t *testing.T) {
				f := newFixture(t, kingdeesandbox.Config{Customers: 30, Settings: sandbox.Settings{Seed: 2}})
				c := f.client(t)
				first := int64(0)
				if during == "business call" {
					if _, err := c.List(context.Background(), kingdee.CustomerPath, params(1, 50)); err != nil {
						t.Fatal(err)
					}
					first = f.srv.Calls()
				}
				f.sb.SetFaults(tc.faults)
				f.srv.At(first+7, func() { f.sb.SetFaults(sandbox.Faults{}) })
				p, err := c.List(context.Background(), kingdee.CustomerPath, params(1, 50))
				if err != nil {
					t.Fatal(err)
				}
				if p.Total != 30 || len(p.Records) != 30 {
					t.Fatalf("got %d of %d records", len(p.Records), p.Total)
				}
				if got := tc.stat(f.sb.Stats()); got != 6 {
					t.Fatalf("%d faults before the answer, want 6", got)
				}
				if !strings.Contains(f.logs.String(), tc.logged) {
					t.Fatalf("log does not name the failure %q:\n%s", tc.logged, f.logs)
				}
			})
		}
	}
}

// TestVendorErrorsAreNamed: a refused call is not retried and reaches the
// caller with the vendor's code and description.
func TestVendorErrorsAreNamed(t *testing.T) {
	reversed := params(1, 50)
	reversed["modify_start_time"], reversed["modify_end_time"] = reversed["modify_end_time"], reversed["modify_start_time"]
	for _, tc := range []struct {
		name   string
		tweak  func(*kingdee.Config)
		params map[string]string
		path   string
		code   int64
		calls  int64
	}{
		{"bad signature", func(c *kingdee.Config) { c.ClientSecret = "wrong" }, params(1, 50), kingdee.AuthorizePath, 1030001003, 1},
		{"unknown outer instance", func(c *kingdee.Config) { c.OuterInstanceID = "other" }, params(1, 50), kingdee.AuthorizePath, 1030003001, 1},
		{"reversed window", nil, reversed, kingdee.CustomerPath, 2000001001, 3},
		{"page 0", nil, map[string]string{"page": "0"}, kingdee.CustomerPath, 2000001001, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, kingdeesandbox.Config{Customers: 5, Settings: sandbox.Settings{Seed: 4}})
			if tc.tweak != nil {
				tc.tweak(&f.cfg)
			}
			_, err := f.client(t).List(context.Background(), kingdee.CustomerPath, tc.params)
			var ae *kingdee.APIError
			if !errors.As(err, &ae) {
				t.Fatalf("error %v, want an *APIError", err)
			}
			if ae.Code != tc.code || ae.Path != tc.path || ae.Description == "" ||
				!strings.Contains(err.Error(), "errcode "+strconv.FormatInt(tc.code, 10)+": "+ae.Description) {
				t.Fatalf("error %v, want errcode %d on %s", err, tc.code, tc.path)
			}
			if n := f.srv.Calls(); n != tc.calls {
				t.Fatalf("%d calls, want %d: a refused call was retried", n, tc.calls)
			}
		})
	}
}

// TestReauthorisesWhenTheSecretRotates: the appSecret rotates; the next
// call answers 1030002006, and the client authorises again and retries.
func TestReauthorisesWhenTheSecretRotates(t *testing.T) {
	f := newFixture(t, kingdeesandbox.Config{Customers: 20, SecretTTL: time.Hour, Settings: sandbox.Settings{Seed: 5}})
	c := f.client(t)
	ctx := context.Background()
	if _, err := c.List(ctx, kingdee.CustomerPath, params(1, 50)); err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(time.Hour)
	p, err := c.List(ctx, kingdee.CustomerPath, params(1, 50))
	if err != nil {
		t.Fatal(err)
	}
	if p.Total != 20 {
		t.Fatalf("total %d after the rotation", p.Total)
	}
	if s := f.sb.Stats(); s.Rotations != 1 || s.Auths != 2 || s.Tokens != 2 || s.Rejected != 1 {
		t.Fatalf("stats = %+v: want one refused call and one new authorisation", s)
	}
	if !strings.Contains(f.logs.String(), "authorising again") || !strings.Contains(f.logs.String(), "1030002006") {
		t.Fatalf("the re-authorisation was not logged:\n%s", f.logs)
	}
}

// TestRenewsTheTokenBeforeADay: a token is renewed before its 24 hours
// run out, without a refused call.
func TestRenewsTheTokenBeforeADay(t *testing.T) {
	f := newFixture(t, kingdeesandbox.Config{Customers: 5, SecretTTL: 1000 * time.Hour, Settings: sandbox.Settings{Seed: 6}})
	c := f.client(t)
	for _, step := range []time.Duration{0, kingdee.TokenRenewAfter - time.Minute, time.Minute, 4 * time.Hour} {
		f.clock.Advance(step)
		if _, err := c.List(context.Background(), kingdee.CustomerPath, params(1, 50)); err != nil {
			t.Fatal(err)
		}
	}
	if s := f.sb.Stats(); s.Auths != 2 || s.Tokens != 2 || s.Rejected != 0 {
		t.Fatalf("stats = %+v: want the token renewed once, never refused", s)
	}
}

// TestRetriesTheAuthorisationOnce: a call that keeps answering 1030002006
// after a fresh authorisation is an error, not a loop.
func TestRetriesTheAuthorisationOnce(t *testing.T) {
	f := newFixture(t, kingdeesandbox.Config{Customers: 5, Settings: sandbox.Settings{Seed: 7}})
	var business atomic.Int64
	f.srv.Intercept(func(_ int64, w http.ResponseWriter, r *http.Request) bool {
		if r.URL.Path != kingdee.CustomerPath {
			return false
		}
		business.Add(1)
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"errcode":1030002006,"description":"授权密钥校验失败","data":null}`))
		return true
	})
	_, err := f.client(t).List(context.Background(), kingdee.CustomerPath, params(1, 50))
	var ae *kingdee.APIError
	if !errors.As(err, &ae) || ae.Code != kingdee.CodeAuthKey {
		t.Fatalf("error %v, want errcode 1030002006", err)
	}
	if s := f.sb.Stats(); business.Load() != 2 || s.Auths != 2 || s.Tokens != 2 {
		t.Fatalf("%d business calls, stats %+v: want the call retried once after one new authorisation", business.Load(), s)
	}
}

// TestTokenThrottleIsRetried: kingdee_auth_token allows 2 calls a minute;
// a client over it backs off and gets its token in the next minute.
func TestTokenThrottleIsRetried(t *testing.T) {
	f := newFixture(t, kingdeesandbox.Config{Customers: 5, TokenCallsPerMinute: 1, Settings: sandbox.Settings{Seed: 8}})
	var tokenCalls atomic.Int64
	f.srv.Intercept(func(_ int64, _ http.ResponseWriter, r *http.Request) bool {
		if r.URL.Path == kingdee.TokenPath && tokenCalls.Add(1) == 4 {
			f.clock.Advance(time.Minute)
		}
		return false
	})
	for range 2 { // two clients, one account: the second is over the quota
		if _, err := f.client(t).List(context.Background(), kingdee.CustomerPath, params(1, 50)); err != nil {
			t.Fatal(err)
		}
	}
	if s := f.sb.Stats(); s.Throttled != 2 || s.Tokens != 2 {
		t.Fatalf("stats = %+v: want two throttled token calls, then a token", s)
	}
	if !strings.Contains(f.logs.String(), "errcode 429") {
		t.Fatalf("the throttled token call was not logged:\n%s", f.logs)
	}
}

// TestSecretsStayOutOfLogs: the client secret, the app secrets, the
// tokens and the signatures never reach a log line or an error, through
// failures, throttling, a rotation and a dead endpoint.
func TestSecretsStayOutOfLogs(t *testing.T) {
	f := newFixture(t, kingdeesandbox.Config{Customers: 5, SecretTTL: time.Hour, Settings: sandbox.Settings{Seed: 9, Faults: sandbox.Faults{FailRate: 1, ThrottleRate: 0.3, SlowDelay: time.Millisecond}}})
	f.srv.At(10, func() { f.sb.SetFaults(sandbox.Faults{}) })
	c := f.client(t)
	if _, err := c.List(context.Background(), kingdee.CustomerPath, params(1, 50)); err != nil {
		t.Fatal(err)
	}
	appSecrets := []string{appSecret(t, f)}
	f.clock.Advance(time.Hour)
	if _, err := c.List(context.Background(), kingdee.CustomerPath, params(1, 50)); err != nil {
		t.Fatal(err)
	}
	appSecrets = append(appSecrets, appSecret(t, f))
	// A dead endpoint: transport errors carry the URL.
	f.cfg.URL = "http://127.0.0.1:1"
	ctx := f.logs.CancelWhenSeen(context.Background(), "127.0.0.1:1")
	_, err := f.client(t).List(ctx, kingdee.CustomerPath, params(1, 50))
	out := vendortest.Exposed(f.logs.String(), err)
	f.mu.Lock()
	secrets := append(append(f.secrets, appSecrets...), f.cfg.ClientSecret, "app_signature")
	f.mu.Unlock()
	if len(secrets) < 10 {
		t.Fatalf("only %d secrets recorded", len(secrets))
	}
	vendortest.NoLeak(t, out, secrets...)
}

// appSecret asks step 1 for the app secret in force, as the client does.
func appSecret(t *testing.T, f *fixture) string {
	t.Helper()
	cfg := f.sb.Config()
	ts := strconv.FormatInt(f.clock.Now().UnixMilli(), 10)
	q := map[string]string{"outerInstanceId": cfg.OuterInstanceID}
	req, err := http.NewRequest(http.MethodPost, f.srv.URL+kingdee.AuthorizePath+"?"+kingdee.Query(q), nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range map[string]string{
		kingdee.HeaderClientID: cfg.ClientID, kingdee.HeaderAuthVersion: kingdee.AuthVersion,
		kingdee.HeaderTimestamp: ts, kingdee.HeaderNonce: "777", kingdee.HeaderSignHeaders: kingdee.SignHeaders,
		kingdee.HeaderSignature: kingdee.Sign(cfg.ClientSecret, kingdee.StringToSign(http.MethodPost, kingdee.AuthorizePath, q, "777", ts)),
	} {
		req.Header.Set(k, v)
	}
	resp, err := f.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var env struct {
		Data []struct {
			AppSecret string `json:"appSecret"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&env); err != nil || len(env.Data) != 1 || env.Data[0].AppSecret == "" {
		t.Fatalf("push_app_authorize: %+v, %v", env, err)
	}
	return env.Data[0].AppSecret
}

const seedFlow = `
name: kingdee_customers
title: 金蝶云星辰V2-客户查询
source:
  vendor: kingdee
  api: /jdy/v2/bd/customer
  method: GET
  id: id
  number: number
  idCheck: true
  pagination:
    pageSize: %d
    pageStart: %d
  request:
    - field: modify_end_time
      label: 修改时间-结束时间的时间戳(毫秒)
      type: string
      value: "_function {CURRENT_TIME}*1000"
    - field: modify_start_time
      label: 修改时间-开始时间的时间戳(毫秒)
      type: string
      value: "_function {LAST_SYNC_TIME}*1000"
    - field: page
      label: 当前页,默认1
      type: string
      value: "1"
    - field: page_size
      label: 每页显示条数,默认10
      type: string
      value: "50"
  window:
    max: 720h
    lag: 2m
    overlap: 5m
  topic: raw.kingdee.customers
  rate: 500/min
processor:
  entity: customer
  zone: Asia/Shanghai
target:
  kind: topic
`

func flow(t *testing.T, size, base int) *flows.Flow {
	t.Helper()
	f, err := flows.Parse("kingdee_customers.yaml", []byte(fmt.Sprintf(seedFlow, size, base)))
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// TestSourceFollowsTheVendor: a flow asking for pages of 150 from 0 gets
// pages of 100 counted from 1, said once at the start; its page and
// page_size fields are replaced on every call, and walking Total records
// reads every customer of the window.
func TestSourceFollowsTheVendor(t *testing.T) {
	f := newFixture(t, kingdeesandbox.Config{Customers: 250, Settings: sandbox.Settings{Seed: 10}})
	src, err := kingdee.NewSource(f.client(t), flow(t, 150, 0), f.cfg.Logger)
	if err != nil {
		t.Fatal(err)
	}
	if src.PageSize() != 100 {
		t.Fatalf("page size %d, want 100", src.PageSize())
	}
	w := producers.Window{From: start.Add(-31 * 24 * time.Hour), To: start}
	seen := map[string]bool{}
	total := -1
	for pg := 0; total < 0 || pg*src.PageSize() < total; pg++ {
		p, err := src.Page(context.Background(), w, pg)
		if err != nil {
			t.Fatal(err)
		}
		total = p.Total
		for _, r := range p.Records {
			seen[string(producers.RecordID(r, "id"))] = true
		}
	}
	if total != 250 || len(seen) != 250 {
		t.Fatalf("read %d distinct customers of %d, want 250", len(seen), total)
	}
	f.mu.Lock()
	queries := f.queries
	f.mu.Unlock()
	want := "modify_end_time=" + strconv.FormatInt(start.UnixMilli(), 10) +
		"&modify_start_time=" + strconv.FormatInt(w.From.UnixMilli(), 10) + "&page=1&page_size=100"
	if len(queries) != 3 || queries[0] != want || !strings.HasSuffix(queries[2], "&page=3&page_size=100") {
		t.Fatalf("queries %q, want the first %q", queries, want)
	}
	logs := f.logs.String()
	for _, s := range []string{"larger pages than Kingdee serves", "counts page from 1"} {
		if strings.Count(logs, s) != 1 {
			t.Fatalf("%q logged %d times, want once:\n%s", s, strings.Count(logs, s), logs)
		}
	}
}

// TestSourceSeedFlowNeedsNoNotice: the seed's own paging (50 from 1)
// agrees with the vendor; nothing is logged.
func TestSourceSeedFlowNeedsNoNotice(t *testing.T) {
	f := newFixture(t, kingdeesandbox.Config{Customers: 5, Settings: sandbox.Settings{Seed: 11}})
	src, err := kingdee.NewSource(f.client(t), flow(t, 50, 1), f.cfg.Logger)
	if err != nil {
		t.Fatal(err)
	}
	if src.PageSize() != 50 || f.logs.String() != "" {
		t.Fatalf("page size %d, logs %q", src.PageSize(), f.logs)
	}
	p, err := src.Page(context.Background(), producers.Window{From: start.Add(-31 * 24 * time.Hour), To: start}, 0)
	if err != nil || p.Total != 5 || len(p.Records) != 5 {
		t.Fatalf("page 0: %d of %d, %v", len(p.Records), p.Total, err)
	}
}

func TestNewRefusesBadConfig(t *testing.T) {
	for _, cfg := range []kingdee.Config{
		{},
		{URL: "https://api.kingdee.com", ClientID: "c", ClientSecret: "s"},
		{URL: "api.kingdee.com", ClientID: "c", ClientSecret: "s", OuterInstanceID: "o"},
	} {
		if _, err := kingdee.New(cfg); err == nil {
			t.Errorf("New(%+v) accepted", cfg)
		}
	}
}
