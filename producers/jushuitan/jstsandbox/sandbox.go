// Package jstsandbox is ferry's sandbox of 聚水潭 (Jushuitan). It imitates 聚水潭's open platform, new "openapi" protocol, as described
// in shared/vendors.md §1, for two queries and the two token calls of a
// self-built app:
//
//   - POST /open/orders/out/simple/query (销售出库查询) and POST
//     /open/shops/query (店铺查询); POST /openWeb/auth/getInitToken and
//     /openWeb/auth/refreshToken. Any other path answers HTTP 404.
//   - Every call is an application/x-www-form-urlencoded body. Business
//     calls carry app_key, access_token, timestamp (Unix seconds, within
//     10 minutes of the sandbox clock), charset, version=2, biz (a JSON
//     object as text) and sign; token calls carry app_key, timestamp,
//     grant_type, charset, code (getInitToken) or refresh_token and
//     scope=all (refreshToken), and sign.
//   - sign is lowercase hex MD5 of app_secret + sorted k+v of every form
//     field but sign and the empty ones (jstSign, the sandbox's own reading of vendors.md).
//   - Answers are HTTP 200 {"code":0,"msg":"执行成功","data":{…}} or
//     {"code":N,"msg":"…","data":null}: 10 无效签名, 100 for an unknown or
//     expired access_token, 140 for a stale timestamp, 199 over 5 calls in
//     a clock second, 200 over 100 calls in a clock minute.
//   - Orders: page_index from 1, page_size default 30 and at most 50;
//     data holds page_size, page_index, data_count, page_count, has_next
//     and datas. modified_begin/modified_end (yyyy-MM-dd HH:mm:ss, Beijing
//     time, both ends included, to the second) go together and span at
//     most 7 days; a range, so_ids or o_ids is required. status, shop_id,
//     so_ids and o_ids (arrays or comma lists, at most 50) filter too. Rows
//     are ordered by modified, then o_id; ts is a rowversion that grows
//     with every change.
//   - Shops: page_size default and cap 100, ordered by shop_id; data holds
//     page_index, page_size, has_next and datas, no counts.
//   - Tokens: getInitToken issues a new pair, expiring after TokenTTL;
//     refreshToken replaces a pair (the old access and refresh tokens stop
//     working at once). ExpireTokens expires every access token.
//
// What changes, and when, follows only the configured clock (Config.Now)
// and seed: on every call the sandbox first applies the
// clock-driven changes due since the previous call (one in 40 renames a
// shop or renews its authorisation; the rest move orders along), stamped at
// random instants in between. MutationsPerCall changes orders the caller
// has already paged past, and VisibilityLag keeps each order change hidden
// for a while after its stamp.
//
// Stand-ins for Jushuitan (not vendor facts): code 130 for every refused
// parameter (window over 7 days: 时间间隔不能超过七天; page_size over the cap;
// no range; bad dates or statuses; version or charset missing) and its
// texts; code 10 for an unknown app_key; code 100 (with its own text) for an
// unknown refresh_token; data:null on errors; page_index below 1 read as 1;
// refresh revoking the old pair; the refresh token not expiring; how faults
// look; and all the data: ids and their bases, shop sites,
// names, groups, carriers, addresses, amounts, which fields a change
// touches and how statuses move (WaitConfirm → Confirmed, OuterConfirming,
// Cancelled or Delete; OuterConfirming → Confirmed). The legacy gateway,
// start_ts paging and date_type are not imitated.
package jstsandbox

import (
	"cmp"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ferry-data/ferry/internal/sandbox"
)

