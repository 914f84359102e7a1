package kingdeesandbox_test

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"encoding/base64"
	"encoding/json"
	"maps"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ferry-data/ferry/internal/sandbox"
	"github.com/ferry-data/ferry/internal/sandbox/sandboxtest"
	"github.com/ferry-data/ferry/producers/kingdee/kingdeesandbox"
)

var (
	kdCST   = time.FixedZone("CST", 8*3600)
	kdStart = time.Date(2024, 6, 1, 12, 0, 0, 0, kdCST)
)

// kdFixture is a Kingdee sandbox on a settable clock, served over HTTP,
// with the session a logged-in client holds.
type kdFixture struct {
	*sandboxtest.Fixture[*kingdeesandbox.Sandbox]
	nonce int64

	token, domain string
}

func newKDFixture(t *testing.T, cfg kingdeesandbox.Config) *kdFixture {
	t.Helper()
	return &kdFixture{Fixture: sandboxtest.Serve(t, kdStart, func(now func() time.Time) *kingdeesandbox.Sandbox {
		cfg.Now = now
		return kingdeesandbox.New(cfg)
	}), nonce: 1_000_000_000}
}

// kdCall is one call; the zero value lists page 1 of every customer.
type kdCall struct {
	method, path string            // zero: GET the customer list
	params       map[string]string // the query
	timestamp    time.Time         // zero: the sandbox's now
	nonce        string            // "": a fresh one
	headers      map[string]string // set after signing; "" removes a header
	after        map[string]string // query params changed after signing
	ctx          context.Context   // nil: background
}

// query is the query string sent: names and values encoded once, sorted by
// name (vendors.md §4.2).
func query(params map[string]string) string {
	pairs := make([]string, 0, len(params))
	for _, k := range slices.Sorted(maps.Keys(params)) {
		pairs = append(pairs, kingdeesandbox.Encode(k)+"="+kingdeesandbox.Encode(params[k]))
	}
	return strings.Join(pairs, "&")
}

// do signs and sends c as ferry's connector would (vendors.md §4.2), with
// the fixture's app-token and domain on business calls.
func (f *kdFixture) do(c kdCall) (*http.Response, []byte, error) {
	f.T.Helper()
	cfg := f.SB.Config()
	if c.method == "" {
		c.method = http.MethodGet
	}
	if c.path == "" {
		c.path = kingdeesandbox.CustomerPath
	}
	if c.timestamp.IsZero() {
		c.timestamp = f.Clock.Now()
	}
	if c.nonce == "" {
		f.nonce++
		c.nonce = strconv.FormatInt(f.nonce, 10)
	}
	ts := strconv.FormatInt(c.timestamp.UnixMilli(), 10)
	h := map[string]string{
		kingdeesandbox.HeaderClientID:    cfg.ClientID,
		kingdeesandbox.HeaderAuthVersion: kingdeesandbox.AuthVersion,
		kingdeesandbox.HeaderTimestamp:   ts,
		kingdeesandbox.HeaderNonce:       c.nonce,
		kingdeesandbox.HeaderSignHeaders: kingdeesandbox.SignHeaders,
		kingdeesandbox.HeaderSignature:   kingdeesandbox.Sign(cfg.ClientSecret, kingdeesandbox.StringToSign(c.method, c.path, c.params, c.nonce, ts)),
	}
	if strings.HasPrefix(c.path, "/jdy/v2/") { // business calls
		h[kingdeesandbox.HeaderAppToken] = f.token
		h[kingdeesandbox.HeaderRouter] = f.domain
	}
	for k, v := range c.headers {
		h[k] = v
	}
	q := map[string]string{}
	for k, v := range c.params {
		q[k] = v
	}
	for k, v := range c.after {
		q[k] = v
	}
	u := f.Srv.URL + c.path
	if s := query(q); s != "" {
		u += "?" + s
	}
	ctx := c.ctx
	if ctx == nil {
		ctx = context.Background()
	}
	req, err := http.NewRequestWithContext(ctx, c.method, u, nil)
	if err != nil {
		f.T.Fatal(err)
	}
	for k, v := range h {
		if v != "" {
			req.Header.Set(k, v)
		}
	}
	return f.Do(req)
}

// kdEnv is either wrapper: errcode/description or step 1's code/msg.
type kdEnv struct {
	Errcode     int             `json:"errcode"`
	Description string          `json:"description"`
	Code        int             `json:"code"`
	Msg         string          `json:"msg"`
	Data        json.RawMessage `json:"data"`
}

