package jackyunsandbox_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/ferry-data/ferry/internal/sandbox"
	"github.com/ferry-data/ferry/internal/sandbox/sandboxtest"
	"github.com/ferry-data/ferry/producers/jackyun/jackyunsandbox"
)

// shanghai is Beijing time, the zone of the timestamp parameter and of every
// date-time text, written yyyy-MM-dd HH:mm:ss (vendors.md §2.2).
var shanghai = time.FixedZone("Asia/Shanghai", 8*3600)

var jkyStart = time.Date(2024, 6, 1, 12, 0, 0, 0, shanghai)

// jkyFixture is a Jackyun sandbox on a settable clock, served over HTTP.
type jkyFixture struct {
	*sandboxtest.Fixture[*jackyunsandbox.Sandbox]
}

// newJkyFixture builds a sandbox; the quotas are off unless cfg sets them,
// since the clock stands still between calls.
func newJkyFixture(t *testing.T, cfg jackyunsandbox.Config) *jkyFixture {
	t.Helper()
	if cfg.PerSecond == 0 {
		cfg.PerSecond = -1
	}
	if cfg.PerMinute == 0 {
		cfg.PerMinute = -1
	}
	return &jkyFixture{sandboxtest.Serve(t, jkyStart, func(now func() time.Time) *jackyunsandbox.Sandbox {
		cfg.Now = now
		return jackyunsandbox.New(cfg)
	})}
}

// jkyCall is one gateway call; the zero value asks for page 0 of every
// trade's gmtModified, with the total.
type jkyCall struct {
	biz       map[string]any     // nil: jkyAll; paging is added
	pageIndex int                //
	pageSize  int                // 0: not sent
	noTotal   bool               // leave hasTotal out
	timestamp time.Time          // zero: the sandbox's now
	tamper    func(f url.Values) // runs after signing
	get       bool               // send as GET
	ctx       context.Context    // nil: background
}

func jkyPair(from, to string, a, b time.Time) map[string]any {
	return map[string]any{from: a.In(shanghai).Format(time.DateTime), to: b.In(shanghai).Format(time.DateTime)}
}

func jkyModified(a, b time.Time) map[string]any { return jkyPair("startModified", "endModified", a, b) }

// jkyAll spans every start trade's gmtModified.
var jkyAll = jkyModified(jkyStart.Add(-73*time.Hour), jkyStart.Add(time.Hour))

// do signs and sends c as ferry's connector would (vendors.md §2.2).
func (f *jkyFixture) do(c jkyCall) (*http.Response, []byte) {
	f.T.Helper()
	resp, body, err := f.try(c)
	if err != nil {
		f.T.Fatalf("call: %v", err)
	}
	return resp, body
}