// Texts of the vendor's answers (vendors.md §1.5; J JstErrorCode).
const (
	jstOKMessage           = "执行成功"
	jstBadSignMessage      = "验证失败！无效签名"
	jstBadTokenMessage     = "验证失败！无效的access_token或access_token已过期"
	jstBadTimeMessage      = "验证失败！无效的timestamp"
	jstPerSecondMessage    = "调用频次超过限制!请稍后再试"
	jstPerMinuteMessage    = "调用频次超过限制"
	jstWindowMessage       = "时间间隔不能超过七天"
	jstMaxTimestampSkew    = 10 * time.Minute
	jstDefaultOrdersPage   = 30
	jstMaxIDs              = 50
	jstShopChangeOneIn     = 40
	jstTokenBytes          = 16
	jstTokenDefaultTTL     = 30 * 24 * time.Hour
	jstDefaultMaxWindow    = 7 * 24 * time.Hour
	jstDefaultPerSecond    = 5
	jstDefaultPerMinute    = 100
	jstFormContentType     = "application/x-www-form-urlencoded"
	jstResponseContentType = "application/json;charset=utf-8"
)

// Config configures a Jushuitan sandbox. The zero value is a usable
// sandbox: 30 shops, 500 orders changed over the last 72 hours, nothing
// changing, the vendor's quotas.
type Config struct {
	// AppKey and AppSecret are the application's credentials. Defaults:
	// "ferry-jst-app", "ferry-jst-secret".
	AppKey, AppSecret string
	// AccessToken and RefreshToken are a pair issued at start, valid for
	// TokenTTL. Defaults: "ferry-jst-token", "ferry-jst-refresh".
	AccessToken, RefreshToken string
	// Settings are what every sandbox is configured with: seed, clock,
	// history, change rates, visibility lag and faults.
	sandbox.Settings
	// Orders is how many orders exist at start (default 500).
	Orders int
	// Shops is how many shops exist (default 30).
	Shops int
	// PerSecond and PerMinute are the quotas per clock second (code 199)
	// and clock minute (code 200); defaults 5 and 100, negative means
	// unlimited. Every call counts, the throttled ones too. With a clock
	// that does not move, a spent quota stays spent.
	PerSecond, PerMinute int
	// TokenTTL is how long an access token lives (default 30 days).
	TokenTTL time.Duration
	// MaxOrdersPageSize and MaxShopsPageSize are the page_size caps
	// (defaults 50 and 100); larger pages are refused with code 130.
	MaxOrdersPageSize, MaxShopsPageSize int
	// MaxWindow is the longest modified_begin..modified_end span accepted
	// (default 7 days).
	MaxWindow time.Duration
}

func (c Config) withDefaults() Config {
	def := func(s *string, v string) {
		if *s == "" {
			*s = v
		}
	}
	def(&c.AppKey, "ferry-jst-app")
	def(&c.AppSecret, "ferry-jst-secret")
	def(&c.AccessToken, "ferry-jst-token")
	def(&c.RefreshToken, "ferry-jst-refresh")
	if c.Orders <= 0 {
		c.Orders = 500
	}
	if c.Shops <= 0 {
		c.Shops = 30
	}
	if c.PerSecond == 0 {
		c.PerSecond = jstDefaultPerSecond
	}
	if c.PerMinute == 0 {
		c.PerMinute = jstDefaultPerMinute
	}
	if c.TokenTTL <= 0 {
		c.TokenTTL = jstTokenDefaultTTL
	}
	if c.MaxOrdersPageSize <= 0 {
		c.MaxOrdersPageSize = jstMaxOrdersPage
	}
	if c.MaxShopsPageSize <= 0 {
		c.MaxShopsPageSize = jstMaxShopsPage
	}
	if c.MaxWindow <= 0 {
		c.MaxWindow = jstDefaultMaxWindow
	}
	c.Settings = c.Settings.WithDefaults()
	return c
}

// Stats counts what a Jushuitan sandbox did. Every call is counted in
// Calls and in exactly one of Served, Throttled, Failed and Rejected.
type Stats struct {
	Calls     int // requests received, token calls included
	Served    int // answered with code 0
	Throttled int // answered with code 199 or 200 (quota or ThrottleRate)
	Failed    int // injected failures (502, 504, truncated body)
	Rejected  int // refused: any other code, or an unknown path
	Inits     int // tokens issued by getInitToken
	Refreshes int // tokens issued by refreshToken
	Mutations int // orders changed and shops renamed, by any cause
	Creations int // orders created after the start
}