type kdList struct {
	Count     any              `json:"count"`
	TotalPage int              `json:"total_page"`
	Page      int              `json:"page"`
	PageSize  int              `json:"page_size"`
	Rows      []map[string]any `json:"rows"`
}

// call makes a call that must get a well-formed HTTP 200 envelope.
func (f *kdFixture) call(c kdCall) kdEnv {
	f.T.Helper()
	resp, b, err := f.do(c)
	if err != nil {
		f.T.Fatalf("call: %v", err)
	}
	if resp.StatusCode != http.StatusOK {
		f.T.Fatalf("HTTP %d: %s", resp.StatusCode, b)
	}
	var env kdEnv
	if err := json.Unmarshal(b, &env); err != nil {
		f.T.Fatalf("decode %s: %v", b, err)
	}
	return env
}

// authorize is step 1; it returns the app.
func (f *kdFixture) authorize() (appKey, appSecret, domain string) {
	f.T.Helper()
	env := f.call(kdCall{method: http.MethodPost, path: kingdeesandbox.AuthorizePath,
		params: map[string]string{"outerInstanceId": f.SB.Config().OuterInstanceID}})
	var apps []struct{ AppKey, AppSecret, Domain string }
	if env.Code != 200 || json.Unmarshal(env.Data, &apps) != nil || len(apps) != 1 {
		f.T.Fatalf("push_app_authorize: %+v %s", env, env.Data)
	}
	return apps[0].AppKey, apps[0].AppSecret, apps[0].Domain
}

// tokenCall is step 2.
func (f *kdFixture) tokenCall(appKey, appSecret string) kdEnv {
	f.T.Helper()
	return f.call(kdCall{path: kingdeesandbox.TokenPath, params: map[string]string{
		"app_key": appKey, "app_signature": kingdeesandbox.AppSignature(appSecret, appKey)}})
}

// login runs steps 1 and 2 and keeps the session.
func (f *kdFixture) login() (appSecret string) {
	f.T.Helper()
	key, secret, domain := f.authorize()
	env := f.tokenCall(key, secret)
	var data map[string]any
	if env.Errcode != 0 || json.Unmarshal(env.Data, &data) != nil {
		f.T.Fatalf("kingdee_auth_token: %+v %s", env, env.Data)
	}
	f.token, _ = data["app-token"].(string)
	f.domain = domain
	if f.token == "" {
		f.T.Fatalf("no app-token in %s", env.Data)
	}
	return secret
}

// list makes a customer-list call that must succeed.
func (f *kdFixture) list(params map[string]string) kdList {
	f.T.Helper()
	env := f.call(kdCall{params: params})
	if env.Errcode != 0 {
		f.T.Fatalf("errcode %d: %s", env.Errcode, env.Description)
	}
	var l kdList
	if err := json.Unmarshal(env.Data, &l); err != nil {
		f.T.Fatalf("decode %s: %v", env.Data, err)
	}
	return l
}

// detail makes a customer-detail call that must succeed.
func (f *kdFixture) detail(id string) map[string]any {
	f.T.Helper()
	env := f.call(kdCall{path: "/jdy/v2/bd/customer_detail", params: map[string]string{"id": id}})
	if env.Errcode != 0 {
		f.T.Fatalf("detail %s: errcode %d: %s", id, env.Errcode, env.Description)
	}
	var c map[string]any
	if err := json.Unmarshal(env.Data, &c); err != nil {
		f.T.Fatalf("decode %s: %v", env.Data, err)
	}
	return c
}

// kdOpen decrypts a sealed field: AES-256-CBC, PKCS#7, the client secret
// as the key, IV 5e8y6w45ju8w9jq8, base64 (as public clients decrypt).
func kdOpen(t *testing.T, secret string, v any) any {
	t.Helper()
	s, _ := v.(string)
	if s == "" {
		return v
	}
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil || len(b)%aes.BlockSize != 0 {
		t.Fatalf("sealed field %q is not base64 AES blocks", s)
	}
	block, _ := aes.NewCipher([]byte(secret))
	cipher.NewCBCDecrypter(block, []byte("5e8y6w45ju8w9jq8")).CryptBlocks(b, b)
	pad := int(b[len(b)-1])
	if pad < 1 || pad > aes.BlockSize {
		t.Fatalf("sealed field %q: bad padding", s)
	}
	return string(b[:len(b)-pad])
}

