// Package kingdeesandbox is ferry's sandbox of 金蝶云星辰 (Kingdee). It imitates 金蝶云星辰 V2's open API for customers, as described in
// shared/vendors.md §4, on its four paths:
//
//   - POST /jdyconnector/app_management/push_app_authorize?outerInstanceId=…
//     (step 1) answers {"code":200,"msg":"success","data":[{"appKey",
//     "appSecret","domain","groupName","status":1,…}]}: code/msg, not
//     errcode/description, as the vendor does. The appSecret rotates every
//     Config.SecretTTL (24 h) of sandbox clock.
//   - GET /jdyconnector/app_management/kingdee_auth_token?app_key=…&app_signature=…
//     (step 2), app_signature being base64(hex(HMAC-SHA256(appSecret,
//     appKey))), answers data["app-token"] (and access_token). A token is
//     good for 24 h and only while the secret it was made with is current;
//     a stale secret or token answers errcode 1030002006 授权密钥校验失败.
//     The endpoint takes TokenCallsPerMinute (2) calls a clock minute.
//   - GET /jdy/v2/bd/customer with app-token and X-GW-Router-Addr (the
//     domain of step 1) pages the customers whose modify_time lies in
//     [modify_start_time, modify_end_time] (epoch ms, both ends included,
//     each optional; no window limit), ordered by modify_time then id.
//     page counts from 1; page_size defaults to 10, and sizes over 100 are
//     cut to 100 rows while total_page is still computed on the size asked
//     for, the vendor's silent data-loss trap. The answer is
//     {"errcode":0,"description":"success","data":{"count","total_page",
//     "page","page_size","rows"}}; count is the string "0" when nothing
//     matches, as one vendor answer shows. Rows hold the fields of
//     vendors.md's example row (see kdListRow for the doubt about them).
//   - GET /jdy/v2/bd/customer_detail?id=… (or number=…), with the same
//     token and router, answers one customer's visible version: the list
//     fields and group_number, district_name, addr (the street), invoice_phone
//     and bomentity[], its contacts (id, seq, contact_person, gender, mobile,
//     phone, email, contact_address, is_default_linkman; the first is the
//     default). Field names follow the official detail page's mirror and
//     an SDK generated from the official definitions (vendors.md names
//     only bomentity and addr).
//
// The fields vendors.md flags 敏感数据解密 (addr, bank_account,
// invoice_phone and contact data) are served encrypted, as the vendor
// serves them to apps without the decryption grant: see Kingdee.seal.
//
// Every call must carry the client headers of §4.2: X-Api-ClientID,
// X-Api-Auth-Version 2.0, X-Api-TimeStamp (ms, within 5 minutes of the
// sandbox clock), X-Api-Nonce, X-Api-SignHeaders and X-Api-Signature, checked
// with the sandbox's own reading of vendors.md (kdStringToSign, kdHMAC) over the method, the path
// and the decoded query. Calls over PerMinute (500) business calls a clock
// minute, and Faults.ThrottleRate of all calls, get HTTP 200 with the
// errcode-429 envelope.
//
// Customers look like the vendor's (id, number KH…, Chinese company names,
// enable, group, modify_time and create_time in Beijing time, invoice, tax
// and bank fields, region and street, salesman, remark, an empty
// custom_field, one to three contacts). Changes follow the clock and
// the seed: MutationsPerSecond and CreationsPerSecond are applied
// at each call for the clock time passed, MutationsPerCall modifies
// customers a forward walker has already paged past, and VisibilityLag
// hides each change for a while after its stamp.
//
// Stand-ins (vendors.md tags them [S] or does not cover them): the throttle
// code 429 and its text; every other errcode and text but 1030002006
// (1030001001–1030001005 for the client headers, 1030002005 for a missing
// app-token, 1030002007 for a wrong router address, 1030003001 for an
// unknown outerInstanceId, 2000001001 for bad params); the nonce replay
// check; push_app_authorize having no quota, and kingdee_auth_token's quota
// standing apart from the business calls'; secrets rotating on a fixed
// schedule from the sandbox's start; the token's "expires" field; HTTP 404/405 for unknown paths and
// methods; page and page_size inside data (page_size echoes the size asked
// for); count as a string when 0; the detail call's answer and code
// (2000001002) for an unknown customer; group_number's form; the data
// itself (names, regions, banks, groups, remarks, contacts, how changes
// move); the app key and
// secrets, derived from the seed; the domain https://tf.jdy.com.
package kingdeesandbox