// Token is an issued token pair.
type Token struct {
	AccessToken, RefreshToken string
	// Expires is when the access token stops working.
	Expires time.Time
}

// Sandbox is an in-process stand-in for 聚水潭's open platform. It is an
// http.Handler and safe for concurrent use.
type Sandbox struct {
	sandbox.Engine[jstOrder]
	cfg            Config
	store          *jstStore
	tokens         []*Token       // live pairs, oldest first
	second, minute sandbox.Window // calls in the clock second and minute, for the quotas

	inits, refreshes int // tokens issued by getInitToken and refreshToken
}

// New builds a sandbox with cfg's defaults filled in, its shops and
// start orders generated and its start token pair issued.
func New(cfg Config) *Sandbox {
	cfg = cfg.withDefaults()
	s := &Sandbox{cfg: cfg}
	now := s.Start(cfg.Now, cfg.Seed, 0x15e7_05a7, cfg.Faults)
	s.store = newJSTStore(s.Rand, cfg.VisibilityLag)
	s.store.seedShops(cfg.Shops, now)
	s.store.seedOrders(cfg.Orders, cfg.Since, now)
	s.Drive(&s.store.Records, cfg.MutationsPerSecond, cfg.CreationsPerSecond, s.store.create, s.store.modify)
	s.Other = s.changeShop
	s.tokens = []*Token{{AccessToken: cfg.AccessToken, RefreshToken: cfg.RefreshToken, Expires: now.Add(cfg.TokenTTL)}}
	return s
}

// changeShop takes one clock-driven change in jstShopChangeOneIn for a
// shop, and reports whether it did.
func (s *Sandbox) changeShop(at time.Time) bool {
	if s.Rand.IntN(jstShopChangeOneIn) != 0 {
		return false
	}
	s.store.changeShop(sandbox.Pick(s.Rand, s.store.shops), at)
	return true
}

// Config returns the configuration in force, defaults filled in, so callers
// learn the credentials.
func (s *Sandbox) Config() Config {
	c := s.cfg
	c.Faults = s.CurrentFaults()
	return c
}

// MutateAt modifies n distinct random orders, last modified at or before
// at, in one batch (all of them if n is larger), all stamped at: a whole
// second no later than the clock's now, shared by the batch. A batch
// stamped in the past shows late, as one whose transaction committed late.
func (s *Sandbox) MutateAt(at time.Time, n int) {
	s.MutateWhere(at, n, func(o *jstOrder) bool { return !o.at.After(at) }, s.store.modify)
}

// Tokens returns the live token pairs, oldest first, expired ones
// included.
func (s *Sandbox) Tokens() []Token {
	s.Mu.Lock()
	defer s.Mu.Unlock()
	out := make([]Token, len(s.tokens))
	for i, t := range s.tokens {
		out[i] = *t
	}
	return out
}

// ExpireTokens makes every access token expire now; refresh tokens keep
// working.
func (s *Sandbox) ExpireTokens() {
	s.Mu.Lock()
	defer s.Mu.Unlock()
	now := s.cfg.Now()
	for _, t := range s.tokens {
		t.Expires = now
	}
}

// TruthOrders returns every order's latest version, visible to queries or
// not, as the API would render it, sorted by o_id. Values are what
// json.Unmarshal gives for any (float64 numbers and so on). Clock-driven
// changes due by now are applied first.
func (s *Sandbox) TruthOrders() []map[string]any { return s.Truth() }

// TruthShops returns every shop as the API would render it, sorted by
// shop_id. Clock-driven changes due by now are applied first.
func (s *Sandbox) TruthShops() []map[string]any {
	s.Mu.Lock()
	defer s.Mu.Unlock()
	s.Tick(s.Now())
	return sandbox.AsMaps(s.store.shops)
}