// kdOpened is a served customer (list row or detail) with its sealed
// fields opened.
func kdOpened(t *testing.T, secret string, served map[string]any) map[string]any {
	t.Helper()
	out := maps.Clone(served)
	for _, k := range []string{"addr", "bank_account", "invoice_phone"} {
		if v, ok := out[k]; ok {
			out[k] = kdOpen(t, secret, v)
		}
	}
	if cs, ok := out["bomentity"].([]any); ok {
		opened := make([]any, len(cs))
		for i, c := range cs {
			m := maps.Clone(c.(map[string]any))
			for _, k := range []string{"mobile", "phone", "email", "contact_address"} {
				m[k] = kdOpen(t, secret, m[k])
			}
			opened[i] = m
		}
		out["bomentity"] = opened
	}
	return out
}

// kdAsServed is a Truth record cut to the keys a served customer has.
func kdAsServed(truth, served map[string]any) map[string]any {
	out := map[string]any{}
	for k := range served {
		out[k] = truth[k]
	}
	return out
}

func kdWindow(from, to time.Time, page, size int) map[string]string {
	p := map[string]string{
		"modify_start_time": strconv.FormatInt(from.UnixMilli(), 10),
		"modify_end_time":   strconv.FormatInt(to.UnixMilli(), 10),
	}
	if page > 0 {
		p["page"] = strconv.Itoa(page)
	}
	if size > 0 {
		p["page_size"] = strconv.Itoa(size)
	}
	return p
}

func kdID(r map[string]any) int64 {
	n, err := strconv.ParseInt(r["id"].(string), 10, 64)
	if err != nil {
		panic(err)
	}
	return n
}

func kdIDs(rs []map[string]any) map[int64]bool {
	out := map[int64]bool{}
	for _, r := range rs {
		out[kdID(r)] = true
	}
	return out
}

// kdMonth is the last 31 days.
func kdMonth(page, size int) map[string]string {
	return kdWindow(kdStart.Add(-31*24*time.Hour), kdStart, page, size)
}