// try signs and sends c, and returns what a transport error leaves.
func (f *jkyFixture) try(c jkyCall) (*http.Response, []byte, error) {
	f.T.Helper()
	cfg := f.SB.Config()
	biz := map[string]any{}
	if c.biz == nil {
		c.biz = jkyAll
	}
	for k, v := range c.biz {
		biz[k] = v
	}
	biz["pageIndex"] = c.pageIndex
	if c.pageSize > 0 {
		biz["pageSize"] = c.pageSize
	}
	if !c.noTotal {
		biz["hasTotal"] = 1
	}
	b, err := json.Marshal(biz)
	if err != nil {
		f.T.Fatal(err)
	}
	if c.timestamp.IsZero() {
		c.timestamp = f.Clock.Now()
	}
	p := map[string]string{
		"method":      jackyunsandbox.Method,
		"appkey":      cfg.AppKey,
		"version":     "v1.0",
		"contenttype": "json",
		"timestamp":   c.timestamp.In(shanghai).Format(time.DateTime), // vendors.md §2.2
		"bizcontent":  string(b),
	}
	p["sign"] = jackyunsandbox.Sign(p, cfg.Secret)
	form := url.Values{}
	for k, v := range p {
		form.Set(k, v)
	}
	if c.tamper != nil {
		c.tamper(form)
	}
	if c.ctx == nil {
		c.ctx = context.Background()
	}
	req, err := http.NewRequestWithContext(c.ctx, http.MethodPost, f.Srv.URL+"/open/openapi/do", strings.NewReader(form.Encode()))
	if c.get {
		req, err = http.NewRequestWithContext(c.ctx, http.MethodGet, f.Srv.URL+"/open/openapi/do?"+form.Encode(), nil)
	}
	if err != nil {
		return nil, nil, err
	}
	if !c.get {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	return f.Do(req)
}

type jkyEnvelope struct {
	Code    int    `json:"code"`
	Msg     string `json:"msg"`
	SubCode string `json:"subCode"`
	Result  *struct {
		Data struct {
			Trades       []map[string]any `json:"trades"`
			TotalResults *int             `json:"totalResults"`
		} `json:"data"`
		ContextID string `json:"contextId"`
	} `json:"result"`
}

// search makes a call that must get a well-formed HTTP 200 envelope.
func (f *jkyFixture) search(c jkyCall) jkyEnvelope {
	f.T.Helper()
	resp, b := f.do(c)
	if resp.StatusCode != http.StatusOK {
		f.T.Fatalf("HTTP %d: %s", resp.StatusCode, b)
	}
	var env jkyEnvelope
	if err := json.Unmarshal(b, &env); err != nil {
		f.T.Fatalf("decode %.300s: %v", b, err)
	}
	return env
}

// page makes a call that must succeed and returns its trades and total.
func (f *jkyFixture) page(c jkyCall) ([]map[string]any, int) {
	f.T.Helper()
	env := f.search(c)
	if env.Code != 200 || env.Result == nil {
		f.T.Fatalf("code %d %s: %s", env.Code, env.SubCode, env.Msg)
	}
	total := -1
	if env.Result.Data.TotalResults != nil {
		total = *env.Result.Data.TotalResults
	}
	return env.Result.Data.Trades, total
}

func jkyID(r map[string]any) string { return r["tradeId"].(string) }

func jkyIDs(rs []map[string]any) map[string]bool {
	out := map[string]bool{}
	for _, r := range rs {
		out[jkyID(r)] = true
	}
	return out
}

func TestJackyunPagesFromZeroWithTotal(t *testing.T) {
	f := newJkyFixture(t, jackyunsandbox.Config{Trades: 95, Settings: sandbox.Settings{Seed: 1}})

	var all []map[string]any
	for p, want := range []int{40, 40, 15, 0} {
		got, total := f.page(jkyCall{pageIndex: p, pageSize: 40})
		if total != 95 {
			t.Fatalf("page %d: totalResults = %d, want 95", p, total)
		}
		if len(got) != want {
			t.Fatalf("page %d: %d trades, want %d", p, len(got), want)
		}
		all = append(all, got...)
	}
	for i := 1; i < len(all); i++ {
		a, b := all[i-1], all[i]
		am, bm := a["gmtModified"].(string), b["gmtModified"].(string)
		if am > bm || am == bm && jkyID(a) >= jkyID(b) {
			t.Fatalf("trades %s and %s out of order", jkyID(a), jkyID(b))
		}
	}
	truth := f.SB.Truth()
	if got, want := jkyIDs(all), jkyIDs(truth); len(all) != 95 || !reflect.DeepEqual(got, want) {
		t.Fatalf("walk saw %d trades (%d distinct), truth holds %d", len(all), len(got), len(want))
	}
	byID := map[string]map[string]any{}
	for _, r := range truth {
		byID[jkyID(r)] = r
	}
	for _, r := range all {
		if !reflect.DeepEqual(r, byID[jkyID(r)]) {
			t.Fatalf("served trade differs from Truth:\n%v\n%v", r, byID[jkyID(r)])
		}
	}

	online, statuses := map[string]bool{}, map[float64]int{}
	for _, r := range truth {
		no := r["onlineTradeNo"].(string)
		if online[no] || no == "" || no != r["sourceTradeNo"] {
			t.Errorf("onlineTradeNo %q repeated, empty or unlike sourceTradeNo", no)
		}
		online[no] = true
		if tn := r["tradeNo"].(string); !strings.HasPrefix(tn, "JY2024") || len(tn) != 15 {
			t.Errorf("tradeNo = %q", tn)
		}
		st := r["tradeStatus"].(float64)
		statuses[st]++
		if shipped := st == 6000 || st == 9090; shipped != (r["consignTime"] != nil) {
			t.Errorf("trade %s: status %v, consignTime %v", jkyID(r), st, r["consignTime"])
		}
		if d, _ := r["goodsDetail"].([]any); len(d) < 1 {
			t.Errorf("trade %s has no goods", jkyID(r))
		}
		pay := r["totalFee"].(float64) + r["postFee"].(float64) - r["discountFee"].(float64)
		if d := pay - r["payment"].(float64); d > 0.001 || d < -0.001 {
			t.Errorf("trade %s: payment %v ≠ total+post−discount %v", jkyID(r), r["payment"], pay)
		}
	}
	if statuses[6000] == 0 || statuses[9090] == 0 || len(statuses) < 5 {
		t.Errorf("statuses drawn: %v", statuses)
	}

	resp, b := f.do(jkyCall{pageSize: 5, noTotal: true})
	if bytes.Contains(b, []byte("totalResults")) {
		t.Errorf("totalResults sent without hasTotal: %.200s", b)
	}
	if d, err := http.ParseTime(resp.Header.Get("Date")); err != nil || !d.Equal(jkyStart) {
		t.Errorf("Date = %q, want the sandbox clock %v", resp.Header.Get("Date"), jkyStart)
	}
	if got, _ := f.page(jkyCall{}); len(got) != 50 {
		t.Errorf("default pageSize gave %d trades, want 50", len(got))
	}
	if s := f.SB.Stats(); s.Calls != 6 || s.Served != 6 {
		t.Errorf("stats = %+v", s)
	}
}

func TestJackyunValidationErrors(t *testing.T) {
	f := newJkyFixture(t, jackyunsandbox.Config{Trades: 10, Settings: sandbox.Settings{Seed: 2}})
	week := 7 * 24 * time.Hour
	cases := []struct {
		name          string
		call          jkyCall
		code          int
		subCode, want string
	}{
		{"bad sign", jkyCall{tamper: func(q url.Values) { q.Set("sign", strings.Repeat("0", 32)) }}, 401, "GW.SIGN_ERROR", "签名错误"},
		{"unsigned change", jkyCall{tamper: func(q url.Values) { q.Set("bizcontent", `{"pageIndex":1}`) }}, 401, "GW.SIGN_ERROR", "签名错误"},
		{"stale timestamp", jkyCall{timestamp: jkyStart.Add(-11 * time.Minute)}, 401, "GW.TIMESTAMP_INVALID", "timestamp无效"},
		{"wrong appkey", jkyCall{tamper: func(q url.Values) { q.Set("appkey", "other") }}, 401, "GW.APPKEY_INVALID", "appkey无效"},
		{"wrong method", jkyCall{tamper: func(q url.Values) { q.Set("method", "erp.goods.skuimport") }}, 400, "GW.METHOD_NOT_FOUND", "接口不存在"},
		{"no sign", jkyCall{tamper: func(q url.Values) { q.Del("sign") }}, 400, "GW.MISSING_PARAMETER", "缺少必要参数: sign"},
		{"GET", jkyCall{get: true}, 400, "GW.PARAM_INVALID", "仅支持POST"},
		{"modified over 7 days", jkyCall{biz: jkyModified(jkyStart.Add(-week-time.Second), jkyStart)}, 400, "BIZ.TIME_RANGE_EXCEEDED", "startModified至endModified的时间跨度不能超过7天"},
		{"consign over 7 days", jkyCall{biz: jkyPair("startConsignTime", "endConsignTime", jkyStart.Add(-8*24*time.Hour), jkyStart)}, 400, "BIZ.TIME_RANGE_EXCEEDED", "startConsignTime至endConsignTime"},
		{"created over 7 days", jkyCall{biz: jkyPair("startCreated", "endCreated", jkyStart.Add(-30*24*time.Hour), jkyStart)}, 400, "BIZ.TIME_RANGE_EXCEEDED", "startCreated至endCreated"},
		{"half a pair", jkyCall{biz: map[string]any{"startConsignTime": "2024-06-01 00:00:00"}}, 400, "BIZ.PARAM_INVALID", "startConsignTime和endConsignTime必须同时传入"},
		{"reversed pair", jkyCall{biz: jkyModified(jkyStart, jkyStart.Add(-time.Hour))}, 400, "BIZ.PARAM_INVALID", "startModified不能晚于endModified"},
		{"audit time", jkyCall{biz: jkyPair("startAuditTime", "endAuditTime", jkyStart.Add(-time.Hour), jkyStart)}, 400, "BIZ.PARAM_INVALID", "沙箱不支持"},
		{"page too big", jkyCall{pageSize: 1001}, 400, "BIZ.PARAM_INVALID", "pageSize不能超过1000"},
		{"bad tradeStatus", jkyCall{biz: map[string]any{"tradeStatus": "done"}}, 400, "BIZ.PARAM_INVALID", "tradeStatus参数错误"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			env := f.search(c.call)
			if env.Code != c.code || env.SubCode != c.subCode || !strings.HasPrefix(env.Msg, c.want) || env.Result != nil {
				t.Fatalf("got %d %s %q, want %d %s %q", env.Code, env.SubCode, env.Msg, c.code, c.subCode, c.want)
			}
		})
	}
	if s := f.SB.Stats(); s.Rejected != len(cases) || s.Served != 0 {
		t.Errorf("stats = %+v", s)
	}
	// A timestamp 9 min off is fine; so are 7-day pairs, pageSize 1000
	// and version 1.0.
	f.page(jkyCall{timestamp: jkyStart.Add(9 * time.Minute), pageSize: 1000, biz: jkyModified(jkyStart.Add(-week), jkyStart)})
	f.page(jkyCall{biz: jkyPair("startCreated", "endCreated", jkyStart.Add(-week), jkyStart)})
	f.page(jkyCall{tamper: func(q url.Values) {
		q.Set("version", "1.0")
		p := map[string]string{}
		for k := range q {
			p[k] = q.Get(k)
		}
		q.Set("sign", jackyunsandbox.Sign(p, f.SB.Config().Secret))
	}})
}