// Stats returns the counters so far.
func (s *Sandbox) Stats() Stats {
	s.Mu.Lock()
	defer s.Mu.Unlock()
	c := s.Counted
	return Stats{Calls: c.Calls, Served: c.Served, Throttled: c.Throttled, Failed: c.Failed, Rejected: c.Rejected,
		Inits: s.inits, Refreshes: s.refreshes, Mutations: c.Mutations, Creations: c.Creations}
}

// ServeHTTP answers one call (vendors.md §1.2–1.6).
func (s *Sandbox) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := sandbox.ReadBody(r)
	form := url.Values{}
	if err == nil && strings.HasPrefix(r.Header.Get("Content-Type"), jstFormContentType) {
		form, err = url.ParseQuery(string(body))
	}
	s.handle(r.Method, r.URL.Path, form, err).Write(w, r)
}

// handle decides the answer to one call. A spent quota answers with its
// own code; a throttle by Faults.ThrottleRate with either, even odds.
func (s *Sandbox) handle(method, path string, form url.Values, formErr error) sandbox.Reply {
	code := 0 // the throttle code of the quota the call overran, if any
	return s.Serve(sandbox.Call{
		Quota: func(now time.Time) bool { code = s.overQuota(now); return code != 0 },
		Throttle: func(now time.Time) sandbox.Reply {
			if code == 0 {
				code = sandbox.Pick(s.Rand, []int{jstCodeThrottledSecond, jstCodeThrottledMinute})
			}
			return jstThrottled(now, code)
		},
		Answer: func(now time.Time, live bool) sandbox.Outcome {
			return s.answer(method, path, form, formErr, now, live)
		},
	})
}

// overQuota counts the call against its clock second and minute and
// returns the throttle code of the quota it overran, or 0.
func (s *Sandbox) overQuota(now time.Time) int {
	second := s.second.Count(now, time.Second, s.cfg.PerSecond)
	minute := s.minute.Count(now, time.Minute, s.cfg.PerMinute)
	switch {
	case second:
		return jstCodeThrottledSecond
	case minute:
		return jstCodeThrottledMinute
	}
	return 0
}

// answer validates the call and answers it. Without commit the call has no
// effect: no per-call mutations, no token issued or revoked.
func (s *Sandbox) answer(method, path string, form url.Values, formErr error, now time.Time, commit bool) sandbox.Outcome {
	var data any
	var err error
	switch path {
	case jstOrdersPath, jstShopsPath:
		data, err = s.query(method, path, form, formErr, now, commit)
	case jstInitTokenPath, jstRefreshTokenPath:
		data, err = s.auth(method, path, form, formErr, now, commit)
	default:
		return sandbox.Outcome{Reply: sandbox.Reply{Code: http.StatusNotFound, ContentType: "text/plain; charset=utf-8", Body: []byte("404 page not found\n"), Date: now}, Rejected: true}
	}
	var rej *jstRejection
	if errors.As(err, &rej) {
		return sandbox.Outcome{Reply: jstJSON(now, jstEnvelope{Code: rej.code, Msg: rej.msg}), Rejected: true}
	}
	return sandbox.Outcome{Reply: jstJSON(now, jstEnvelope{Code: jstCodeOK, Msg: jstOKMessage, Data: data})}
}

// jstRejection is a refused call: the vendor's code and message.
type jstRejection struct {
	code int
	msg  string
}

func (r *jstRejection) Error() string { return fmt.Sprintf("code %d: %s", r.code, r.msg) }

func jstReject(code int, format string, args ...any) error {
	return &jstRejection{code: code, msg: fmt.Sprintf(format, args...)}
}