func TestKingdeeAuthorisesAndPages(t *testing.T) {
	f := newKDFixture(t, kingdeesandbox.Config{Customers: 95, Settings: sandbox.Settings{Seed: 1}})
	f.login()

	var all []map[string]any
	for p, want := range []int{40, 40, 15, 0} {
		l := f.list(kdMonth(p+1, 40))
		if l.Count != float64(95) || l.TotalPage != 3 || l.Page != p+1 || l.PageSize != 40 {
			t.Fatalf("page %d: count %v, total_page %d, page %d, page_size %d", p+1, l.Count, l.TotalPage, l.Page, l.PageSize)
		}
		if len(l.Rows) != want {
			t.Fatalf("page %d: %d rows, want %d", p+1, len(l.Rows), want)
		}
		all = append(all, l.Rows...)
	}
	for i := 1; i < len(all); i++ {
		a, b := all[i-1], all[i]
		am, bm := a["modify_time"].(string), b["modify_time"].(string)
		if am > bm || am == bm && kdID(a) >= kdID(b) {
			t.Fatalf("customers %v and %v out of order", a["id"], b["id"])
		}
	}
	truth := f.SB.Truth()
	if got, want := kdIDs(all), kdIDs(truth); len(all) != 95 || !reflect.DeepEqual(got, want) {
		t.Fatalf("walk saw %d customers (%d distinct), truth holds %d", len(all), len(got), len(want))
	}
	for i := 1; i < len(truth); i++ {
		if kdID(truth[i]) <= kdID(truth[i-1]) {
			t.Fatal("Truth not sorted by id")
		}
	}
	byID := map[int64]map[string]any{}
	for _, r := range truth {
		byID[kdID(r)] = r
	}
	secret := f.SB.Config().ClientSecret
	if got, want := kdOpened(t, secret, all[0]), kdAsServed(byID[kdID(all[0])], all[0]); !reflect.DeepEqual(got, want) {
		t.Fatalf("listed customer differs from Truth:\n%v\n%v", got, want)
	}
	if all[0]["bank_account"] == byID[kdID(all[0])]["bank_account"] {
		t.Errorf("bank_account served in clear: vendors.md §4.4 says it is encrypted")
	}
	d := f.detail(all[0]["id"].(string))
	if got, want := kdOpened(t, secret, d), byID[kdID(all[0])]; !reflect.DeepEqual(got, want) {
		t.Fatalf("customer detail differs from Truth:\n%v\n%v", got, want)
	}

	r := all[0]
	if no, _ := r["number"].(string); !strings.HasPrefix(no, "KH") {
		t.Errorf("number = %q", no)
	}
	if m, err := time.ParseInLocation(time.DateTime, r["modify_time"].(string), kdCST); err != nil ||
		m.Before(kdStart.Add(-30*24*time.Hour)) || !m.Before(kdStart) {
		t.Errorf("modify_time = %v", r["modify_time"])
	}
	d = kdOpened(t, secret, d)
	cs, _ := d["bomentity"].([]any)
	if len(cs) == 0 {
		t.Fatalf("no contacts (bomentity) in %v", d)
	}
	if c := cs[0].(map[string]any); c["is_default_linkman"] != true || c["contact_person"] == "" || len(c["mobile"].(string)) != 11 {
		t.Errorf("first contact = %v", c)
	}
	if a, _ := d["addr"].(string); a == "" || d["district_name"] == "" {
		t.Errorf("addr = %q, district_name = %v", a, d["district_name"])
	}
	if cf, ok := r["custom_field"].(map[string]any); !ok || len(cf) != 0 {
		t.Errorf("custom_field = %v", r["custom_field"])
	}
	if r["enable"] != "1" && r["enable"] != "0" || len(r["taxpayer_no"].(string)) != 18 {
		t.Errorf("enable %v, taxpayer_no %v", r["enable"], r["taxpayer_no"])
	}
	found := false
	for _, c := range truth {
		found = found || c["name"] == "闽康益生菌"
		if !strings.HasSuffix(c["name"].(string), "公司") && c["name"] != "闽康益生菌" {
			t.Errorf("name %v", c["name"])
		}
	}
	if !found {
		t.Error("the seed's customer 闽康益生菌 is missing")
	}

	// An empty window counts "0", as a string.
	if l := f.list(kdWindow(kdStart.Add(time.Hour), kdStart.Add(2*time.Hour), 1, 10)); l.Count != "0" || l.TotalPage != 0 || len(l.Rows) != 0 {
		t.Errorf("empty window: %+v", l)
	}
	// Defaults: page 1 of 10, no window.
	if l := f.list(nil); len(l.Rows) != 10 || l.Count != float64(95) || l.TotalPage != 10 {
		t.Errorf("defaults: %d rows, count %v, total_page %d", len(l.Rows), l.Count, l.TotalPage)
	}
	resp, _, err := f.do(kdCall{})
	if err != nil {
		t.Fatal(err)
	}
	if d, err := http.ParseTime(resp.Header.Get("Date")); err != nil || !d.Equal(kdStart) {
		t.Errorf("Date = %q, want the sandbox clock %v", resp.Header.Get("Date"), kdStart)
	}
	if s := f.SB.Stats(); s.Calls != 10 || s.Served != 10 || s.Auths != 1 || s.Tokens != 1 {
		t.Errorf("stats = %+v", s)
	}
}