func TestJackyunFilters(t *testing.T) {
	f := newJkyFixture(t, jackyunsandbox.Config{Trades: 300, Settings: sandbox.Settings{Seed: 3}})
	truth := f.SB.Truth()
	count := func(keep func(r map[string]any) bool) int {
		n := 0
		for _, r := range truth {
			if keep(r) {
				n++
			}
		}
		return n
	}
	consign := jkyPair("startConsignTime", "endConsignTime", jkyStart.Add(-7*24*time.Hour), jkyStart)
	with := func(m map[string]any, k string, v any) map[string]any {
		out := map[string]any{k: v}
		for k, v := range m {
			out[k] = v
		}
		return out
	}
	some := truth[7]
	for _, tc := range []struct {
		name string
		biz  map[string]any
		keep func(r map[string]any) bool
	}{
		{"consigned only", consign, func(r map[string]any) bool { return r["consignTime"] != nil }},
		{"tradeType 92 as text", with(jkyAll, "tradeType", "92"), func(r map[string]any) bool { return r["tradeType"] == 92.0 }},
		{"tradeStatus list", with(jkyAll, "tradeStatus", "6000,9090"), func(r map[string]any) bool { return r["consignTime"] != nil }},
		{"tradeStatus number", with(consign, "tradeStatus", 9090), func(r map[string]any) bool { return r["tradeStatus"] == 9090.0 }},
		{"tradeNo", map[string]any{"tradeNo": some["tradeNo"]}, func(r map[string]any) bool { return r["tradeNo"] == some["tradeNo"] }},
		{"sourceTradeNos", map[string]any{"sourceTradeNos": some["sourceTradeNo"].(string) + ",nope"}, func(r map[string]any) bool { return r["sourceTradeNo"] == some["sourceTradeNo"] }},
		{"isDelete", with(jkyAll, "isDelete", 0), func(r map[string]any) bool { return r["isDelete"] == 0.0 }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, total := f.page(jkyCall{biz: tc.biz, pageSize: 1000})
			want := count(tc.keep)
			if total != want || len(got) != want || want == 0 {
				t.Fatalf("%d trades, total %d; want %d", len(got), total, want)
			}
			for _, r := range got {
				if !tc.keep(r) {
					t.Fatalf("trade %s does not match", jkyID(r))
				}
			}
		})
	}
	// Consign order: consignTime ascending, then tradeId.
	got, _ := f.page(jkyCall{biz: consign, pageSize: 1000})
	for i := 1; i < len(got); i++ {
		a, b := got[i-1]["consignTime"].(string), got[i]["consignTime"].(string)
		if a > b || a == b && jkyID(got[i-1]) >= jkyID(got[i]) {
			t.Fatalf("not in consignTime order at %d: %s, %s", i, a, b)
		}
	}
	// fields keeps only what is listed.
	got, _ = f.page(jkyCall{biz: with(jkyAll, "fields", "tradeId,tradeNo,goodsDetail.goodsNo"), pageSize: 3})
	if len(got[0]) != 3 || got[0]["tradeNo"] == nil {
		t.Fatalf("fields gave %v", got[0])
	}
	line := got[0]["goodsDetail"].([]any)[0].(map[string]any)
	if len(line) != 1 || line["goodsNo"] == nil {
		t.Fatalf("goodsDetail.goodsNo gave %v", line)
	}
}