import (
	"bytes"
	"cmp"
	"crypto/aes"
	"crypto/cipher"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/ferry-data/ferry/internal/sandbox"
)

const (
	kdDefaultPageSize = 10
	kdMaxPageSize     = 100
	kdMaxSkew         = 5 * time.Minute
	kdTokenTTL        = 24 * time.Hour
	kdDomain          = "https://tf.jdy.com"
	kdContentType     = "application/json;charset=utf-8"
	kdDetailPath      = "/jdy/v2/bd/customer_detail"
	kdSealIV          = "5e8y6w45ju8w9jq8"
)

// Kingdee's answer codes; kdCodeAuthKey is the vendor's, the others are
// stand-ins.
const (
	kdCodeOK          = 0
	kdCodeThrottle    = 429 // a stand-in: vendors.md finds no throttle errcode
	kdCodeClientID    = 1030001001
	kdCodeTimestamp   = 1030001002
	kdCodeSignature   = 1030001003
	kdCodeNonce       = 1030001004
	kdCodeHeaders     = 1030001005
	kdCodeNoToken     = 1030002005
	kdCodeAuthKey     = 1030002006 // the authorisation key is invalid or expired (vendors.md §4.4)
	kdCodeRouter      = 1030002007
	kdCodeInstance    = 1030003001
	kdCodeParam       = 2000001001
	kdCodeNotFound    = 2000001002
	kdThrottleText    = "请求过于频繁，请稍后再试"
	kdAuthKeyText     = "授权密钥校验失败"
	kdAuthorizeOKCode = 200
)

// Config configures a Kingdee sandbox. The zero value is a usable
// sandbox: 300 customers changed over the last 30 days, nothing changing.
type Config struct {
	// ClientID, ClientSecret and OuterInstanceID are the credentials calls
	// must carry. Defaults: "ferry-kd-client", "ferry-kd-secret",
	// "ferry-kd-instance".
	ClientID, ClientSecret, OuterInstanceID string
	// Settings are what every sandbox is configured with: seed, clock,
	// history, change rates, visibility lag and faults.
	sandbox.Settings
	// Customers is how many customers exist at start (default 300).
	Customers int
	// SecretTTL is how long an appSecret lasts before it rotates, counted
	// from the sandbox's start (default 24h).
	SecretTTL time.Duration
	// TokenCallsPerMinute is kingdee_auth_token's quota per clock minute
	// (default 2; negative means unlimited).
	TokenCallsPerMinute int
	// PerMinute is the business calls' quota per clock minute (default
	// 500; negative means unlimited).
	PerMinute int
}