func TestKingdeeRejections(t *testing.T) {
	f := newKDFixture(t, kingdeesandbox.Config{Customers: 10, Settings: sandbox.Settings{Seed: 2}})
	f.login()
	key, secret, _ := f.authorize()
	cases := []struct {
		name string
		call kdCall
		code int
	}{
		{"bad signature", kdCall{headers: map[string]string{kingdeesandbox.HeaderSignature: "eA=="}}, 1030001003},
		{"unsigned param", kdCall{params: kdMonth(1, 10), after: map[string]string{"page": "2"}}, 1030001003},
		{"wrong secret", kdCall{headers: map[string]string{kingdeesandbox.HeaderSignature: kingdeesandbox.Sign("wrong", "x")}}, 1030001003},
		{"wrong client id", kdCall{headers: map[string]string{kingdeesandbox.HeaderClientID: "other"}}, 1030001001},
		{"stale timestamp", kdCall{timestamp: kdStart.Add(-5*time.Minute - time.Second)}, 1030001002},
		{"auth version", kdCall{headers: map[string]string{kingdeesandbox.HeaderAuthVersion: "1.0"}}, 1030001005},
		{"no sign headers", kdCall{headers: map[string]string{kingdeesandbox.HeaderSignHeaders: ""}}, 1030001005},
		{"no app-token", kdCall{headers: map[string]string{kingdeesandbox.HeaderAppToken: ""}}, 1030002005},
		{"unknown app-token", kdCall{headers: map[string]string{kingdeesandbox.HeaderAppToken: "0123"}}, 1030002006},
		{"wrong router", kdCall{headers: map[string]string{kingdeesandbox.HeaderRouter: "https://other.jdy.com"}}, 1030002007},
		{"stale app signature", kdCall{path: kingdeesandbox.TokenPath, params: map[string]string{"app_key": key, "app_signature": kingdeesandbox.AppSignature("old", key)}}, 1030002006},
		{"page_size 0", kdCall{params: map[string]string{"page_size": "0"}}, 2000001001},
		{"page 0", kdCall{params: map[string]string{"page": "0"}}, 2000001001},
		{"start after end", kdCall{params: kdWindow(kdStart, kdStart.Add(-time.Second), 1, 10)}, 2000001001},
		{"seconds, not ms", kdCall{params: map[string]string{"modify_start_time": "2024-06-01 00:00:00"}}, 2000001001},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if env := f.call(c.call); env.Errcode != c.code || env.Description == "" {
				t.Fatalf("got errcode %d %q, want %d", env.Errcode, env.Description, c.code)
			}
		})
	}
	t.Run("replayed nonce", func(t *testing.T) {
		f.list(nil)
		if env := f.call(kdCall{nonce: strconv.FormatInt(f.nonce, 10)}); env.Errcode != 1030001004 {
			t.Fatalf("replay: errcode %d %q", env.Errcode, env.Description)
		}
	})
	t.Run("unknown outer instance", func(t *testing.T) {
		env := f.call(kdCall{method: http.MethodPost, path: kingdeesandbox.AuthorizePath, params: map[string]string{"outerInstanceId": "x"}})
		if env.Code != 1030003001 || env.Msg == "" || env.Errcode != 0 {
			t.Fatalf("got %+v, want code 1030003001 in the code/msg wrapper", env)
		}
	})
	for _, c := range []struct {
		name string
		call kdCall
		code int
	}{
		{"unknown path", kdCall{path: "/jdy/v2/bd/supplier"}, http.StatusNotFound},
		{"save is not served", kdCall{method: http.MethodPost}, http.StatusMethodNotAllowed},
	} {
		resp, _, err := f.do(c.call)
		if err != nil || resp.StatusCode != c.code {
			t.Errorf("%s: %v %v, want HTTP %d", c.name, resp.StatusCode, err, c.code)
		}
	}
	if s := f.SB.Stats(); s.Rejected != len(cases)+4 {
		t.Errorf("stats = %+v, want %d rejected", s, len(cases)+4)
	}
	// 4m59s off is fine either way, and the app secret from step 1 works.
	f.call(kdCall{timestamp: kdStart.Add(-5*time.Minute + time.Second)})
	f.call(kdCall{timestamp: kdStart.Add(5*time.Minute - time.Second)})
	f.Clock.Advance(time.Minute) // the token quota's next minute
	if env := f.tokenCall(key, secret); env.Errcode != 0 {
		t.Fatalf("token with the current secret: %+v", env)
	}
}

// TestKingdeePageSizeTrap: a page_size over 100 gives 100 rows while
// total_page counts pages of the size asked, so walking total_page pages
// loses rows without an error.
func TestKingdeePageSizeTrap(t *testing.T) {
	f := newKDFixture(t, kingdeesandbox.Config{Customers: 300, Settings: sandbox.Settings{Seed: 3}})
	f.login()
	walk := func(size int) (got map[int64]bool, count any, pages int) {
		got = map[int64]bool{}
		for p := 1; ; p++ {
			l := f.list(kdMonth(p, size))
			if len(l.Rows) > 100 {
				t.Fatalf("page_size %d: a page of %d rows", size, len(l.Rows))
			}
			for id := range kdIDs(l.Rows) {
				got[id] = true
			}
			if p >= l.TotalPage {
				return got, l.Count, l.TotalPage
			}
		}
	}
	got, count, pages := walk(150)
	if count != float64(300) || pages != 2 || len(got) != 200 {
		t.Fatalf("page_size 150: count %v, total_page %d, %d rows seen; want 300, 2, 200", count, pages, len(got))
	}
	if got, _, pages := walk(100); pages != 3 || len(got) != 300 {
		t.Fatalf("page_size 100: total_page %d, %d rows seen", pages, len(got))
	}
}

