package jstsandbox_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ferry-data/ferry/internal/sandbox"
	"github.com/ferry-data/ferry/internal/sandbox/sandboxtest"
	"github.com/ferry-data/ferry/internal/vendortest"
	"github.com/ferry-data/ferry/producers/jushuitan/jstsandbox"
)

var (
	jstCST   = time.FixedZone("CST", 8*3600)
	jstStart = time.Date(2024, 6, 1, 12, 0, 0, 0, jstCST)
)

// jstFixture is a Jushuitan sandbox on a settable clock, served over HTTP.
type jstFixture struct {
	*sandboxtest.Fixture[*jstsandbox.Sandbox]
}

// newJSTFixture starts a sandbox; quotas left at 0 are turned off, so that
// tests can call many times in one clock second.
func newJSTFixture(t *testing.T, cfg jstsandbox.Config) *jstFixture {
	t.Helper()
	if cfg.PerSecond == 0 {
		cfg.PerSecond = -1
	}
	if cfg.PerMinute == 0 {
		cfg.PerMinute = -1
	}
	return &jstFixture{sandboxtest.Serve(t, jstStart, func(now func() time.Time) *jstsandbox.Sandbox {
		cfg.Now = now
		return jstsandbox.New(cfg)
	})}
}

// jstCall is one business call; the zero value asks for page 1 of 50
// orders modified in the last 72 h.
type jstCall struct {
	path      string             // "": the orders query
	biz       map[string]any     // nil: the default window, page 1 of 50
	token     string             // "": the start access token
	timestamp time.Time          // zero: the sandbox's now
	tamper    func(f url.Values) // runs after signing
	ctx       context.Context    // nil: background
}

func jstWindow(from, to time.Time) map[string]any {
	return map[string]any{
		"modified_begin": from.In(jstCST).Format(time.DateTime),
		"modified_end":   to.In(jstCST).Format(time.DateTime),
	}
}

// jstPage returns biz with paging added.
func jstPage(biz map[string]any, index, size int) map[string]any {
	out := map[string]any{"page_index": index, "page_size": size}
	for k, v := range biz {
		out[k] = v
	}
	return out
}

// form builds a signed business form (vendors.md §1.2–1.3).
func (f *jstFixture) form(c jstCall) url.Values {
	cfg := f.SB.Config()
	if c.biz == nil {
		c.biz = jstPage(jstWindow(jstStart.Add(-72*time.Hour), jstStart), 1, 50)
	}
	if c.token == "" {
		c.token = cfg.AccessToken
	}
	if c.timestamp.IsZero() {
		c.timestamp = f.Clock.Now()
	}
	biz, err := json.Marshal(c.biz)
	if err != nil {
		f.T.Fatal(err)
	}
	return f.sign(map[string]string{
		"app_key":      cfg.AppKey,
		"access_token": c.token,
		"timestamp":    timestamp(c.timestamp),
		"charset":      "utf-8",
		"version":      "2",
		"biz":          string(biz),
	})
}

// timestamp renders t as the timestamp form field: Unix seconds (vendors.md §1.2).
func timestamp(t time.Time) string { return strconv.FormatInt(t.Unix(), 10) }

func (f *jstFixture) sign(p map[string]string) url.Values {
	form := url.Values{}
	for k, v := range p {
		form.Set(k, v)
	}
	form.Set("sign", jstsandbox.Sign(p, f.SB.Config().AppSecret))
	return form
}

func (f *jstFixture) do(c jstCall) (*http.Response, []byte, error) {
	f.T.Helper()
	form := f.form(c)
	if c.tamper != nil {
		c.tamper(form)
	}
	if c.path == "" {
		c.path = jstsandbox.OrdersPath
	}
	return f.post(c.ctx, c.path, form)
}