// jkyWalk pages forward from page 0 until a short page, as a naive client
// does.
func (f *jkyFixture) walk(biz map[string]any) []map[string]any {
	var all []map[string]any
	for p := 0; ; p++ {
		got, _ := f.page(jkyCall{biz: biz, pageIndex: p, pageSize: 10})
		all = append(all, got...)
		if len(got) < 10 {
			return all
		}
	}
}

// TestJackyunMutationsPerCallTrapsForwardWalk: whichever time field a
// caller filters on, a forward walk skips trades, since the ones it passed
// move to the end of that order.
func TestJackyunMutationsPerCallTrapsForwardWalk(t *testing.T) {
	from, to := jkyStart.Add(-73*time.Hour), jkyStart.Add(time.Hour)
	for _, tc := range []struct {
		name         string
		from, to     string
		field        string
		first, lastT time.Time
	}{
		{"gmtModified", "startModified", "endModified", "gmtModified", from, to},
		{"consignTime", "startConsignTime", "endConsignTime", "consignTime", from, to},
		{"gmtCreate", "startCreated", "endCreated", "gmtCreate", jkyStart.Add(-6 * 24 * time.Hour), to},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newJkyFixture(t, jackyunsandbox.Config{Trades: 120, Settings: sandbox.Settings{Seed: 4, MutationsPerCall: 1}})
			biz := jkyPair(tc.from, tc.to, tc.first, tc.lastT)
			want := map[string]bool{}
			for _, r := range f.SB.Truth() {
				if at, _ := r[tc.field].(string); at >= biz[tc.from].(string) && at <= biz[tc.to].(string) {
					want[jkyID(r)] = true
				}
			}
			seen := jkyIDs(f.walk(biz))
			missed := 0
			for id := range want {
				if !seen[id] {
					missed++
				}
			}
			if missed == 0 {
				t.Fatal("a forward walk saw every trade; the trap is not set")
			}
			// Each change moved a trade to now in the order searched (one
			// trade may have been moved twice).
			moved := 0
			now := f.Clock.Now().In(shanghai).Format(time.DateTime)
			for _, r := range f.SB.Truth() {
				if r[tc.field] == now {
					moved++
				}
			}
			if s := f.SB.Stats(); moved == 0 || moved > s.Mutations {
				t.Fatalf("%d trades moved to now by %s, stats %+v", moved, tc.field, s)
			}
			t.Logf("forward walk missed %d of %d trades", missed, len(want))

			f.SB.Freeze()
			before := f.SB.Stats().Mutations
			if got := f.walk(biz); len(got) != len(want) || len(jkyIDs(got)) != len(want) {
				t.Fatalf("after Freeze a walk saw %d trades (%d distinct), want %d", len(got), len(jkyIDs(got)), len(want))
			}
			if after := f.SB.Stats().Mutations; after != before {
				t.Fatalf("Freeze left per-call mutations on: %d → %d", before, after)
			}
		})
	}
}