func TestKingdeeSecretRotates(t *testing.T) {
	f := newKDFixture(t, kingdeesandbox.Config{Customers: 5, SecretTTL: time.Hour, Settings: sandbox.Settings{Seed: 4}})
	oldSecret := f.login()
	key, _, _ := f.authorize()
	f.list(nil)

	f.Clock.Advance(time.Hour)
	if env := f.call(kdCall{}); env.Errcode != 1030002006 || env.Description != "授权密钥校验失败" {
		t.Fatalf("after the rotation: errcode %d %q", env.Errcode, env.Description)
	}
	if env := f.tokenCall(key, oldSecret); env.Errcode != 1030002006 {
		t.Fatalf("token with the old secret: errcode %d", env.Errcode)
	}
	if newSecret := f.login(); newSecret == oldSecret {
		t.Fatal("the app secret did not rotate")
	}
	f.list(nil)
	if s := f.SB.Stats(); s.Rotations != 1 || s.Auths != 3 || s.Tokens != 2 {
		t.Fatalf("stats = %+v", s)
	}
}

func TestKingdeeTokenExpiresAfterADay(t *testing.T) {
	f := newKDFixture(t, kingdeesandbox.Config{Customers: 5, SecretTTL: 1000 * time.Hour, Settings: sandbox.Settings{Seed: 5}})
	f.login()
	f.Clock.Advance(24*time.Hour - time.Second)
	f.list(nil)
	f.Clock.Advance(time.Second)
	if env := f.call(kdCall{}); env.Errcode != 1030002006 {
		t.Fatalf("a day-old token: errcode %d", env.Errcode)
	}
	if s := f.SB.Stats(); s.Rotations != 0 {
		t.Fatalf("stats = %+v", s)
	}
}

func TestKingdeeQuotas(t *testing.T) {
	f := newKDFixture(t, kingdeesandbox.Config{Customers: 5, PerMinute: 3, Settings: sandbox.Settings{Seed: 6}})
	f.login() // the first token call of the minute
	key, secret, _ := f.authorize()
	if env := f.tokenCall(key, secret); env.Errcode != 0 {
		t.Fatalf("second token call: %+v", env)
	}
	if env := f.tokenCall(key, secret); env.Errcode != 429 || env.Description != "请求过于频繁，请稍后再试" {
		t.Fatalf("third token call in a minute: %+v", env)
	}
	for range 3 {
		f.list(nil)
	}
	if env := f.call(kdCall{}); env.Errcode != 429 {
		t.Fatalf("fourth list call in a minute: %+v", env)
	}
	f.Clock.Advance(time.Minute)
	f.list(nil)
	if env := f.tokenCall(key, secret); env.Errcode != 0 {
		t.Fatalf("token call in the next minute: %+v", env)
	}
	if s := f.SB.Stats(); s.Throttled != 2 || s.Tokens != 3 {
		t.Fatalf("stats = %+v", s)
	}
}

// kdWalk pages forward until a short page, as a naive client does.
func (f *kdFixture) kdWalk(from, to time.Time) []map[string]any {
	var all []map[string]any
	for p := 1; ; p++ {
		l := f.list(kdWindow(from, to, p, 10))
		all = append(all, l.Rows...)
		if len(l.Rows) < 10 {
			return all
		}
	}
}

func TestKingdeeVisibilityLagHidesFreshChanges(t *testing.T) {
	const lag = 10 * time.Minute
	f := newKDFixture(t, kingdeesandbox.Config{Customers: 50, Settings: sandbox.Settings{Seed: 8, VisibilityLag: lag}})
	f.login()
	now := kdWindow(kdStart, kdStart, 1, 10) // modified within the current second

	f.SB.Mutate(1)
	var changed map[string]any
	for _, r := range f.SB.Truth() {
		if r["modify_time"] == kdStart.Format(time.DateTime) {
			changed = r
		}
	}
	if changed == nil {
		t.Fatal("Mutate(1) changed nothing in Truth")
	}
	if l := f.list(now); len(l.Rows) != 0 {
		t.Fatalf("a change showed at once despite the lag: %v", l.Rows[0]["id"])
	}
	for _, r := range f.list(map[string]string{"page_size": "100"}).Rows {
		if r["id"] == changed["id"] && r["modify_time"] == changed["modify_time"] {
			t.Fatal("the full list shows the new version before the lag")
		}
	}
	f.Clock.Advance(lag)
	l := f.list(now)
	if len(l.Rows) != 1 || !reflect.DeepEqual(kdOpened(t, f.SB.Config().ClientSecret, l.Rows[0]), kdAsServed(changed, l.Rows[0])) {
		t.Fatalf("after the lag the window holds %d customers, want the changed one", len(l.Rows))
	}
}

