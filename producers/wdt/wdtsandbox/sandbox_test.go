package wdtsandbox_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ferry-data/ferry/internal/sandbox"
	"github.com/ferry-data/ferry/internal/sandbox/sandboxtest"
	"github.com/ferry-data/ferry/producers/wdt/wdtsandbox"
)

var (
	cst   = time.FixedZone("CST", 8*3600)
	start = time.Date(2024, 6, 1, 12, 0, 0, 0, cst)
)

const throttleMessage = "超过每分钟最大调用频率限制，请稍后重试"

// fixture is a sandbox on a settable clock, served over HTTP.
type fixture struct {
	*sandboxtest.Fixture[*wdtsandbox.Sandbox]
}

func newFixture(t *testing.T, cfg wdtsandbox.Config) *fixture {
	t.Helper()
	return &fixture{sandboxtest.Serve(t, start, func(now func() time.Time) *wdtsandbox.Sandbox {
		cfg.Now = now
		return wdtsandbox.New(cfg)
	})}
}

// call is one search call; the zero value asks for page 0 of the last 72 h.
type call struct {
	pageNo, pageSize int                // page_size 0: not sent
	calcTotal        bool               //
	params           map[string]any     // nil: the default window
	timestamp        time.Time          // zero: the sandbox's now
	tamper           func(q url.Values) // runs after signing
	ctx              context.Context    // nil: background
}

func window(from, to time.Time) map[string]any {
	return map[string]any{
		"modified_from": from.In(cst).Format(time.DateTime),
		"modified_to":   to.In(cst).Format(time.DateTime),
	}
}