func (f *jstFixture) post(ctx context.Context, path string, form url.Values) (*http.Response, []byte, error) {
	f.T.Helper()
	if ctx == nil {
		ctx = context.Background()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, f.Srv.URL+path, strings.NewReader(form.Encode()))
	if err != nil {
		f.T.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded;charset=UTF-8")
	return f.Do(req)
}

type jstEnv struct {
	Code int             `json:"code"`
	Msg  string          `json:"msg"`
	Data json.RawMessage `json:"data"`
}

type jstPageData struct {
	PageIndex int              `json:"page_index"`
	PageSize  int              `json:"page_size"`
	DataCount *int             `json:"data_count"`
	PageCount *int             `json:"page_count"`
	HasNext   bool             `json:"has_next"`
	Datas     []map[string]any `json:"datas"`
}

// envelope decodes an answer that must be a well-formed HTTP 200 envelope.
func (f *jstFixture) envelope(resp *http.Response, b []byte, err error) jstEnv {
	f.T.Helper()
	if err != nil {
		f.T.Fatalf("call: %v", err)
	}
	if resp.StatusCode != http.StatusOK {
		f.T.Fatalf("HTTP %d: %s", resp.StatusCode, b)
	}
	var env jstEnv
	if err := json.Unmarshal(b, &env); err != nil {
		f.T.Fatalf("decode %s: %v", b, err)
	}
	return env
}

func (f *jstFixture) call(c jstCall) jstEnv {
	f.T.Helper()
	return f.envelope(f.do(c))
}

// page makes a call that must succeed and returns its data.
func (f *jstFixture) page(c jstCall) jstPageData {
	f.T.Helper()
	env := f.call(c)
	if env.Code != 0 || env.Msg != "执行成功" {
		f.T.Fatalf("code %d: %s", env.Code, env.Msg)
	}
	var d jstPageData
	if err := json.Unmarshal(env.Data, &d); err != nil {
		f.T.Fatalf("decode data %s: %v", env.Data, err)
	}
	return d
}

// walk pages the orders forward from page 1 until a short page, as a
// naive client does.
func (f *jstFixture) walk(biz map[string]any) []map[string]any {
	var all []map[string]any
	for p := 1; ; p++ {
		d := f.page(jstCall{biz: jstPage(biz, p, 10)})
		all = append(all, d.Datas...)
		if len(d.Datas) < 10 {
			return all
		}
	}
}

func jstNum(r map[string]any, field string) int64 { return int64(r[field].(float64)) }

func jstIDs(rs []map[string]any, field string) map[int64]bool {
	out := map[int64]bool{}
	for _, r := range rs {
		out[jstNum(r, field)] = true
	}
	return out
}

func jstFind(rs []map[string]any, field string, id int64) map[string]any {
	for _, r := range rs {
		if jstNum(r, field) == id {
			return r
		}
	}
	return nil
}

func TestJSTOrdersPageFromOneWithCounts(t *testing.T) {
	f := newJSTFixture(t, jstsandbox.Config{Orders: 95, Settings: sandbox.Settings{Seed: 1}})
	last72h := jstWindow(jstStart.Add(-72*time.Hour), jstStart)

	var all []map[string]any
	for i, want := range []int{40, 40, 15, 0} {
		d := f.page(jstCall{biz: jstPage(last72h, i+1, 40)})
		if d.DataCount == nil || *d.DataCount != 95 || d.PageCount == nil || *d.PageCount != 3 {
			t.Fatalf("page %d: data_count %v page_count %v, want 95 and 3", i+1, d.DataCount, d.PageCount)
		}
		if len(d.Datas) != want || d.HasNext != (i+1 < 3) || d.PageIndex != i+1 || d.PageSize != 40 {
			t.Fatalf("page %d: %d orders, has_next %v, page %d of %d", i+1, len(d.Datas), d.HasNext, d.PageIndex, d.PageSize)
		}
		all = append(all, d.Datas...)
	}
	for i := 1; i < len(all); i++ {
		a, b := all[i-1], all[i]
		am, bm := a["modified"].(string), b["modified"].(string)
		if am > bm || am == bm && jstNum(a, "o_id") >= jstNum(b, "o_id") {
			t.Fatalf("orders %d and %d out of order", jstNum(a, "o_id"), jstNum(b, "o_id"))
		}
	}
	truth := f.SB.TruthOrders()
	if got, want := jstIDs(all, "o_id"), jstIDs(truth, "o_id"); len(all) != 95 || !reflect.DeepEqual(got, want) {
		t.Fatalf("walk saw %d orders (%d distinct), truth holds %d", len(all), len(got), len(want))
	}
	for i := 1; i < len(truth); i++ {
		if jstNum(truth[i], "o_id") <= jstNum(truth[i-1], "o_id") {
			t.Fatal("TruthOrders not sorted by o_id")
		}
	}
	o := all[0]
	if !reflect.DeepEqual(o, jstFind(truth, "o_id", jstNum(o, "o_id"))) {
		t.Fatalf("served order differs from TruthOrders:\n%v", o)
	}
	for _, field := range []string{"co_id", "shop_id", "io_id", "o_id", "so_id", "created", "modified", "status", "io_date",
		"l_id", "lc_id", "logistics_company", "wms_co_id", "pay_amount", "paid_amount", "freight", "receiver_name",
		"receiver_state", "receiver_city", "receiver_district", "receiver_address", "shop_name", "ts", "items"} {
		if _, ok := o[field]; !ok {
			t.Errorf("order lacks %s", field)
		}
	}
	items, _ := o["items"].([]any)
	if len(items) == 0 {
		t.Fatal("order without items")
	}
	item := items[0].(map[string]any)
	for _, field := range []string{"ioi_id", "sku_id", "i_id", "name", "qty", "sale_price", "sale_amount", "sale_base_price",
		"is_gift", "oi_id", "outer_oi_id", "raw_so_id", "combine_sku_id"} {
		if _, ok := item[field]; !ok {
			t.Errorf("item lacks %s", field)
		}
	}
	if name, _ := o["receiver_name"].(string); len([]rune(name)) < 2 || len(name) == len([]rune(name)) {
		t.Errorf("receiver_name %q is not Chinese", name)
	}
	if _, err := time.ParseInLocation(time.DateTime, o["modified"].(string), jstCST); err != nil {
		t.Errorf("modified %q: %v", o["modified"], err)
	}

	resp, _, err := f.do(jstCall{})
	if err != nil {
		t.Fatal(err)
	}
	if d, err := http.ParseTime(resp.Header.Get("Date")); err != nil || !d.Equal(jstStart) {
		t.Errorf("Date = %q, want the sandbox clock %v", resp.Header.Get("Date"), jstStart)
	}
	if d := f.page(jstCall{biz: last72h}); len(d.Datas) != 30 || d.PageSize != 30 || d.PageIndex != 1 {
		t.Errorf("default paging gave %d orders, page %d of %d; want 30 on page 1", len(d.Datas), d.PageIndex, d.PageSize)
	}
	if s := f.SB.Stats(); s.Calls != 6 || s.Served != 6 {
		t.Errorf("stats = %+v", s)
	}
}

// A client that counts pages from 0 gets page 1 twice: page_index 0 is
// read as 1.
func TestJSTPageIndexZeroIsPageOne(t *testing.T) {
	f := newJSTFixture(t, jstsandbox.Config{Orders: 30, Settings: sandbox.Settings{Seed: 2}})
	w := jstWindow(jstStart.Add(-72*time.Hour), jstStart)
	zero, one := f.page(jstCall{biz: jstPage(w, 0, 10)}), f.page(jstCall{biz: jstPage(w, 1, 10)})
	if !reflect.DeepEqual(zero.Datas, one.Datas) || zero.PageIndex != 1 {
		t.Fatalf("page_index 0 did not answer page 1 (page_index %d)", zero.PageIndex)
	}
}

func TestJSTOrderFilters(t *testing.T) {
	f := newJSTFixture(t, jstsandbox.Config{Orders: 200, Settings: sandbox.Settings{Seed: 3}})
	truth := f.SB.TruthOrders()
	w := jstWindow(jstStart.Add(-72*time.Hour), jstStart)
	count := func(keep func(map[string]any) bool) int {
		n := 0
		for _, o := range truth {
			if keep(o) {
				n++
			}
		}
		return n
	}
	biz := func(k string, v any) map[string]any {
		b := jstPage(w, 1, 50)
		b[k] = v
		return b
	}
	confirmed := count(func(o map[string]any) bool { return o["status"] == "Confirmed" })
	if d := f.page(jstCall{biz: biz("status", "Confirmed")}); *d.DataCount != confirmed || confirmed == 0 {
		t.Errorf("status=Confirmed: %d orders, want %d", *d.DataCount, confirmed)
	}
	shop := jstNum(truth[0], "shop_id")
	inShop := count(func(o map[string]any) bool { return jstNum(o, "shop_id") == shop })
	if d := f.page(jstCall{biz: biz("shop_id", strconv.FormatInt(shop, 10))}); *d.DataCount != inShop {
		t.Errorf("shop_id: %d orders, want %d", *d.DataCount, inShop)
	}
	so := []any{truth[3]["so_id"], truth[7]["so_id"]}
	for _, v := range []any{so, so[0].(string) + "," + so[1].(string)} {
		d := f.page(jstCall{biz: map[string]any{"so_ids": v}}) // no window: the numbers stand in
		if got := jstIDs(d.Datas, "o_id"); len(got) != 2 || !got[jstNum(truth[3], "o_id")] || !got[jstNum(truth[7], "o_id")] {
			t.Errorf("so_ids %v: got %v", v, got)
		}
	}
	if d := f.page(jstCall{biz: map[string]any{"o_ids": []any{truth[5]["o_id"]}}}); len(d.Datas) != 1 {
		t.Errorf("o_ids: %d orders", len(d.Datas))
	}
}

func TestJSTRefusals(t *testing.T) {
	f := newJSTFixture(t, jstsandbox.Config{Orders: 10, Settings: sandbox.Settings{Seed: 4}})
	long := jstPage(jstWindow(jstStart.Add(-7*24*time.Hour-time.Second), jstStart), 1, 50)
	cases := []struct {
		name string
		call jstCall
		code int
		msg  string
	}{
		{"bad sign", jstCall{tamper: func(f url.Values) { f.Set("sign", strings.Repeat("0", 32)) }}, 10, "验证失败！无效签名"},
		{"unsigned change", jstCall{tamper: func(f url.Values) { f.Set("biz", `{"so_ids":"x"}`) }}, 10, "验证失败！无效签名"},
		{"unknown app_key", jstCall{tamper: func(f url.Values) { f.Set("app_key", "other") }}, 10, "验证失败！无效的app_key"},
		{"stale timestamp", jstCall{timestamp: jstStart.Add(-10*time.Minute - time.Second)}, 140, "验证失败！无效的timestamp"},
		{"early timestamp", jstCall{timestamp: jstStart.Add(10*time.Minute + time.Second)}, 140, "验证失败！无效的timestamp"},
		{"unknown token", jstCall{token: "nope"}, 100, "验证失败！无效的access_token或access_token已过期"},
		{"no version", jstCall{tamper: func(f url.Values) { f.Del("version") }}, 130, "version"},
		{"no charset", jstCall{tamper: func(f url.Values) { f.Del("charset") }}, 130, "charset"},
		{"window over 7 days", jstCall{biz: long}, 130, "时间间隔不能超过七天"},
		{"no window", jstCall{biz: map[string]any{"status": "Confirmed"}}, 130, "修改时间"},
		{"half a window", jstCall{biz: map[string]any{"modified_begin": "2024-06-01 00:00:00"}}, 130, "修改开始时间和结束时间必须同时存在"},
		{"bad date", jstCall{biz: map[string]any{"modified_begin": "2024-06-01", "modified_end": "2024-06-02"}}, 130, "时间格式错误"},
		{"bad status", jstCall{biz: map[string]any{"so_ids": "1", "status": "Shipped"}}, 130, "status参数错误"},
		{"orders page too big", jstCall{biz: jstPage(jstWindow(jstStart, jstStart), 1, 51)}, 130, "page_size不能超过50"},
		{"shops page too big", jstCall{path: jstsandbox.ShopsPath, biz: map[string]any{"page_size": 101}}, 130, "page_size不能超过100"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			env := f.call(c.call)
			if env.Code != c.code || !strings.HasPrefix(env.Msg, c.msg) || string(env.Data) != "null" {
				t.Fatalf("got %d %q data %s, want %d %q", env.Code, env.Msg, env.Data, c.code, c.msg)
			}
		})
	}
	if s := f.SB.Stats(); s.Rejected != len(cases) || s.Served != 0 {
		t.Errorf("stats = %+v", s)
	}
	// 9 min 59 s off is fine; so is a window of exactly 7 days.
	f.page(jstCall{timestamp: jstStart.Add(599 * time.Second), biz: jstPage(jstWindow(jstStart.Add(-7*24*time.Hour), jstStart), 1, 50)})

	resp, _, err := f.post(context.Background(), "/open/other/query", f.form(jstCall{}))
	if err != nil || resp.StatusCode != http.StatusNotFound {
		t.Fatalf("unknown path: %v %v", resp, err)
	}
}