func (c Config) withDefaults() Config {
	if c.ClientID == "" {
		c.ClientID = "ferry-kd-client"
	}
	if c.ClientSecret == "" {
		c.ClientSecret = "ferry-kd-secret-0123456789abcdef" // 32 characters, as the vendor's are
	}
	if c.OuterInstanceID == "" {
		c.OuterInstanceID = "ferry-kd-instance"
	}
	if c.Customers <= 0 {
		c.Customers = 300
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Since.IsZero() {
		c.Since = c.Now().Add(-30 * 24 * time.Hour)
	}
	if c.SecretTTL <= 0 {
		c.SecretTTL = 24 * time.Hour
	}
	if c.TokenCallsPerMinute == 0 {
		c.TokenCallsPerMinute = 2
	}
	if c.PerMinute == 0 {
		c.PerMinute = 500
	}
	c.Settings = c.Settings.WithDefaults()
	return c
}

// Stats counts what a Kingdee sandbox did. Every call is counted in
// Calls and in exactly one of Served, Throttled, Failed and Rejected.
type Stats struct {
	Calls     int // requests received
	Served    int // answered with success
	Throttled int // answered with the errcode-429 envelope (quota or ThrottleRate)
	Failed    int // injected failures (502, 504, truncated body)
	Rejected  int // refused: bad headers, signature, token, params, path
	Auths     int // push_app_authorize calls served (step 1)
	Tokens    int // app-tokens issued (step 2)
	Rotations int // how many times the appSecret has rotated so far
	Mutations int // customers modified, by any cause
	Creations int // customers created after the start
}

// Sandbox is an in-process stand-in for 金蝶云星辰 V2's open API serving
// the authorisation and the customer list. It is an http.Handler and safe
// for concurrent use.
type Sandbox struct {
	sandbox.Engine[kdCustomer]
	cfg   Config
	store *kdStore

	born   time.Time                      // clock time the secrets rotate from
	appKey string                         // the authorised app's key
	tokens map[string]kdToken             // issued app-tokens
	nonces map[string]time.Time           // nonces seen within the timestamp skew
	quota  [kdEPDetail + 1]sandbox.Window // per-endpoint calls in the clock minute

	auths, issued int // push_app_authorize calls served, app-tokens issued
}

// kdToken is an issued app-token: when, and with which secret generation.
type kdToken struct {
	issued time.Time
	gen    int
}

// kdEndpoint is one of the paths the sandbox serves.
type kdEndpoint int

const (
	kdEPUnknown kdEndpoint = iota
	kdEPAuthorize
	kdEPToken
	kdEPCustomers
	kdEPDetail
)

func kdEndpointOf(path string) (kdEndpoint, string) {
	switch path {
	case kdAuthorizePath:
		return kdEPAuthorize, http.MethodPost
	case kdTokenPath:
		return kdEPToken, http.MethodGet
	case kdCustomerPath:
		return kdEPCustomers, http.MethodGet
	case kdDetailPath:
		return kdEPDetail, http.MethodGet
	}
	return kdEPUnknown, ""
}

// New builds a sandbox with cfg's defaults filled in and its start
// customers generated.
func New(cfg Config) *Sandbox {
	cfg = cfg.withDefaults()
	s := &Sandbox{cfg: cfg, tokens: map[string]kdToken{}, nonces: map[string]time.Time{}}
	now := s.Start(cfg.Now, cfg.Seed, 0x6b_d1d7, cfg.Faults)
	s.born = now
	s.store = newKDStore(s.Rand, cfg.VisibilityLag)
	s.store.seed(cfg.Customers, cfg.Since, now)
	s.Drive(&s.store.Records, cfg.MutationsPerSecond, cfg.CreationsPerSecond, s.store.create, s.store.modify)
	s.appKey = kdDerive(cfg.Seed, "app-key")[:9]
	return s
}

// kdDerive is a deterministic hex string from the seed and a label.
func kdDerive(seed int64, label string) string {
	sum := sha256.Sum256([]byte(fmt.Sprintf("ferry-kingdee/%d/%s", seed, label)))
	return hex.EncodeToString(sum[:])
}

// Config returns the configuration in force, defaults filled in, so callers
// learn the credentials.
func (s *Sandbox) Config() Config {
	c := s.cfg
	c.Faults = s.CurrentFaults()
	return c
}

// MutateAt modifies n distinct random customers, last modified at or before
// at, in one batch (all of them if n is larger), all stamped at: a whole
// second no later than the clock's now, shared by the batch. A batch
// stamped in the past shows late, as one whose transaction committed late.
func (s *Sandbox) MutateAt(at time.Time, n int) {
	s.MutateWhere(at, n, func(c *kdCustomer) bool { return !c.modified.After(at) }, s.store.modify)
}

// Stats returns the counters so far. Rotations is the secret's generation
// at the latest clock time the sandbox acted on (a call, Truth, Mutate or
// Freeze).
func (s *Sandbox) Stats() Stats {
	s.Mu.Lock()
	defer s.Mu.Unlock()
	c := s.Counted
	return Stats{Calls: c.Calls, Served: c.Served, Throttled: c.Throttled, Failed: c.Failed, Rejected: c.Rejected,
		Auths: s.auths, Tokens: s.issued, Rotations: s.gen(s.Last), Mutations: c.Mutations, Creations: c.Creations}
}

// ServeHTTP answers one call (vendors.md §4.1–4.5).
func (s *Sandbox) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	_, _ = io.Copy(io.Discard, io.LimitReader(r.Body, sandbox.MaxRequestBody)) // bodies carry nothing here
	s.handle(r.Method, r.URL.Path, r.URL.RawQuery, r.Header).Write(w, r)
}

// handle decides the answer to one call.
func (s *Sandbox) handle(method, path, rawQuery string, h http.Header) sandbox.Reply {
	ep, want := kdEndpointOf(path)
	return s.Serve(sandbox.Call{
		Refuse: func(now time.Time) (sandbox.Reply, bool) {
			switch {
			case ep == kdEPUnknown:
				return kdReply(now, http.StatusNotFound, kdEPUnknown, 404, "接口不存在: "+path, nil), true
			case method != want:
				return kdReply(now, http.StatusMethodNotAllowed, ep, 405, "请求方式错误，仅支持"+want, nil), true
			}
			return sandbox.Reply{}, false
		},
		Quota: func(now time.Time) bool { return s.overQuota(ep, now) },
		Throttle: func(now time.Time) sandbox.Reply {
			return kdReply(now, http.StatusOK, ep, kdCodeThrottle, kdThrottleText, nil)
		},
		Answer: func(now time.Time, live bool) sandbox.Outcome {
			return s.answer(ep, method, path, rawQuery, h, now, live)
		},
	})
}