// do signs and sends c as ferry's connector would (vendors.md §3.2).
func (f *fixture) do(c call) (*http.Response, []byte, error) {
	f.T.Helper()
	cfg := f.SB.Config()
	secret, salt, _ := strings.Cut(cfg.AppSecret, ":") // vendors.md §3.2: appsecret is "secret:salt"
	if c.params == nil {
		c.params = window(start.Add(-72*time.Hour), start)
	}
	if c.timestamp.IsZero() {
		c.timestamp = f.Clock.Now()
	}
	body, err := json.Marshal([]any{c.params})
	if err != nil {
		f.T.Fatal(err)
	}
	q := url.Values{}
	q.Set("sid", cfg.SID)
	q.Set("key", cfg.AppKey)
	q.Set("salt", salt)
	q.Set("method", "aftersales.refund.Refund.search")
	q.Set("v", "1.0")
	q.Set("timestamp", strconv.FormatInt(int64(c.timestamp.Sub(wdtsandbox.Epoch)/time.Second), 10)) // vendors.md §3.2: seconds since 2012-01-01
	q.Set("page_no", strconv.Itoa(c.pageNo))
	if c.pageSize > 0 {
		q.Set("page_size", strconv.Itoa(c.pageSize))
	}
	if c.calcTotal {
		q.Set("calc_total", "1")
	}
	params := map[string]string{"body": string(body)}
	for k := range q {
		params[k] = q.Get(k)
	}
	q.Set("sign", wdtsandbox.Sign(params, secret))
	if c.tamper != nil {
		c.tamper(q)
	}
	ctx := c.ctx
	if ctx == nil {
		ctx = context.Background()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, f.Srv.URL+"/openapi?"+q.Encode(), bytes.NewReader(body))
	if err != nil {
		f.T.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	return f.Do(req)
}

type envelope struct {
	Status  int    `json:"status"`
	Message string `json:"message"`
	Data    struct {
		TotalCount *int             `json:"total_count"`
		Order      []map[string]any `json:"order"`
	} `json:"data"`
}

// search makes a call that must get a well-formed HTTP 200 envelope.
func (f *fixture) search(c call) envelope {
	f.T.Helper()
	resp, b, err := f.do(c)
	if err != nil {
		f.T.Fatalf("call: %v", err)
	}
	if resp.StatusCode != http.StatusOK {
		f.T.Fatalf("HTTP %d: %s", resp.StatusCode, b)
	}
	var env envelope
	if err := json.Unmarshal(b, &env); err != nil {
		f.T.Fatalf("decode %s: %v", b, err)
	}
	return env
}

// page makes a call that must succeed and returns its refunds.
func (f *fixture) page(c call) envelope {
	f.T.Helper()
	env := f.search(c)
	if env.Status != 0 {
		f.T.Fatalf("status %d: %s", env.Status, env.Message)
	}
	return env
}

func id(r map[string]any) int64 { return int64(r["refund_id"].(float64)) }

func ids(rs []map[string]any) map[int64]bool {
	out := map[int64]bool{}
	for _, r := range rs {
		out[id(r)] = true
	}
	return out
}

func TestSearchPagesFromZeroWithTotal(t *testing.T) {
	f := newFixture(t, wdtsandbox.Config{Records: 95, Settings: sandbox.Settings{Seed: 1}})

	var all []map[string]any
	for p, want := range []int{40, 40, 15, 0} {
		env := f.page(call{pageNo: p, pageSize: 40, calcTotal: true})
		if env.Data.TotalCount == nil || *env.Data.TotalCount != 95 {
			t.Fatalf("page %d: total_count = %v, want 95", p, env.Data.TotalCount)
		}
		if len(env.Data.Order) != want {
			t.Fatalf("page %d: %d refunds, want %d", p, len(env.Data.Order), want)
		}
		all = append(all, env.Data.Order...)
	}
	for i := 1; i < len(all); i++ {
		a, b := all[i-1], all[i]
		am, bm := a["modified"].(float64), b["modified"].(float64)
		if am > bm || am == bm && id(a) >= id(b) {
			t.Fatalf("refunds %d and %d out of order", id(a), id(b))
		}
	}
	truth := f.SB.Truth()
	if got, want := ids(all), ids(truth); len(all) != 95 || !reflect.DeepEqual(got, want) {
		t.Fatalf("walk saw %d refunds (%d distinct), truth holds %d", len(all), len(got), len(want))
	}
	if !reflect.DeepEqual(all[0], truthOf(truth, id(all[0]))) {
		t.Fatalf("served refund differs from Truth:\n%v\n%v", all[0], truthOf(truth, id(all[0])))
	}

	r := all[0]
	if no, _ := r["refund_no"].(string); !strings.HasPrefix(no, "TK") {
		t.Errorf("refund_no = %q", no)
	}
	if d, _ := r["detail_list"].([]any); len(d) < 1 || len(d) > 3 {
		t.Errorf("detail_list has %d items", len(d))
	}
	if a, ok := r["amount_detail_list"].([]any); !ok || len(a) != 0 {
		t.Errorf("amount_detail_list = %v", r["amount_detail_list"])
	}
	stamp := time.UnixMilli(int64(r["modified"].(float64))).In(cst).Format(time.DateTime)
	if r["modified_date"] != stamp {
		t.Errorf("modified_date %v, modified %s", r["modified_date"], stamp)
	}

	resp, b, err := f.do(call{pageSize: 5})
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(b, []byte("total_count")) {
		t.Errorf("total_count sent without calc_total: %.200s", b)
	}
	if d, err := http.ParseTime(resp.Header.Get("Date")); err != nil || !d.Equal(start) {
		t.Errorf("Date = %q, want the sandbox clock %v", resp.Header.Get("Date"), start)
	}
	if env := f.page(call{}); len(env.Data.Order) != 40 {
		t.Errorf("default page_size gave %d refunds, want 40", len(env.Data.Order))
	}
	if s := f.SB.Stats(); s.Calls != 6 || s.Served != 6 {
		t.Errorf("stats = %+v", s)
	}
}

func truthOf(truth []map[string]any, id int64) map[string]any {
	for _, r := range truth {
		if int64(r["refund_id"].(float64)) == id {
			return r
		}
	}
	return nil
}

func TestValidationErrors(t *testing.T) {
	f := newFixture(t, wdtsandbox.Config{Records: 10, Settings: sandbox.Settings{Seed: 2}})
	cases := []struct {
		name string
		call call
		want string
	}{
		{"bad sign", call{tamper: func(q url.Values) { q.Set("sign", strings.Repeat("0", 32)) }}, "签名错误"},
		{"unsigned param", call{tamper: func(q url.Values) { q.Set("page_no", "1") }}, "签名错误"},
		{"stale timestamp", call{timestamp: start.Add(-121 * time.Second)}, "timestamp无效"},
		{"wrong salt", call{tamper: func(q url.Values) { q.Set("salt", "x") }}, "salt无效"},
		{"wrong method", call{tamper: func(q url.Values) { q.Set("method", "trade.Trade.search") }}, "接口名称无效"},
		{"window over 30 days", call{params: window(start.Add(-31*24*time.Hour), start)}, "请求时间最大跨度为30天"},
		{"no window", call{params: map[string]any{"status": 30}}, "参数中必须包含起止时间"},
		{"half a window", call{params: map[string]any{"modified_from": "2024-06-01 00:00:00"}}, "参数中必须包含起止时间"},
		{"page too big", call{pageSize: 201}, "page_size超过最大值200"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			env := f.search(c.call)
			if env.Status != 100 || !strings.HasPrefix(env.Message, c.want) {
				t.Fatalf("got status %d %q, want 100 %q", env.Status, env.Message, c.want)
			}
		})
	}
	if s := f.SB.Stats(); s.Rejected != len(cases) || s.Served != 0 {
		t.Errorf("stats = %+v", s)
	}
	// A timestamp 119 s off is fine; so is a 30-day window.
	f.page(call{timestamp: start.Add(119 * time.Second), params: window(start.Add(-30*24*time.Hour), start)})
}