func TestJSTShops(t *testing.T) {
	f := newJSTFixture(t, jstsandbox.Config{Orders: 5, Shops: 230, Settings: sandbox.Settings{Seed: 5}})
	var all []map[string]any
	for i, want := range []int{100, 100, 30} {
		env := f.call(jstCall{path: jstsandbox.ShopsPath, biz: map[string]any{"page_index": i + 1, "page_size": 100}})
		if env.Code != 0 {
			t.Fatalf("page %d: code %d %s", i+1, env.Code, env.Msg)
		}
		var raw map[string]json.RawMessage
		if err := json.Unmarshal(env.Data, &raw); err != nil {
			t.Fatal(err)
		}
		if _, ok := raw["data_count"]; ok {
			t.Fatal("the shop query counts its rows")
		}
		var d jstPageData
		if err := json.Unmarshal(env.Data, &d); err != nil {
			t.Fatal(err)
		}
		if len(d.Datas) != want || d.HasNext != (i < 2) {
			t.Fatalf("page %d: %d shops, has_next %v", i+1, len(d.Datas), d.HasNext)
		}
		all = append(all, d.Datas...)
	}
	truth := f.SB.TruthShops()
	if !reflect.DeepEqual(all, truth) {
		t.Fatal("the pages differ from TruthShops")
	}
	for i := 1; i < len(all); i++ {
		if jstNum(all[i], "shop_id") <= jstNum(all[i-1], "shop_id") {
			t.Fatal("shops not ordered by shop_id")
		}
	}
	var fields []string
	for k := range all[0] {
		fields = append(fields, k)
	}
	slices.Sort(fields)
	want := []string{"co_id", "created", "group_id", "group_name", "nick", "session_expired", "session_uid",
		"shop_id", "shop_name", "shop_site", "shop_url", "short_name"}
	if !slices.Equal(fields, want) {
		t.Fatalf("shop fields %v, want %v", fields, want)
	}
	// The default page is 100, and "{}" is a valid biz.
	if d := f.page(jstCall{path: jstsandbox.ShopsPath, biz: map[string]any{}}); len(d.Datas) != 100 || !d.HasNext {
		t.Fatalf("biz {}: %d shops", len(d.Datas))
	}
}