// verify checks what every call carries: the method, the form, app_key,
// timestamp, charset (and version for business calls) and the signature.
func (s *Sandbox) verify(method string, form url.Values, formErr error, now time.Time, business bool) error {
	switch {
	case method != http.MethodPost:
		return jstReject(jstCodeInvalid, "请求方式错误，仅支持POST")
	case formErr != nil:
		return jstReject(jstCodeInvalid, "请求参数解析失败")
	case form.Get("app_key") != s.cfg.AppKey:
		return jstReject(jstCodeBadSign, "验证失败！无效的app_key")
	}
	ts, err := strconv.ParseInt(form.Get("timestamp"), 10, 64)
	if err != nil || now.Sub(time.Unix(ts, 0)).Abs() > jstMaxTimestampSkew {
		return jstReject(jstCodeBadTimestamp, jstBadTimeMessage)
	}
	if form.Get("charset") == "" {
		return jstReject(jstCodeInvalid, "charset不能为空")
	}
	if business && form.Get("version") != "2" {
		return jstReject(jstCodeInvalid, "version参数错误，应为2")
	}
	params := make(map[string]string, len(form))
	for k := range form {
		params[k] = form.Get(k)
	}
	if form.Get("sign") != jstSign(params, s.cfg.AppSecret) {
		return jstReject(jstCodeBadSign, jstBadSignMessage)
	}
	return nil
}

// token returns the live pair whose access token is t, if it has not
// expired.
func (s *Sandbox) token(t string, now time.Time) *Token {
	for _, p := range s.tokens {
		if p.AccessToken == t && now.Before(p.Expires) {
			return p
		}
	}
	return nil
}

// jstTokenData is a token call's data.
type jstTokenData struct {
	AccessToken  string `json:"access_token"`
	ExpiresIn    int64  `json:"expires_in"`
	RefreshToken string `json:"refresh_token"`
	Scope        string `json:"scope"`
}

// auth answers getInitToken and refreshToken.
func (s *Sandbox) auth(method, path string, form url.Values, formErr error, now time.Time, commit bool) (any, error) {
	if err := s.verify(method, form, formErr, now, false); err != nil {
		return nil, err
	}
	old := -1 // the pair a refresh replaces
	if path == jstInitTokenPath {
		if form.Get("grant_type") != "authorization_code" {
			return nil, jstReject(jstCodeInvalid, "grant_type无效，应为authorization_code")
		}
		if len(form.Get("code")) != 6 {
			return nil, jstReject(jstCodeInvalid, "code应为6位随机字符")
		}
	} else {
		if form.Get("grant_type") != "refresh_token" {
			return nil, jstReject(jstCodeInvalid, "grant_type无效，应为refresh_token")
		}
		if form.Get("scope") != "all" {
			return nil, jstReject(jstCodeInvalid, "scope无效，应为all")
		}
		old = slices.IndexFunc(s.tokens, func(p *Token) bool { return p.RefreshToken == form.Get("refresh_token") })
		if form.Get("refresh_token") == "" || old < 0 {
			return nil, jstReject(jstCodeBadToken, "验证失败！无效的refresh_token")
		}
	}
	p := &Token{AccessToken: s.newToken(), RefreshToken: s.newToken(), Expires: now.Add(s.cfg.TokenTTL)}
	if commit {
		if old >= 0 {
			s.tokens = slices.Delete(s.tokens, old, old+1)
			s.refreshes++
		} else {
			s.inits++
		}
		s.tokens = append(s.tokens, p)
	}
	return jstTokenData{AccessToken: p.AccessToken, ExpiresIn: int64(s.cfg.TokenTTL / time.Second), RefreshToken: p.RefreshToken, Scope: "all"}, nil
}

func (s *Sandbox) newToken() string {
	b := make([]byte, jstTokenBytes)
	for i := range b {
		b[i] = byte(s.Rand.UintN(256))
	}
	return hex.EncodeToString(b)
}

// jstQuery is a validated query.
type jstQuery struct {
	pageIndex, pageSize int

	window   bool // modified_begin/modified_end given
	from, to time.Time
	status   string          // "": any
	soIDs    map[string]bool // nil: any
	oIDs     map[int64]bool  // nil: any
	shopID   int64           // 0: any
}

