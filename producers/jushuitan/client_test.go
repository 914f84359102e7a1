package jushuitan_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/time/rate"

	"github.com/ferry-data/ferry/flows"
	"github.com/ferry-data/ferry/internal/backoff"
	"github.com/ferry-data/ferry/internal/sandbox"
	"github.com/ferry-data/ferry/internal/vendortest"
	"github.com/ferry-data/ferry/producers"
	"github.com/ferry-data/ferry/producers/jushuitan"
	"github.com/ferry-data/ferry/producers/jushuitan/jstsandbox"
	"github.com/ferry-data/ferry/vendors"
)

var (
	cst   = time.FixedZone("CST", 8*3600)
	start = time.Date(2024, 3, 1, 12, 0, 0, 0, cst)
)

type fixture struct {
	clock *sandbox.Clock
	sb    *jstsandbox.Sandbox
	srv   *vendortest.Server
	logs  *vendortest.LogWatch
	cfg   jushuitan.Config

	mu      sync.Mutex
	secrets map[string]bool // every token, code and sign sent
}

// newFixture serves a sandbox whose quotas are off unless sc sets them,
// and configures a client with its start token pair.
func newFixture(t testing.TB, sc jstsandbox.Config) *fixture {
	t.Helper()
	f := &fixture{clock: sandbox.NewClock(start), logs: &vendortest.LogWatch{}, secrets: map[string]bool{}}
	sc.Now = f.clock.Now
	if sc.PerSecond == 0 {
		sc.PerSecond = -1
	}
	if sc.PerMinute == 0 {
		sc.PerMinute = -1
	}
	f.sb = jstsandbox.New(sc)
	f.srv = vendortest.Serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		f.remember(string(body))
		f.sb.ServeHTTP(w, r)
	}))
	c := f.sb.Config()
	f.cfg = jushuitan.Config{
		URL: f.srv.URL, AppKey: c.AppKey, AppSecret: c.AppSecret, AccessToken: c.AccessToken, RefreshToken: c.RefreshToken, TokenExpires: start.Add(c.TokenTTL),
		Options: vendors.Options{Limit: rate.Inf, Backoff: backoff.Policy{Base: time.Millisecond, Max: 2 * time.Millisecond}, Timeout: time.Second, Now: f.clock.Now, Logger: f.logs.Logger()},
	}
	return f
}

// remember notes the secrets a request carries.
func (f *fixture) remember(body string) {
	form, _ := url.ParseQuery(body)
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, k := range []string{"access_token", "refresh_token", "code", "sign"} {
		if v := form.Get(k); v != "" {
			f.secrets[v] = true
		}
	}
}