// token calls a token endpoint with a signed form.
func (f *jstFixture) token(path string, p map[string]string) jstEnv {
	f.T.Helper()
	cfg := f.SB.Config()
	form := map[string]string{"app_key": cfg.AppKey, "timestamp": timestamp(f.Clock.Now()), "charset": "utf-8"}
	for k, v := range p {
		form[k] = v
	}
	return f.envelope(f.post(context.Background(), path, f.sign(form)))
}

type jstTokenData struct {
	AccessToken  string `json:"access_token"`
	ExpiresIn    int64  `json:"expires_in"`
	RefreshToken string `json:"refresh_token"`
	Scope        string `json:"scope"`
}

func (f *jstFixture) tokenData(env jstEnv) jstTokenData {
	f.T.Helper()
	if env.Code != 0 {
		f.T.Fatalf("token call: code %d %s", env.Code, env.Msg)
	}
	var d jstTokenData
	if err := json.Unmarshal(env.Data, &d); err != nil || d.AccessToken == "" || d.RefreshToken == "" || d.Scope != "all" {
		f.T.Fatalf("token data %s: %v", env.Data, err)
	}
	return d
}

func TestJSTTokens(t *testing.T) {
	f := newJSTFixture(t, jstsandbox.Config{Orders: 5, TokenTTL: 48 * time.Hour, Settings: sandbox.Settings{Seed: 6}})
	cfg := f.SB.Config()

	init := f.tokenData(f.token(jstsandbox.InitTokenPath, map[string]string{"grant_type": "authorization_code", "code": "Ab3dE9"}))
	if init.ExpiresIn != 48*3600 {
		t.Fatalf("expires_in = %d", init.ExpiresIn)
	}
	f.page(jstCall{token: init.AccessToken})
	f.page(jstCall{}) // the start pair still works

	ref := f.tokenData(f.token(jstsandbox.RefreshTokenPath, map[string]string{"grant_type": "refresh_token", "refresh_token": init.RefreshToken, "scope": "all"}))
	if ref.AccessToken == init.AccessToken || ref.RefreshToken == init.RefreshToken {
		t.Fatal("refresh kept the old tokens")
	}
	f.page(jstCall{token: ref.AccessToken})
	if env := f.call(jstCall{token: init.AccessToken}); env.Code != 100 {
		t.Fatalf("the refreshed access_token still works: %d %s", env.Code, env.Msg)
	}
	if env := f.token(jstsandbox.RefreshTokenPath, map[string]string{"grant_type": "refresh_token", "refresh_token": init.RefreshToken, "scope": "all"}); env.Code != 100 {
		t.Fatalf("a used refresh_token works again: %d %s", env.Code, env.Msg)
	}
	for _, tc := range []struct {
		path string
		form map[string]string
		code int
	}{
		{jstsandbox.InitTokenPath, map[string]string{"grant_type": "refresh_token", "code": "Ab3dE9"}, 130},
		{jstsandbox.InitTokenPath, map[string]string{"grant_type": "authorization_code", "code": "abc"}, 130},
		{jstsandbox.RefreshTokenPath, map[string]string{"grant_type": "refresh_token", "refresh_token": ref.RefreshToken}, 130},
		{jstsandbox.InitTokenPath, map[string]string{"grant_type": "authorization_code", "code": "Ab3dE9", "app_key": "x"}, 10},
	} {
		if env := f.token(tc.path, tc.form); env.Code != tc.code {
			t.Errorf("%s %v: code %d %s, want %d", tc.path, tc.form, env.Code, env.Msg, tc.code)
		}
	}

	f.Clock.Advance(48*time.Hour - time.Second)
	f.page(jstCall{token: ref.AccessToken, biz: map[string]any{"so_ids": "x"}})
	f.Clock.Advance(time.Second)
	if env := f.call(jstCall{token: ref.AccessToken, biz: map[string]any{"so_ids": "x"}}); env.Code != 100 {
		t.Fatalf("an access_token past its TTL: %d %s", env.Code, env.Msg)
	}

	toks := f.SB.Tokens()
	if len(toks) != 2 || toks[0].AccessToken != cfg.AccessToken || toks[1].AccessToken != ref.AccessToken {
		t.Fatalf("Tokens() = %+v", toks)
	}
	f.SB.ExpireTokens()
	if env := f.call(jstCall{biz: map[string]any{"so_ids": "x"}}); env.Code != 100 {
		t.Fatalf("after ExpireTokens: %d %s", env.Code, env.Msg)
	}
	// The refresh token outlives its access token.
	ref2 := f.tokenData(f.token(jstsandbox.RefreshTokenPath, map[string]string{"grant_type": "refresh_token", "refresh_token": cfg.RefreshToken, "scope": "all"}))
	f.page(jstCall{token: ref2.AccessToken, biz: map[string]any{"so_ids": "x"}})
	if s := f.SB.Stats(); s.Inits != 1 || s.Refreshes != 2 {
		t.Fatalf("stats = %+v", s)
	}
}