// kdRejection is a refused call: the code and text the client gets.
type kdRejection struct {
	code int
	text string
}

func kdReject(code int, format string, args ...any) *kdRejection {
	return &kdRejection{code: code, text: fmt.Sprintf(format, args...)}
}

// answer validates the call and serves it. Only a live call changes
// anything (nonces, tokens, counters, per-call mutations): a truncated
// answer is computed without live.
func (s *Sandbox) answer(ep kdEndpoint, method, path, rawQuery string, h http.Header, now time.Time, live bool) sandbox.Outcome {
	q, err := url.ParseQuery(rawQuery)
	if err != nil {
		return kdRefuse(now, ep, kdReject(kdCodeParam, "参数格式错误"))
	}
	if rej := s.checkClient(method, path, q, h, now, live); rej != nil {
		return kdRefuse(now, ep, rej)
	}
	switch ep {
	case kdEPAuthorize:
		return s.authorize(q, now, live)
	case kdEPToken:
		return s.token(q, now, live)
	}
	if rej := s.checkToken(h, now); rej != nil {
		return kdRefuse(now, ep, rej)
	}
	if ep == kdEPDetail {
		return s.detail(q, now)
	}
	return s.customers(q, now, live)
}

func kdRefuse(now time.Time, ep kdEndpoint, rej *kdRejection) sandbox.Outcome {
	return sandbox.Outcome{Reply: kdReply(now, http.StatusOK, ep, rej.code, rej.text, nil), Rejected: true}
}

// checkClient checks the client headers every call carries (§4.2).
func (s *Sandbox) checkClient(method, path string, q url.Values, h http.Header, now time.Time, live bool) *kdRejection {
	switch {
	case h.Get(kdHdrClientID) != s.cfg.ClientID:
		return kdReject(kdCodeClientID, "X-Api-ClientID无效")
	case h.Get(kdHdrAuthVersion) != kdAuthVersion:
		return kdReject(kdCodeHeaders, "X-Api-Auth-Version无效，应为%s", kdAuthVersion)
	case h.Get(kdHdrSignHeaders) != kdSignHeaders:
		return kdReject(kdCodeHeaders, "X-Api-SignHeaders无效，应为%s", kdSignHeaders)
	}
	ms, err := strconv.ParseInt(h.Get(kdHdrTimestamp), 10, 64)
	if err != nil || now.Sub(time.UnixMilli(ms)).Abs() > kdMaxSkew {
		return kdReject(kdCodeTimestamp, "X-Api-TimeStamp无效或已过期，有效期为5分钟")
	}
	nonce := h.Get(kdHdrNonce)
	if n, err := strconv.ParseInt(nonce, 10, 64); err != nil || n <= 0 {
		return kdReject(kdCodeHeaders, "X-Api-Nonce无效，应为正整数")
	}
	params := make(map[string]string, len(q))
	for k := range q {
		params[k] = q.Get(k)
	}
	sts := kdStringToSign(method, path, params, nonce, h.Get(kdHdrTimestamp))
	if h.Get(kdHdrSignature) != kdHMAC(s.cfg.ClientSecret, sts) {
		return kdReject(kdCodeSignature, "X-Api-Signature签名校验失败")
	}
	for n, at := range s.nonces {
		if now.Sub(at) > kdMaxSkew {
			delete(s.nonces, n)
		}
	}
	if _, seen := s.nonces[nonce]; seen {
		return kdReject(kdCodeNonce, "X-Api-Nonce重复，请勿重放请求")
	}
	if live {
		s.nonces[nonce] = now
	}
	return nil
}

// gen is the appSecret generation in force at now.
func (s *Sandbox) gen(now time.Time) int {
	if now.Before(s.born) {
		return 0
	}
	return int(now.Sub(s.born) / s.cfg.SecretTTL)
}

func (s *Sandbox) appSecret(gen int) string {
	return kdDerive(s.cfg.Seed, fmt.Sprintf("app-secret/%d", gen))[:32]
}