func (q jstQuery) matches(o *jstOrder) bool {
	if q.window && (o.at.Before(q.from) || o.at.After(q.to)) {
		return false
	}
	if q.status != "" && o.Status != q.status {
		return false
	}
	if q.soIDs != nil && !q.soIDs[o.SoID] {
		return false
	}
	if q.oIDs != nil && !q.oIDs[o.OID] {
		return false
	}
	return q.shopID == 0 || o.ShopID == q.shopID
}

// jstOrdersData is the orders query's data.
type jstOrdersData struct {
	PageSize  int         `json:"page_size"`
	PageIndex int         `json:"page_index"`
	DataCount int         `json:"data_count"`
	PageCount int         `json:"page_count"`
	HasNext   bool        `json:"has_next"`
	Datas     []*jstOrder `json:"datas"`
}

// jstShopsData is the shops query's data: no counts.
type jstShopsData struct {
	PageIndex int        `json:"page_index"`
	PageSize  int        `json:"page_size"`
	HasNext   bool       `json:"has_next"`
	Datas     []*jstShop `json:"datas"`
}

// query answers the two business queries.
func (s *Sandbox) query(method, path string, form url.Values, formErr error, now time.Time, commit bool) (any, error) {
	if err := s.verify(method, form, formErr, now, true); err != nil {
		return nil, err
	}
	if s.token(form.Get("access_token"), now) == nil {
		return nil, jstReject(jstCodeBadToken, jstBadTokenMessage)
	}
	var biz map[string]any
	if err := json.Unmarshal([]byte(form.Get("biz")), &biz); err != nil || biz == nil {
		return nil, jstReject(jstCodeInvalid, "biz参数格式错误，应为JSON对象")
	}
	if path == jstShopsPath {
		q, err := jstPaging(biz, s.cfg.MaxShopsPageSize, s.cfg.MaxShopsPageSize)
		if err != nil {
			return nil, err
		}
		shops := s.store.shops
		off := min((q.pageIndex-1)*q.pageSize, len(shops))
		end := min(off+q.pageSize, len(shops))
		return jstShopsData{PageIndex: q.pageIndex, PageSize: q.pageSize, HasNext: end < len(shops), Datas: slices.Clone(shops[off:end])}, nil
	}

	q, err := jstPaging(biz, jstDefaultOrdersPage, s.cfg.MaxOrdersPageSize)
	if err != nil {
		return nil, err
	}
	if err := s.parseFilters(&q, biz); err != nil {
		return nil, err
	}
	if commit && !s.Frozen && s.cfg.MutationsPerCall > 0 {
		s.MutatePassed(s.search(q, now), (q.pageIndex-1)*q.pageSize, s.cfg.MutationsPerCall, now, s.store.modify)
	}
	matches := s.search(q, now)
	n := len(matches)
	pages := (n + q.pageSize - 1) / q.pageSize
	data := jstOrdersData{PageSize: q.pageSize, PageIndex: q.pageIndex, DataCount: n, PageCount: pages, HasNext: q.pageIndex < pages, Datas: []*jstOrder{}}
	if off := (q.pageIndex - 1) * q.pageSize; off < n {
		for _, e := range matches[off:min(off+q.pageSize, n)] {
			data.Datas = append(data.Datas, e.Shown)
		}
	}
	return data, nil
}

// jstPaging reads page_index (from 1; below 1 is read as 1) and page_size.
func jstPaging(biz map[string]any, def, limit int) (jstQuery, error) {
	q := jstQuery{pageIndex: 1, pageSize: def}
	if v, ok := biz["page_index"]; ok && v != nil {
		n, err := strconv.Atoi(sandbox.StringParam(v))
		if err != nil {
			return q, jstReject(jstCodeInvalid, "page_index参数错误")
		}
		q.pageIndex = max(n, 1)
	}
	if v, ok := biz["page_size"]; ok && v != nil {
		n, err := strconv.Atoi(sandbox.StringParam(v))
		if err != nil || n <= 0 {
			return q, jstReject(jstCodeInvalid, "page_size参数错误")
		}
		if n > limit {
			return q, jstReject(jstCodeInvalid, "page_size不能超过%d", limit)
		}
		q.pageSize = n
	}
	return q, nil
}