func TestJSTQuotas(t *testing.T) {
	f := newJSTFixture(t, jstsandbox.Config{Orders: 5, PerSecond: 5, PerMinute: 8, Settings: sandbox.Settings{Seed: 7}})
	for range 5 {
		f.page(jstCall{})
	}
	if env := f.call(jstCall{}); env.Code != 199 || env.Msg != "调用频次超过限制!请稍后再试" {
		t.Fatalf("sixth call in the second: %d %q", env.Code, env.Msg)
	}
	f.Clock.Advance(time.Second)
	f.page(jstCall{})
	f.page(jstCall{})
	if env := f.call(jstCall{}); env.Code != 200 || env.Msg != "调用频次超过限制" {
		t.Fatalf("ninth call in the minute: %d %q", env.Code, env.Msg)
	}
	f.Clock.Advance(time.Minute)
	f.page(jstCall{})
	if s := f.SB.Stats(); s.Served != 8 || s.Throttled != 2 || s.Calls != 10 {
		t.Fatalf("stats = %+v", s)
	}
}

func TestJSTThrottleRateAndSetFaults(t *testing.T) {
	f := newJSTFixture(t, jstsandbox.Config{Orders: 10, Settings: sandbox.Settings{Seed: 8, MutationsPerCall: 3, Faults: sandbox.Faults{ThrottleRate: 1}}})
	codes := map[int]int{}
	for range 20 {
		env := f.call(jstCall{biz: jstPage(jstWindow(jstStart.Add(-72*time.Hour), jstStart), 2, 2)})
		if string(env.Data) != "null" {
			t.Fatalf("throttle answer with data: %s", env.Data)
		}
		codes[env.Code]++
	}
	if len(codes) != 2 || codes[199] == 0 || codes[200] == 0 {
		t.Fatalf("throttle codes %v, want both 199 and 200", codes)
	}
	if s := f.SB.Stats(); s.Throttled != 20 || s.Mutations != 0 {
		t.Fatalf("stats = %+v; want 20 throttled and no mutations", s)
	}
	f.SB.SetFaults(sandbox.Faults{})
	f.page(jstCall{})
}