func TestJackyunVisibilityLagHidesFreshChanges(t *testing.T) {
	const lag = 10 * time.Minute
	f := newJkyFixture(t, jackyunsandbox.Config{Trades: 50, Settings: sandbox.Settings{Seed: 5, VisibilityLag: lag}})
	now := jkyModified(jkyStart, jkyStart) // modified within the current second

	f.SB.Mutate(1)
	var changed map[string]any
	for _, r := range f.SB.Truth() {
		if r["gmtModified"] == jkyStart.Format(time.DateTime) {
			changed = r
		}
	}
	if changed == nil {
		t.Fatal("Mutate(1) changed nothing in Truth")
	}
	if got, _ := f.page(jkyCall{biz: now}); len(got) != 0 {
		t.Fatalf("a change showed at once despite the lag: %v", jkyID(got[0]))
	}
	// Until it shows, queries see the old version.
	byNo := map[string]any{"tradeNo": changed["tradeNo"]}
	if got, _ := f.page(jkyCall{biz: byNo}); len(got) != 1 || got[0]["gmtModified"] == changed["gmtModified"] {
		t.Fatalf("by tradeNo before the lag: %v", got)
	}

	f.Clock.Advance(lag)
	got, _ := f.page(jkyCall{biz: now})
	if len(got) != 1 || !reflect.DeepEqual(got[0], changed) {
		t.Fatalf("after the lag the window holds %d trades, want the changed one", len(got))
	}
}