// authorize is step 1.
func (s *Sandbox) authorize(q url.Values, now time.Time, live bool) sandbox.Outcome {
	if q.Get("outerInstanceId") != s.cfg.OuterInstanceID {
		return kdRefuse(now, kdEPAuthorize, kdReject(kdCodeInstance, "outerInstanceId无效或未授权"))
	}
	if live {
		s.auths++
	}
	app := map[string]any{
		"appKey":    s.appKey,
		"appSecret": s.appSecret(s.gen(now)),
		"domain":    kdDomain,
		"groupName": "ferry沙箱账套",
		"accountId": kdDerive(s.cfg.Seed, "account")[:19],
		"status":    1,
	}
	return sandbox.Outcome{Reply: kdReply(now, http.StatusOK, kdEPAuthorize, kdAuthorizeOKCode, "success", []any{app})}
}

// token is step 2.
func (s *Sandbox) token(q url.Values, now time.Time, live bool) sandbox.Outcome {
	gen := s.gen(now)
	if q.Get("app_key") != s.appKey || q.Get("app_signature") != kdHMAC(s.appSecret(gen), s.appKey) {
		return kdRefuse(now, kdEPToken, kdReject(kdCodeAuthKey, kdAuthKeyText))
	}
	tok := fmt.Sprintf("%016x%016x", s.Rand.Uint64(), s.Rand.Uint64())
	if live {
		s.tokens[tok] = kdToken{issued: now, gen: gen}
		s.issued++
	}
	data := map[string]any{
		"access_token": tok,
		"app-token":    tok,
		"expires":      now.Add(kdTokenTTL).UnixMilli(),
	}
	return sandbox.Outcome{Reply: kdReply(now, http.StatusOK, kdEPToken, kdCodeOK, "success", data)}
}

// kdPage is the customer list's data.
type kdPage struct {
	Count     any         `json:"count"`
	TotalPage int         `json:"total_page"`
	Page      int         `json:"page"`
	PageSize  int         `json:"page_size"`
	Rows      []kdListRow `json:"rows"`
}

// kdQuery is a validated customer-list call.
type kdQuery struct {
	from, to int64 // modify_time bounds in ms; -1: open
	page     int   // 1-based
	size     int   // as asked
	rows     int   // rows a page holds: size cut to the maximum
}

func (k kdQuery) matches(c *kdCustomer) bool {
	ms := c.modified.UnixMilli()
	return (k.from < 0 || ms >= k.from) && (k.to < 0 || ms <= k.to)
}

// checkToken checks what a business call carries beyond the client
// headers: a current app-token and the router address.
func (s *Sandbox) checkToken(h http.Header, now time.Time) *kdRejection {
	tok := h.Get(kdHdrAppToken)
	if tok == "" {
		return kdReject(kdCodeNoToken, "缺少app-token")
	}
	t, ok := s.tokens[tok]
	if !ok || t.gen != s.gen(now) || now.Sub(t.issued) >= kdTokenTTL {
		return kdReject(kdCodeAuthKey, kdAuthKeyText)
	}
	if h.Get(kdHdrRouter) != kdDomain {
		return kdReject(kdCodeRouter, "X-GW-Router-Addr无效")
	}
	return nil
}

// detail is the customer detail call: the visible version of the customer
// id (or number) names, sensitive fields encrypted.
func (s *Sandbox) detail(q url.Values, now time.Time) sandbox.Outcome {
	id, number := q.Get("id"), q.Get("number")
	if id == "" && number == "" {
		return kdRefuse(now, kdEPDetail, kdReject(kdCodeParam, "参数错误: id和number不能同时为空"))
	}
	named := func(c *kdCustomer) bool { return (id != "" && c.ID == id) || (id == "" && c.Number == number) }
	if found := s.store.Search(now, named, func(a, b *kdCustomer) int { return 0 }); len(found) > 0 {
		return sandbox.Outcome{Reply: kdReply(now, http.StatusOK, kdEPDetail, kdCodeOK, "success", found[0].Shown.encrypted(s.seal))}
	}
	// Stand-in: the vendor's answer for an unknown customer was not found.
	return kdRefuse(now, kdEPDetail, kdReject(kdCodeNotFound, "客户不存在"))
}