func TestJSTFailRateGivesEveryFailure(t *testing.T) {
	f := newJSTFixture(t, jstsandbox.Config{Orders: 30, Settings: sandbox.Settings{Seed: 9, MutationsPerCall: 3, Faults: sandbox.Faults{FailRate: 1, SlowDelay: time.Millisecond}}})
	cfg := f.SB.Config()
	kinds := map[string]int{}
	refresh := f.sign(map[string]string{"app_key": cfg.AppKey, "timestamp": timestamp(jstStart), "charset": "utf-8",
		"grant_type": "refresh_token", "refresh_token": cfg.RefreshToken, "scope": "all"})
	for i := range 30 {
		var resp *http.Response
		var b []byte
		var err error
		if i%2 == 0 {
			resp, b, err = f.do(jstCall{biz: jstPage(jstWindow(jstStart.Add(-72*time.Hour), jstStart), 2, 5)})
		} else { // token calls fail the same way, and a cut answer has no effect
			resp, b, err = f.post(context.Background(), jstsandbox.RefreshTokenPath, refresh)
		}
		if err != nil {
			t.Fatal(err)
		}
		kinds[vendortest.FailureKind(t, resp, b, `{"code":0`)]++
	}
	if len(kinds) != 3 {
		t.Fatalf("failure kinds seen: %v", kinds)
	}
	if s := f.SB.Stats(); s.Failed != 30 || s.Mutations != 0 || s.Refreshes != 0 {
		t.Fatalf("stats = %+v; want 30 failed, no mutations, no refreshes", s)
	}
	if toks := f.SB.Tokens(); len(toks) != 1 || toks[0].RefreshToken != cfg.RefreshToken {
		t.Fatalf("a failed refresh changed the tokens: %+v", toks)
	}
}