// TestJackyunNewTradesShowAfterTheLag: a created trade is not there at all
// until its lag passes.
func TestJackyunNewTradesShowAfterTheLag(t *testing.T) {
	f := newJkyFixture(t, jackyunsandbox.Config{Trades: 10, Settings: sandbox.Settings{Seed: 6, CreationsPerSecond: 1, VisibilityLag: time.Hour}})
	f.Clock.Advance(5 * time.Second)
	f.SB.Freeze()
	win := jkyPair("startCreated", "endCreated", jkyStart, jkyStart.Add(time.Hour))
	if got, total := f.page(jkyCall{biz: win}); total != 0 || len(got) != 0 {
		t.Fatalf("new trades visible before their lag: %d", total)
	}
	if n := len(f.SB.Truth()); n != 15 {
		t.Fatalf("Truth holds %d trades, want 15", n)
	}
	f.Clock.Advance(time.Hour)
	if _, total := f.page(jkyCall{biz: win}); total != 5 {
		t.Fatalf("after the lag %d new trades, want 5", total)
	}
}

func TestJackyunQuotas(t *testing.T) {
	f := newJkyFixture(t, jackyunsandbox.Config{Trades: 5, PerSecond: 10, PerMinute: 15, Settings: sandbox.Settings{Seed: 8}})
	throttled := func() bool {
		env := f.search(jkyCall{})
		return env.Code == 429 && env.SubCode == "GW.RATE_LIMIT"
	}
	for i := range 10 {
		if throttled() {
			t.Fatalf("call %d of the second throttled", i+1)
		}
	}
	if !throttled() {
		t.Fatal("11th call in a second not throttled")
	}
	f.Clock.Advance(time.Second) // 11 calls so far this minute
	for i := range 4 {
		if throttled() {
			t.Fatalf("call %d of the minute throttled", 12+i)
		}
	}
	if !throttled() {
		t.Fatal("16th call in a minute not throttled")
	}
	f.Clock.Advance(time.Minute)
	if throttled() {
		t.Fatal("a new minute is still throttled")
	}
	if s := f.SB.Stats(); s.Served != 15 || s.Throttled != 2 {
		t.Fatalf("stats = %+v", s)
	}
	if c := jackyunsandbox.New(jackyunsandbox.Config{Trades: 1}).Config(); c.PerSecond != 10 || c.PerMinute != 600 {
		t.Fatalf("default quotas %d/s %d/min", c.PerSecond, c.PerMinute)
	}
}