// seal encrypts a sensitive field as the vendor does for apps without
// 敏感数据解密 (vendors.md §4.4): AES-256-CBC with PKCS#7 padding, the
// client secret as the key and the fixed IV kdSealIV, in standard base64;
// an empty value stays empty. Uncertain: the official 隐私数据解密 page was
// not read; three independent public clients (a JavaScript, a TypeScript and
// a Python one) decrypt this way.
func (s *Sandbox) seal(v string) string {
	if v == "" {
		return ""
	}
	block, err := aes.NewCipher([]byte(s.cfg.ClientSecret))
	if err != nil {
		panic("kingdee sandbox: the client secret is not an AES-256 key: " + err.Error())
	}
	pad := aes.BlockSize - len(v)%aes.BlockSize
	buf := append([]byte(v), bytes.Repeat([]byte{byte(pad)}, pad)...)
	cipher.NewCBCEncrypter(block, []byte(kdSealIV)).CryptBlocks(buf, buf)
	return base64.StdEncoding.EncodeToString(buf)
}

// customers is the list call.
func (s *Sandbox) customers(q url.Values, now time.Time, live bool) sandbox.Outcome {
	req, rej := kdParse(q)
	if rej != nil {
		return kdRefuse(now, kdEPCustomers, rej)
	}
	if live && !s.Frozen && s.cfg.MutationsPerCall > 0 {
		s.MutatePassed(s.search(req, now), (req.page-1)*req.rows, s.cfg.MutationsPerCall, now, s.store.modify)
	}
	matches := s.search(req, now)
	data := kdPage{Count: len(matches), Page: req.page, PageSize: req.size, Rows: []kdListRow{}}
	if len(matches) == 0 {
		data.Count = "0"
	}
	data.TotalPage = (len(matches) + req.size - 1) / req.size // on the size asked: the trap
	if off := (req.page - 1) * req.rows; off < len(matches) {
		for _, e := range matches[off:min(off+req.rows, len(matches))] {
			data.Rows = append(data.Rows, e.Shown.listRow(s.seal))
		}
	}
	return sandbox.Outcome{Reply: kdReply(now, http.StatusOK, kdEPCustomers, kdCodeOK, "success", data)}
}

// kdParse reads the list call's params.
func kdParse(q url.Values) (kdQuery, *kdRejection) {
	k := kdQuery{from: -1, to: -1, page: 1, size: kdDefaultPageSize}
	for _, p := range []struct {
		name string
		dst  *int64
	}{{"modify_start_time", &k.from}, {"modify_end_time", &k.to}} {
		if v := q.Get(p.name); v != "" {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n < 0 {
				return k, kdReject(kdCodeParam, "参数错误: %s应为毫秒时间戳", p.name)
			}
			*p.dst = n
		}
	}
	if k.from >= 0 && k.to >= 0 && k.from > k.to {
		return k, kdReject(kdCodeParam, "参数错误: modify_start_time不能大于modify_end_time")
	}
	for _, p := range []struct {
		name string
		dst  *int
	}{{"page", &k.page}, {"page_size", &k.size}} {
		if v := q.Get(p.name); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 {
				return k, kdReject(kdCodeParam, "参数错误: %s应为正整数", p.name)
			}
			*p.dst = n
		}
	}
	k.rows = min(k.size, kdMaxPageSize)
	return k, nil
}

// search returns the visible customers matching req, in the API's order:
// modify_time ascending, then id.
func (s *Sandbox) search(req kdQuery, now time.Time) []*sandbox.Entry[kdCustomer] {
	return s.store.Search(now, req.matches, func(a, b *kdCustomer) int {
		return cmp.Or(a.modified.Compare(b.modified), cmp.Compare(a.id, b.id))
	})
}

// overQuota counts a call against its endpoint's clock minute and reports
// whether the minute's quota is spent. Step 1 has no quota.
func (s *Sandbox) overQuota(ep kdEndpoint, now time.Time) bool {
	limit := s.cfg.PerMinute
	switch ep {
	case kdEPAuthorize:
		return false
	case kdEPToken:
		limit = s.cfg.TokenCallsPerMinute
	}
	return s.quota[ep].Count(now, time.Minute, limit)
}

// kdEnvelope is the business and token calls' wrapper.
type kdEnvelope struct {
	Errcode     int    `json:"errcode"`
	Description string `json:"description"`
	Data        any    `json:"data"`
}

// kdAuthEnvelope is push_app_authorize's wrapper.
type kdAuthEnvelope struct {
	Code int    `json:"code"`
	Msg  string `json:"msg"`
	Data any    `json:"data"`
}

func kdReply(now time.Time, status int, ep kdEndpoint, code int, text string, data any) sandbox.Reply {
	var env any = kdEnvelope{Errcode: code, Description: text, Data: data}
	if ep == kdEPAuthorize {
		env = kdAuthEnvelope{Code: code, Msg: text, Data: data}
	}
	rep := sandbox.JSONReply(now, kdContentType, env)
	rep.Code = status
	return rep
}