func TestJSTVisibilityLagHidesFreshChanges(t *testing.T) {
	const lag = 10 * time.Minute
	f := newJSTFixture(t, jstsandbox.Config{Orders: 50, Settings: sandbox.Settings{Seed: 12, VisibilityLag: lag}})
	now := jstPage(jstWindow(jstStart, jstStart), 1, 50) // modified within the current second
	var maxTS int64
	for _, o := range f.SB.TruthOrders() {
		maxTS = max(maxTS, jstNum(o, "ts"))
	}

	f.SB.Mutate(1)
	var changed map[string]any
	for _, o := range f.SB.TruthOrders() {
		if o["modified"] == jstStart.Format(time.DateTime) {
			changed = o
		}
	}
	if changed == nil {
		t.Fatal("Mutate(1) changed nothing in TruthOrders")
	}
	if jstNum(changed, "ts") <= maxTS {
		t.Fatalf("ts %d did not grow past %d", jstNum(changed, "ts"), maxTS)
	}
	if got := f.page(jstCall{biz: now}).Datas; len(got) != 0 {
		t.Fatalf("a change showed at once despite the lag: %v", got[0]["o_id"])
	}
	// Until it shows, queries see the old version.
	bySo := map[string]any{"so_ids": []any{changed["so_id"]}}
	if got := f.page(jstCall{biz: bySo}).Datas; len(got) != 1 || got[0]["ts"] == changed["ts"] {
		t.Fatalf("by so_ids before the lag: %v", got)
	}

	f.Clock.Advance(lag)
	got := f.page(jstCall{biz: now}).Datas
	if len(got) != 1 || !reflect.DeepEqual(got[0], changed) {
		t.Fatalf("after the lag the window holds %d orders, want the changed one", len(got))
	}
}