func TestKingdeeThrottleRateAndSetFaults(t *testing.T) {
	f := newKDFixture(t, kingdeesandbox.Config{Customers: 10, Settings: sandbox.Settings{Seed: 9, MutationsPerCall: 3}})
	f.login()
	f.SB.SetFaults(sandbox.Faults{ThrottleRate: 1})
	for range 3 {
		if env := f.call(kdCall{params: map[string]string{"page": "2", "page_size": "2"}}); env.Errcode != 429 || env.Description != "请求过于频繁，请稍后再试" {
			t.Fatalf("got %+v, want the throttle envelope", env)
		}
	}
	env := f.call(kdCall{method: http.MethodPost, path: kingdeesandbox.AuthorizePath, params: map[string]string{"outerInstanceId": f.SB.Config().OuterInstanceID}})
	if env.Code != 429 || env.Msg == "" {
		t.Fatalf("step 1 throttled: %+v, want code 429 in the code/msg wrapper", env)
	}
	if s := f.SB.Stats(); s.Throttled != 4 || s.Mutations != 0 {
		t.Fatalf("stats = %+v; want 4 throttled and no mutations", s)
	}
	f.SB.SetFaults(sandbox.Faults{})
	f.list(nil)
}

func TestKingdeeConfigFillsDefaults(t *testing.T) {
	c := kingdeesandbox.New(kingdeesandbox.Config{Customers: 1}).Config()
	if c.ClientID != "ferry-kd-client" || c.ClientSecret != "ferry-kd-secret-0123456789abcdef" || c.OuterInstanceID != "ferry-kd-instance" ||
		c.SecretTTL != 24*time.Hour || c.TokenCallsPerMinute != 2 || c.PerMinute != 500 ||
		c.SlowDelay != 50*time.Millisecond || c.Now == nil || c.Since.IsZero() {
		t.Fatalf("defaults not filled: %+v", c)
	}
	if n := len(kingdeesandbox.New(kingdeesandbox.Config{}).Truth()); n != 300 {
		t.Fatalf("%d customers by default, want 300", n)
	}
}

// kdListExample is vendors.md §4.4's example answer of the customer list.
const kdListExample = `{"errcode":0,"description":"success","data":{"count":2,"total_page":1,"page":1,"page_size":100,
 "rows":[{"id":"1789","number":"KH001","name":"上海某某","enable":"1","group_id":"1","group_name":"普通客户",
   "modify_time":"2024-01-01 12:00:00","create_time":"2023-05-01 09:00:00","invoice_name":"",
   "taxpayer_no":"","bank":"","bank_account":"","province_name":"上海","city_name":"上海市",
   "saler_name":"王五","sale_dept_name":"销售部","remark":"","custom_field":{}}]}}`

// TestKingdeeListFieldsAreTheVendorExample: a list answer holds exactly
// the envelope, data and row fields of vendors.md's example, and no
// contact or address object of ferry's making.
func TestKingdeeListFieldsAreTheVendorExample(t *testing.T) {
	var example struct {
		Data struct {
			Rows []map[string]any `json:"rows"`
		} `json:"data"`
	}
	if err := json.Unmarshal([]byte(kdListExample), &example); err != nil {
		t.Fatal(err)
	}
	f := newKDFixture(t, kingdeesandbox.Config{Customers: 5, Settings: sandbox.Settings{Seed: 3}})
	f.login()
	env := f.call(kdCall{params: kdMonth(1, 10)})
	var data map[string]any
	if err := json.Unmarshal(env.Data, &data); err != nil {
		t.Fatal(err)
	}
	if got := slices.Sorted(maps.Keys(data)); !reflect.DeepEqual(got, []string{"count", "page", "page_size", "rows", "total_page"}) {
		t.Errorf("data keys %v", got)
	}
	want := slices.Sorted(maps.Keys(example.Data.Rows[0]))
	for _, r := range data["rows"].([]any) {
		if got := slices.Sorted(maps.Keys(r.(map[string]any))); !reflect.DeepEqual(got, want) {
			t.Fatalf("row keys %v\nwant the example's %v", got, want)
		}
	}
}