// TestJackyunMutationsConsign: modifications walk trades along their
// statuses, and a trade reaching 6000 gets its consignTime then.
func TestJackyunMutationsConsign(t *testing.T) {
	f := newJkyFixture(t, jackyunsandbox.Config{Trades: 200, Settings: sandbox.Settings{Seed: 11}})
	before := map[string]map[string]any{}
	for _, r := range f.SB.Truth() {
		before[jkyID(r)] = r
	}
	f.Clock.Advance(time.Minute)
	f.SB.Mutate(200)
	now := f.Clock.Now().In(shanghai).Format(time.DateTime)
	shipped, done := 0, 0
	for _, r := range f.SB.Truth() {
		b := before[jkyID(r)]
		if r["gmtModified"] != now {
			t.Fatalf("trade %s not stamped by Mutate", jkyID(r))
		}
		switch {
		case b["tradeStatus"] == 5000.0 && r["tradeStatus"] == 6000.0:
			shipped++
			if r["consignTime"] != now {
				t.Fatalf("trade %s shipped with consignTime %v", jkyID(r), r["consignTime"])
			}
		case b["tradeStatus"] == 6000.0 && r["tradeStatus"] == 9090.0:
			done++
			if r["consignTime"] != b["consignTime"] {
				t.Fatal("completion moved consignTime")
			}
		}
	}
	if shipped == 0 || done == 0 {
		t.Fatalf("%d shipped and %d completed by 200 mutations", shipped, done)
	}
}

// TestJackyunQuirks: result.data as a JSON string, and PascalCase keys.
func TestJackyunQuirks(t *testing.T) {
	plain := newJkyFixture(t, jackyunsandbox.Config{Trades: 8, Settings: sandbox.Settings{Seed: 12}})
	want, _ := plain.page(jkyCall{})

	f := newJkyFixture(t, jackyunsandbox.Config{Trades: 8, StringData: true, PascalCase: true, Settings: sandbox.Settings{Seed: 12}})
	_, b := f.do(jkyCall{})
	var env struct {
		Code   int `json:"code"`
		Result map[string]any
	}
	if err := json.Unmarshal(b, &env); err != nil || env.Code != 200 {
		t.Fatalf("decode %.200s: %v", b, err)
	}
	s, ok := env.Result["Data"].(string)
	if !ok {
		t.Fatalf("result.Data is %T, want a JSON string", env.Result["Data"])
	}
	var data struct {
		Trades       []map[string]any `json:"Trades"`
		TotalResults float64          `json:"TotalResults"`
	}
	if err := json.Unmarshal([]byte(s), &data); err != nil || data.TotalResults != 8 || len(data.Trades) != 8 {
		t.Fatalf("data %.200s: %v", s, err)
	}
	r := data.Trades[0]
	if r["TradeId"] != jkyID(want[0]) || r["GoodsDetail"] == nil || r["tradeId"] != nil {
		t.Fatalf("PascalCase trade: %v", r)
	}
	if line := r["GoodsDetail"].([]any)[0].(map[string]any); line["GoodsNo"] == nil {
		t.Fatalf("PascalCase goods line: %v", line)
	}
	if truth := f.SB.Truth(); truth[0]["tradeId"] == nil {
		t.Fatal("Truth is not camelCase under the quirk")
	}
}

func TestJackyunConfigFillsDefaults(t *testing.T) {
	c := jackyunsandbox.New(jackyunsandbox.Config{Trades: 1}).Config()
	if c.AppKey != "ferry-jky-app" || c.Secret != "ferry-jky-secret" || c.MaxPageSize != 1000 ||
		c.MaxWindow != 7*24*time.Hour || c.SlowDelay != 50*time.Millisecond || c.Now == nil ||
		c.PerSecond != 10 || c.PerMinute != 600 {
		t.Fatalf("defaults not filled: %+v", c)
	}
	if n := len(jackyunsandbox.New(jackyunsandbox.Config{}).Truth()); n != 500 {
		t.Fatalf("%d trades by default, want 500", n)
	}
}