func (f *fixture) client(t testing.TB) *jushuitan.Client {
	t.Helper()
	c, err := jushuitan.New(f.cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func window(from, to time.Time, page, size int) map[string]any {
	return map[string]any{
		"modified_begin": from.In(cst).Format(time.DateTime),
		"modified_end":   to.In(cst).Format(time.DateTime),
		"page_index":     page,
		"page_size":      size,
	}
}

var lastThreeDays = window(start.Add(-72*time.Hour), start, 1, 50)

// ordersFlow is the seed's orders scheme (shared/seeds/000) as a flow
// file: legacy method name, pages of 100, page_index and page_size fields.
const ordersFlow = `
name: jst_orders
source:
  vendor: jushuitan
  api: orders.out.simple.query
  method: POST
  id: o_id
  number: o_id
  idCheck: true
  pagination:
    pageSize: 100
  request:
    - {field: shop_id, label: 店铺编码, type: string}
    - {field: is_offline_shop, label: 线下店铺, type: string}
    - {field: status, label: 单据状态, type: string, value: Confirmed}
    - {field: modified_begin, label: 修改开始时间, type: string, value: "{{LAST_SYNC_TIME|datetime}}"}
    - {field: modified_end, label: 修改结束时间, type: string, value: "{{CURRENT_TIME|datetime}}"}
    - {field: so_ids, label: 线上单号, type: string, parser: {name: StringToArray, params: ","}}
    - {field: page_index, label: 页数, type: string, value: "{PAGINATION_START_PAGE}"}
    - {field: page_size, label: 每页行数, type: string, value: "{PAGINATION_PAGE_SIZE}"}
  window: {max: 168h, lag: 2m, overlap: 5m}
  topic: raw.jushuitan.orders
  rate: 100/min
processor:
  entity: order
  zone: Asia/Shanghai
target:
  kind: topic
`

// shopsFlow is the seed's shops scheme (shared/seeds/001): a full scan.
const shopsFlow = `
name: jst_shops
source:
  vendor: jushuitan
  api: /open/shops/query
  method: POST
  id: shop_id
  pagination:
    pageSize: 100
    pageStart: 1
  request:
    - {field: page_index, value: "1"}
    - {field: page_size, value: "100"}
  topic: raw.jushuitan.shops
  rate: 100/min
processor:
  entity: shop
  zone: Asia/Shanghai
target:
  kind: topic
`

func parseFlow(t *testing.T, text string) *flows.Flow {
	t.Helper()
	fl, err := flows.Parse("test.yaml", []byte(text))
	if err != nil {
		t.Fatal(err)
	}
	return fl
}

func (f *fixture) source(t *testing.T, text string) *jushuitan.Source {
	t.Helper()
	s, err := jushuitan.NewSource(f.client(t), parseFlow(t, text), f.logs.Logger())
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestSourceWalksOrders: the seed's flow runs as the vendor wants it
// (openapi path, pages of 50 from page_index 1, Beijing-time window) and
// says so once; its pages hold every confirmed order of the window.
func TestSourceWalksOrders(t *testing.T) {
	f := newFixture(t, jstsandbox.Config{Orders: 400, Settings: sandbox.Settings{Seed: 1}})
	src := f.source(t, ordersFlow)
	if src.PageSize() != 50 {
		t.Fatalf("page size %d, want the vendor's 50", src.PageSize())
	}
	for _, line := range []string{"legacy method name", "larger pages", "page_index from 1", "field=page_index", "field=page_size"} {
		if n := strings.Count(f.logs.String(), line); n != 1 {
			t.Errorf("%q logged %d times, want once:\n%s", line, n, f.logs)
		}
	}
	want := map[string]bool{}
	for _, o := range f.sb.TruthOrders() {
		if o["status"] == "Confirmed" {
			want[string(producers.RecordID(mustJSON(t, o), "o_id"))] = true
		}
	}
	w := producers.Window{From: start.Add(-72 * time.Hour), To: start}
	got := map[string]bool{}
	pages := (len(want) + 49) / 50
	for pg := range pages {
		p, err := src.Page(context.Background(), w, pg)
		if err != nil {
			t.Fatal(err)
		}
		if p.Total != len(want) || p.More != (pg < pages-1) {
			t.Fatalf("page %d: total %d more %v, want %d confirmed orders", pg, p.Total, p.More, len(want))
		}
		for _, r := range p.Records {
			got[string(producers.RecordID(r, "o_id"))] = true
		}
	}
	if len(got) != len(want) || len(want) < 100 {
		t.Fatalf("%d pages held %d distinct orders, want %d", pages, len(got), len(want))
	}
	for id := range want {
		if !got[id] {
			t.Fatalf("order %s missed", id)
		}
	}
	// ferry's page 0 is the vendor's page_index 1.
	p0, err := src.Page(context.Background(), w, 0)
	if err != nil {
		t.Fatal(err)
	}
	direct := window(w.From, w.To, 1, 50)
	direct["status"] = "Confirmed"
	q1, err := f.client(t).Query(context.Background(), jushuitan.OrdersPath, direct)
	if err != nil {
		t.Fatal(err)
	}
	if string(p0.Records[0]) != string(q1.Records[0]) || string(p0.Records[49]) != string(q1.Records[49]) {
		t.Fatal("page 0 is not page_index 1")
	}
}

// TestSourceScansShops: the shop query has no count; its pages say when
// more follow.
func TestSourceScansShops(t *testing.T) {
	f := newFixture(t, jstsandbox.Config{Orders: 5, Shops: 230, Settings: sandbox.Settings{Seed: 2}})
	src := f.source(t, shopsFlow)
	if strings.Contains(f.logs.String(), "page_index from 1") {
		t.Error("a flow already counting from 1 was told about the page base")
	}
	seen := map[string]bool{}
	for pg, more := range []bool{true, true, false} {
		p, err := src.Page(context.Background(), producers.Window{}, pg)
		if err != nil {
			t.Fatal(err)
		}
		if p.Total != -1 || p.More != more {
			t.Fatalf("page %d: total %d more %v", pg, p.Total, p.More)
		}
		for _, r := range p.Records {
			seen[string(producers.RecordID(r, "shop_id"))] = true
		}
	}
	if len(seen) != 230 {
		t.Fatalf("a full scan saw %d shops, want 230", len(seen))
	}
}

func TestNewSourceRefuses(t *testing.T) {
	f := newFixture(t, jstsandbox.Config{Orders: 1, Settings: sandbox.Settings{Seed: 3}})
	for name, text := range map[string]string{
		"window over 7 days": strings.Replace(ordersFlow, "max: 168h", "max: 720h", 1),
		"not a path":         strings.Replace(shopsFlow, "api: /open/shops/query", "api: shops.query", 1),
	} {
		if _, err := jushuitan.NewSource(f.client(t), parseFlow(t, text), nil); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// TestRetriesUntilTheVendorAnswers: throttling (codes 199 and 200 with
// HTTP 200), 502, slow 504 and truncated bodies are retried, and each
// retry is logged with the vendor's code; the call then succeeds.
func TestRetriesUntilTheVendorAnswers(t *testing.T) {
	for _, tc := range []struct {
		name   string
		faults sandbox.Faults
		stat   func(jstsandbox.Stats) int
		logged []string
	}{
		{"throttled", sandbox.Faults{ThrottleRate: 1}, func(s jstsandbox.Stats) int { return s.Throttled }, []string{"code=199", "code=200", "调用频次超过限制"}},
		{"failing", sandbox.Faults{FailRate: 1, SlowDelay: 5 * time.Millisecond}, func(s jstsandbox.Stats) int { return s.Failed }, []string{"HTTP 502", "HTTP 504", "unreadable body"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, jstsandbox.Config{Orders: 30, Settings: sandbox.Settings{Seed: 4, Faults: tc.faults}})
			f.srv.At(13, func() { f.sb.SetFaults(sandbox.Faults{}) })
			p, err := f.client(t).Query(context.Background(), jushuitan.OrdersPath, lastThreeDays)
			if err != nil {
				t.Fatal(err)
			}
			if p.Total != 30 || len(p.Records) != 30 {
				t.Fatalf("got %d of %d records", len(p.Records), p.Total)
			}
			if got := tc.stat(f.sb.Stats()); got != 12 {
				t.Fatalf("%d faults before the answer, want 12", got)
			}
			for _, text := range tc.logged {
				if !strings.Contains(f.logs.String(), text) {
					t.Errorf("log does not name %q:\n%s", text, f.logs)
				}
			}
		})
	}
}

// TestQuotaIsRetried: the sixth call in a clock second gets code 199 and
// goes through once the second has passed.
func TestQuotaIsRetried(t *testing.T) {
	f := newFixture(t, jstsandbox.Config{Orders: 10, PerSecond: 5, PerMinute: 100, Settings: sandbox.Settings{Seed: 5}})
	f.srv.At(8, func() { f.clock.Advance(time.Second) })
	c := f.client(t)
	for range 6 {
		if _, err := c.Query(context.Background(), jushuitan.OrdersPath, lastThreeDays); err != nil {
			t.Fatal(err)
		}
	}
	if s := f.sb.Stats(); s.Served != 6 || s.Throttled != 2 {
		t.Fatalf("stats = %+v", s)
	}
	if !strings.Contains(f.logs.String(), "code=199") {
		t.Fatalf("the throttle is not logged:\n%s", f.logs)
	}
}

// TestVendorErrorsAreNamed: a refused call is not retried and reaches the
// caller with the vendor's code and message.
func TestVendorErrorsAreNamed(t *testing.T) {
	for _, tc := range []struct {
		name  string
		tweak func(*jushuitan.Config)
		biz   map[string]any
		code  int
		msg   string
	}{
		{"bad signature", func(c *jushuitan.Config) { c.AppSecret = "wrong" }, lastThreeDays, 10, "验证失败！无效签名"},
		{"window over 7 days", nil, window(start.Add(-8*24*time.Hour), start, 1, 50), 130, "时间间隔不能超过七天"},
		{"page too big", nil, window(start.Add(-time.Hour), start, 1, 51), 130, "page_size不能超过50"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, jstsandbox.Config{Orders: 5, Settings: sandbox.Settings{Seed: 7}})
			if tc.tweak != nil {
				tc.tweak(&f.cfg)
			}
			_, err := f.client(t).Query(context.Background(), jushuitan.OrdersPath, tc.biz)
			var ae *jushuitan.APIError
			if !errors.As(err, &ae) {
				t.Fatalf("error %v, want an *APIError", err)
			}
			if ae.Code != tc.code || ae.Message != tc.msg || ae.Path != jushuitan.OrdersPath {
				t.Fatalf("error %v, want code %d %s", err, tc.code, tc.msg)
			}
			if n := f.srv.Calls(); n != 1 {
				t.Fatalf("a refused call was tried %d times", n)
			}
		})
	}
}

// TestTokens: the client gets, refreshes and renews its access token as
// the vendor's rules say.
func TestTokens(t *testing.T) {
	query := func(t *testing.T, c *jushuitan.Client) error {
		t.Helper()
		_, err := c.Query(context.Background(), jushuitan.OrdersPath, lastThreeDays)
		return err
	}
	t.Run("none: getInitToken", func(t *testing.T) {
		f := newFixture(t, jstsandbox.Config{Orders: 5, Settings: sandbox.Settings{Seed: 8}})
		f.cfg.AccessToken, f.cfg.RefreshToken, f.cfg.TokenExpires = "", "", time.Time{}
		c := f.client(t)
		for range 2 {
			if err := query(t, c); err != nil {
				t.Fatal(err)
			}
		}
		if s := f.sb.Stats(); s.Inits != 1 || s.Served != 3 || s.Rejected != 0 {
			t.Fatalf("stats = %+v", s)
		}
	})
	t.Run("refresh token only: refreshToken", func(t *testing.T) {
		f := newFixture(t, jstsandbox.Config{Orders: 5, Settings: sandbox.Settings{Seed: 8}})
		f.cfg.AccessToken = ""
		if err := query(t, f.client(t)); err != nil {
			t.Fatal(err)
		}
		if s := f.sb.Stats(); s.Refreshes != 1 || s.Inits != 0 {
			t.Fatalf("stats = %+v", s)
		}
	})
	t.Run("code 100: refresh and call again", func(t *testing.T) {
		f := newFixture(t, jstsandbox.Config{Orders: 5, Settings: sandbox.Settings{Seed: 9}})
		c := f.client(t)
		if err := query(t, c); err != nil {
			t.Fatal(err)
		}
		f.sb.ExpireTokens()
		if err := query(t, c); err != nil {
			t.Fatal(err)
		}
		if s := f.sb.Stats(); s.Refreshes != 1 || s.Rejected != 1 || s.Served != 3 {
			t.Fatalf("stats = %+v", s)
		}
	})
	t.Run("near expiry: refresh first", func(t *testing.T) {
		f := newFixture(t, jstsandbox.Config{Orders: 5, TokenTTL: 72 * time.Hour, Settings: sandbox.Settings{Seed: 10}})
		f.cfg.TokenExpires = start.Add(72 * time.Hour)
		c := f.client(t)
		f.clock.Advance(47 * time.Hour) // 25 h left
		if err := query(t, c); err != nil {
			t.Fatal(err)
		}
		f.clock.Advance(2 * time.Hour) // 23 h left
		for range 2 {
			if err := query(t, c); err != nil {
				t.Fatal(err)
			}
		}
		if s := f.sb.Stats(); s.Refreshes != 1 || s.Rejected != 0 {
			t.Fatalf("stats = %+v", s)
		}
	})
	t.Run("near expiry, refresh refused: keep the token", func(t *testing.T) {
		f := newFixture(t, jstsandbox.Config{Orders: 5, TokenTTL: 72 * time.Hour, Settings: sandbox.Settings{Seed: 11}})
		f.cfg.TokenExpires, f.cfg.RefreshToken = start.Add(72*time.Hour), "revoked"
		f.clock.Advance(60 * time.Hour)
		c := f.client(t)
		for range 3 {
			if err := query(t, c); err != nil {
				t.Fatal(err)
			}
		}
		if s := f.sb.Stats(); s.Served != 3 || s.Rejected != 1 {
			t.Fatalf("stats = %+v; want one refused refresh, not one per call", s)
		}
		if !strings.Contains(f.logs.String(), "refused to refresh") {
			t.Fatalf("the refusal is not logged:\n%s", f.logs)
		}
	})
	t.Run("code 100 after a refresh: APIError", func(t *testing.T) {
		f := newFixture(t, jstsandbox.Config{Orders: 5, Settings: sandbox.Settings{Seed: 12}})
		f.srv.Intercept(func(_ int64, _ http.ResponseWriter, r *http.Request) bool {
			if r.URL.Path == jushuitan.OrdersPath {
				f.sb.ExpireTokens()
			}
			return false
		})
		err := query(t, f.client(t))
		var ae *jushuitan.APIError
		if !errors.As(err, &ae) || ae.Code != 100 || ae.Path != jushuitan.OrdersPath {
			t.Fatalf("error %v, want code 100 from the orders query", err)
		}
		if s := f.sb.Stats(); s.Refreshes != 1 || s.Calls != 3 {
			t.Fatalf("stats = %+v; want one refresh between two calls", s)
		}
	})
	t.Run("refresh refused: APIError", func(t *testing.T) {
		f := newFixture(t, jstsandbox.Config{Orders: 5, Settings: sandbox.Settings{Seed: 13}})
		f.cfg.AccessToken, f.cfg.RefreshToken = "stale", "revoked"
		err := query(t, f.client(t))
		var ae *jushuitan.APIError
		if !errors.As(err, &ae) || ae.Code != 100 || ae.Path != jushuitan.RefreshTokenPath {
			t.Fatalf("error %v, want code 100 from refreshToken", err)
		}
	})
}

// TestSecretsStayOutOfLogs: the app secret, tokens, auth codes and
// signatures never reach a log line or an error, even when tokens are got
// and refreshed and calls fail at the transport level.
func TestSecretsStayOutOfLogs(t *testing.T) {
	f := newFixture(t, jstsandbox.Config{Orders: 5, Settings: sandbox.Settings{Seed: 14, Faults: sandbox.Faults{FailRate: 0.6, ThrottleRate: 0.3, SlowDelay: time.Millisecond}}})
	f.cfg.AccessToken, f.cfg.RefreshToken, f.cfg.TokenExpires = "", "", time.Time{}
	f.srv.At(20, func() { f.sb.SetFaults(sandbox.Faults{}) })
	c := f.client(t)
	if _, err := c.Query(context.Background(), jushuitan.OrdersPath, lastThreeDays); err != nil {
		t.Fatal(err)
	}
	f.sb.ExpireTokens()
	if _, err := c.Query(context.Background(), jushuitan.ShopsPath, nil); err != nil {
		t.Fatal(err)
	}
	_, refused := c.Query(context.Background(), jushuitan.OrdersPath, window(start.Add(-30*24*time.Hour), start, 1, 50))
	// A dead endpoint: transport errors carry the URL.
	f.cfg.URL = "http://127.0.0.1:1"
	ctx := f.logs.CancelWhenSeen(context.Background(), "127.0.0.1:1")
	_, dead := f.client(t).Query(ctx, jushuitan.OrdersPath, lastThreeDays)
	out := vendortest.Exposed(f.logs.String(), refused, dead)
	f.mu.Lock()
	defer f.mu.Unlock()
	if s := f.sb.Stats(); s.Inits != 1 || s.Refreshes != 1 || len(f.secrets) < 6 {
		t.Fatalf("stats %+v, %d secrets seen: the test did not get and refresh a token", s, len(f.secrets))
	}
	vendortest.NoLeak(t, out, slices.Collect(maps.Keys(f.secrets))...)
	vendortest.NoLeak(t, out, f.cfg.AppSecret, "sign=", "access_token=")
}

func mustJSON(t *testing.T, v map[string]any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