// walk pages forward from page 0 until a short page, as a naive client does.
func (f *fixture) walk(params map[string]any) []map[string]any {
	var all []map[string]any
	for p := 0; ; p++ {
		env := f.page(call{pageNo: p, pageSize: 10, params: params})
		all = append(all, env.Data.Order...)
		if len(env.Data.Order) < 10 {
			return all
		}
	}
}

func TestVisibilityLagHidesFreshChanges(t *testing.T) {
	const lag = 10 * time.Minute
	f := newFixture(t, wdtsandbox.Config{Records: 50, Settings: sandbox.Settings{Seed: 4, VisibilityLag: lag}})
	now := window(start, start) // modified within the current second

	f.SB.Mutate(1)
	var changed map[string]any
	for _, r := range f.SB.Truth() {
		if int64(r["modified"].(float64)) == start.UnixMilli() {
			changed = r
		}
	}
	if changed == nil {
		t.Fatal("Mutate(1) changed nothing in Truth")
	}
	if got := f.page(call{params: now}).Data.Order; len(got) != 0 {
		t.Fatalf("a change showed at once despite the lag: %v", got[0]["refund_id"])
	}
	// Until it shows, queries see the old version.
	byNo := map[string]any{"refund_no": changed["refund_no"]}
	if got := f.page(call{params: byNo}).Data.Order; len(got) != 1 || got[0]["modified"] == changed["modified"] {
		t.Fatalf("by refund_no before the lag: %v", got)
	}

	f.Clock.Advance(lag)
	got := f.page(call{params: now}).Data.Order
	if len(got) != 1 || !reflect.DeepEqual(got[0], changed) {
		t.Fatalf("after the lag the window holds %d refunds, want the changed one", len(got))
	}
}

// TestMutateAtStampsABatchInThePast: MutateAt changes a batch of refunds
// all stamped one past second, only refunds not changed since, and the
// batch shows at once, as one whose transaction committed late.
func TestMutateAtStampsABatchInThePast(t *testing.T) {
	f := newFixture(t, wdtsandbox.Config{Records: 200, Settings: sandbox.Settings{Seed: 5}})
	at := start.Add(-2 * time.Hour)
	before := map[any]float64{}
	eligible := 0
	for _, r := range f.SB.Truth() {
		before[r["refund_id"]] = r["modified"].(float64)
		if int64(r["modified"].(float64)) <= at.UnixMilli() {
			eligible++
		}
	}
	f.SB.MutateAt(at, 500) // more than are eligible: all of them
	batch := 0
	for _, r := range f.SB.Truth() {
		m := r["modified"].(float64)
		if m < before[r["refund_id"]] {
			t.Fatalf("refund %v moved back in time: %v → %v", r["refund_id"], before[r["refund_id"]], m)
		}
		if int64(m) == at.UnixMilli() {
			batch++
		}
	}
	if batch != eligible || eligible == 0 {
		t.Fatalf("%d refunds stamped %v, want the %d last modified by then", batch, at, eligible)
	}
	if got := f.page(call{params: window(at, at), calcTotal: true}).Data.TotalCount; got == nil || *got != eligible {
		t.Fatalf("the batch's second shows %v refunds, want %d", got, eligible)
	}
}

func TestCallsPerMinuteQuota(t *testing.T) {
	f := newFixture(t, wdtsandbox.Config{Records: 5, CallsPerMinute: 3, Settings: sandbox.Settings{Seed: 8}})
	for range 3 {
		f.page(call{})
	}
	if env := f.search(call{}); env.Status != 100 || env.Message != throttleMessage {
		t.Fatalf("fourth call in the minute: %d %q", env.Status, env.Message)
	}
	f.Clock.Advance(time.Minute)
	f.page(call{})
	if s := f.SB.Stats(); s.Served != 4 || s.Throttled != 1 {
		t.Fatalf("stats = %+v", s)
	}
}

func TestConfigFillsDefaults(t *testing.T) {
	c := wdtsandbox.New(wdtsandbox.Config{Records: 1}).Config()
	if c.SID != "ferry-sandbox" || c.AppKey != "ferry-app" || c.AppSecret != "ferry-secret:ferry-salt" ||
		c.MaxPageSize != 200 || c.MaxWindow != 30*24*time.Hour || c.SlowDelay != 50*time.Millisecond || c.Now == nil {
		t.Fatalf("defaults not filled: %+v", c)
	}
}