// parseFilters reads the orders query's filters.
func (s *Sandbox) parseFilters(q *jstQuery, biz map[string]any) error {
	if v := sandbox.StringParam(biz["status"]); v != "" {
		if !slices.Contains(jstStatuses, v) {
			return jstReject(jstCodeInvalid, "status参数错误: %s", v)
		}
		q.status = v
	}
	if v := sandbox.StringParam(biz["shop_id"]); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return jstReject(jstCodeInvalid, "shop_id参数错误: %s", v)
		}
		q.shopID = n
	}
	if ids := sandbox.ListParam(biz["so_ids"]); len(ids) > 0 {
		if len(ids) > jstMaxIDs {
			return jstReject(jstCodeInvalid, "so_ids不能超过%d个", jstMaxIDs)
		}
		q.soIDs = map[string]bool{}
		for _, id := range ids {
			q.soIDs[id] = true
		}
	}
	if ids := sandbox.ListParam(biz["o_ids"]); len(ids) > 0 {
		if len(ids) > jstMaxIDs {
			return jstReject(jstCodeInvalid, "o_ids不能超过%d个", jstMaxIDs)
		}
		q.oIDs = map[int64]bool{}
		for _, id := range ids {
			n, err := strconv.ParseInt(id, 10, 64)
			if err != nil {
				return jstReject(jstCodeInvalid, "o_ids参数错误: %s", id)
			}
			q.oIDs[n] = true
		}
	}

	begin, end := sandbox.StringParam(biz["modified_begin"]), sandbox.StringParam(biz["modified_end"])
	if begin == "" && end == "" {
		if q.soIDs == nil && q.oIDs == nil {
			return jstReject(jstCodeInvalid, "修改时间、线上单号和内部单号不能同时为空")
		}
		return nil
	}
	if begin == "" || end == "" {
		return jstReject(jstCodeInvalid, "修改开始时间和结束时间必须同时存在")
	}
	from, err1 := time.ParseInLocation(time.DateTime, begin, sandbox.CST)
	to, err2 := time.ParseInLocation(time.DateTime, end, sandbox.CST)
	switch {
	case err1 != nil || err2 != nil:
		return jstReject(jstCodeInvalid, "时间格式错误，应为yyyy-MM-dd HH:mm:ss")
	case from.After(to):
		return jstReject(jstCodeInvalid, "开始时间不能大于结束时间")
	case to.Sub(from) > s.cfg.MaxWindow:
		if s.cfg.MaxWindow == jstDefaultMaxWindow {
			return jstReject(jstCodeInvalid, jstWindowMessage)
		}
		return jstReject(jstCodeInvalid, "时间间隔不能超过%s", sandbox.SpanText(s.cfg.MaxWindow))
	}
	q.window, q.from, q.to = true, from, to
	return nil
}

// search returns the visible orders matching q, in the API's order:
// modified ascending, then o_id.
func (s *Sandbox) search(q jstQuery, now time.Time) []*sandbox.Entry[jstOrder] {
	return s.store.Search(now, q.matches, func(a, b *jstOrder) int {
		return cmp.Or(a.at.Compare(b.at), cmp.Compare(a.OID, b.OID))
	})
}

// jstEnvelope is the open platform's response wrapper; data is null on
// errors.
type jstEnvelope struct {
	Code int    `json:"code"`
	Msg  string `json:"msg"`
	Data any    `json:"data"`
}

func jstJSON(now time.Time, env jstEnvelope) sandbox.Reply {
	return sandbox.JSONReply(now, jstResponseContentType, env)
}

// jstThrottled is the throttle answer with code, 199 or 200.
func jstThrottled(now time.Time, code int) sandbox.Reply {
	if code == jstCodeThrottledSecond {
		return jstJSON(now, jstEnvelope{Code: code, Msg: jstPerSecondMessage})
	}
	return jstJSON(now, jstEnvelope{Code: code, Msg: jstPerMinuteMessage})
}