// Shops change rarely: among many changes, a few rename a shop or renew
// its authorisation.
func TestJSTShopsChangeRarely(t *testing.T) {
	f := newJSTFixture(t, jstsandbox.Config{Orders: 50, Shops: 10, Settings: sandbox.Settings{Seed: 14, MutationsPerSecond: 40}})
	before := f.SB.TruthShops()
	f.Clock.Advance(10 * time.Second)
	after := f.SB.TruthShops()
	changed := 0
	for i := range before {
		if !reflect.DeepEqual(before[i], after[i]) {
			changed++
			if before[i]["shop_id"] != after[i]["shop_id"] || before[i]["co_id"] != after[i]["co_id"] {
				t.Fatal("a shop change touched its ids")
			}
		}
	}
	if changed == 0 || changed > 5 {
		t.Fatalf("%d of 10 shops changed over 400 changes", changed)
	}
}

func TestJSTSameSeedSameData(t *testing.T) {
	run := func(seed int64) ([]map[string]any, []map[string]any) {
		clock := sandbox.NewClock(jstStart)
		s := jstsandbox.New(jstsandbox.Config{Orders: 200, Settings: sandbox.Settings{Seed: seed, Now: clock.Now, MutationsPerSecond: 1, CreationsPerSecond: 0.5}})
		clock.Advance(90 * time.Second)
		s.Mutate(3)
		return s.TruthOrders(), s.TruthShops()
	}
	a, as := run(42)
	b, bs := run(42)
	if len(a) != 245 || !reflect.DeepEqual(a, b) || !reflect.DeepEqual(as, bs) {
		t.Fatalf("same seed, different data (%d and %d orders)", len(a), len(b))
	}
	if c, _ := run(43); reflect.DeepEqual(a, c) {
		t.Fatal("different seeds, same data")
	}
}

func TestJSTConfigFillsDefaults(t *testing.T) {
	c := jstsandbox.New(jstsandbox.Config{Orders: 1}).Config()
	if c.AppKey != "ferry-jst-app" || c.AppSecret != "ferry-jst-secret" || c.AccessToken == "" || c.RefreshToken == "" ||
		c.Shops != 30 || c.PerSecond != 5 || c.PerMinute != 100 || c.TokenTTL != 30*24*time.Hour ||
		c.MaxOrdersPageSize != 50 || c.MaxShopsPageSize != 100 || c.MaxWindow != 7*24*time.Hour ||
		c.SlowDelay != 50*time.Millisecond || c.Now == nil {
		t.Fatalf("defaults not filled: %+v", c)
	}
	if n := len(jstsandbox.New(jstsandbox.Config{}).TruthOrders()); n != 500 {
		t.Fatalf("%d orders by default, want 500", n)
	}
}
