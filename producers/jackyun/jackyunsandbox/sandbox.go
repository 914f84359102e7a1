// Package jackyunsandbox is ferry's sandbox of 吉客云 (Jackyun). It imitates 吉客云's own open gateway (not the Qimen route) for one
// method, jackyun.tradenotsensitiveinfos.list.get, as described in
// shared/vendors.md §2:
//
//   - POST, application/x-www-form-urlencoded, on any path (the gateway's is
//     /open/openapi/do). Form fields method, appkey, version (v1.0, or the
//     1.0 some callers send), contenttype=json, timestamp (yyyy-MM-dd
//     HH:mm:ss, Beijing time, within 10 minutes of the sandbox clock),
//     bizcontent (the business params as a JSON object) and sign.
//   - sign is lowercase hex MD5 of lower(secret + sorted k+v of every form
//     field but sign, contextid and token + secret), checked by the
//     sandbox's own reading of vendors.md (jackyunSign), not the
//     connector's.
//   - Paging: pageIndex from 0, pageSize default 50 and at most
//     MaxPageSize (1000); hasTotal=1 adds result.data.totalResults to every
//     page that asks (the vendor documents it for the first call).
//   - Filters, all optional: the time pairs startModified/endModified
//     (gmtModified), startConsignTime/endConsignTime (consignTime; a trade not
//     yet shipped has none and never matches), startCreated/endCreated
//     (gmtCreate), both ends included, to the second, each pair whole and no
//     longer than MaxWindow (7 days); tradeNo and sourceTradeNos (comma
//     lists), tradeStatus and tradeType (a value or a comma list), isDelete,
//     and fields (a comma list of the fields to return; goodsDetail.goodsNo
//     keeps one field of each goods line). Other keys are ignored, as a
//     lenient gateway does; startAuditTime/endAuditTime are refused, since
//     the sandbox's trades carry no audit time.
//   - Order: by the time field filtered on (the first of modified,
//     consignTime, created given), then tradeId; with no time filter, by
//     tradeId.
//   - Answers are HTTP 200 {"code":200,"msg":"","subCode":"","result":
//     {"data":{"trades":[…],"totalResults":N},"contextId":"…"}}, or the
//     same wrapper with another code, a message and "result":null.
//     StringData sends result.data as a JSON string holding the object;
//     PascalCase sends every key under result in PascalCase (Data, Trades,
//     TradeId, GoodsDetail…): both are quirks seen in the wild.
//   - Trades carry the fields of §2.4: tradeId (a numeric string), tradeNo
//     (JY + yyyyMMdd + a per-day sequence), tradeStatus, tradeType,
//     shop, warehouse, sourceTradeNo = onlineTradeNo (platform prefix + digits,
//     unique), billDate, consignTime (null until shipped), gmtCreate,
//     gmtModified, isDelete, amounts, memos, logisticName, mainPostid,
//     customerName and goodsDetail lines.
//
// What changes, and when, follows only the configured clock
// (Config.Now) and seed: on every call the sandbox first applies the
// clock-driven modifications and creations due since the previous call,
// stamped at random instants in between. A modification moves a trade one
// step along 1010 → 2000 → 3000 → 4000 → 5000 → 6000 → 9090 (4000 prints the
// waybill, 6000 sets consignTime), edits a memo, or now and then voids an
// unprinted trade (isDelete=1). MutationsPerCall changes trades the caller
// has already paged past, in the order of the time field it filters on, so
// that they move to the end of that order and a forward walk skips a
// record: by gmtModified, a plain modification; by consignTime, a
// re-consignment (consignTime = now); by gmtCreate, a re-import
// (gmtCreate = now). VisibilityLag keeps each change hidden for a while
// after its stamp. Truth gives the latest version of every trade, in
// camelCase whatever the quirks, for comparing with what a consumer
// collected.
//
// Stand-ins ([S] in vendors.md, or not covered there):
//
//   - every code but 200, with its subCode and message: 429 GW.RATE_LIMIT
//     (throttled, the quota PerSecond 10 and PerMinute 600 per appkey on the
//     sandbox clock), 401 GW.SIGN_ERROR 签名错误, 401 GW.APPKEY_INVALID,
//     401 GW.TIMESTAMP_INVALID, 400 GW.METHOD_NOT_FOUND,
//     400 GW.MISSING_PARAMETER, 400 GW.PARAM_INVALID and the business
//     rejections 400 BIZ.PARAM_INVALID and 400 BIZ.TIME_RANGE_EXCEEDED (a
//     pair longer than 7 days), and the order the checks run in;
//   - the 7-day window, the 10-minute timestamp tolerance, totalResults and
//     contextId (scrollId is not served);
//   - every status code but 6000 and 9090 and the path between them,
//     re-consignment and re-import, tradeType values other than 92;
//   - the data: shops, warehouses, goods, amounts, memos, names, id bases;
//   - how faults look: nginx-style 502 and 504 pages, and a 200 whose JSON is
//     cut in half.
package jackyunsandbox

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/ferry-data/ferry/internal/sandbox"
)

const (
	jkyDefaultPageSize = 50
	jkyMaxSkew         = 10 * time.Minute
	jkyContentType     = "application/json;charset=UTF-8"
)

// Jackyun's answer codes: 200 is the vendor's; the rest are stand-ins.
const (
	jkyCodeOK        = 200
	jkyCodeBad       = 400
	jkyCodeAuth      = 401
	jkyCodeThrottled = 429
)

// jkyThrottleMessage is the throttle envelope's message (a stand-in).
const jkyThrottleMessage = "接口调用频率超限,请稍后再试"

// Config configures a Jackyun sandbox. The zero value is a usable
// sandbox: 500 trades changed over the last 72 hours, nothing changing, the
// stand-in quota of 10 calls a second and 600 a minute.
type Config struct {
	// AppKey and Secret are the credentials calls must carry. Defaults:
	// "ferry-jky-app", "ferry-jky-secret".
	AppKey, Secret string
	// Settings are what every sandbox is configured with: seed, clock,
	// history, change rates, visibility lag and faults.
	sandbox.Settings
	// Trades is how many trades exist at start (default 500).
	Trades int
	// PerSecond and PerMinute are the per-appkey quotas on the clock's
	// seconds and minutes (defaults 10 and 600; negative means unlimited).
	// Calls over them get the 429 envelope.
	PerSecond, PerMinute int
	// MaxPageSize is the largest pageSize accepted (default 1000).
	MaxPageSize int
	// MaxWindow is the longest span of any time-filter pair (default 7
	// days).
	MaxWindow time.Duration
	// StringData sends result.data as a JSON string holding the object.
	StringData bool
	// PascalCase sends every key under result in PascalCase.
	PascalCase bool
}

func (c Config) withDefaults() Config {
	if c.AppKey == "" {
		c.AppKey = "ferry-jky-app"
	}
	if c.Secret == "" {
		c.Secret = "ferry-jky-secret"
	}
	if c.Trades <= 0 {
		c.Trades = 500
	}
	if c.PerSecond == 0 {
		c.PerSecond = 10
	}
	if c.PerMinute == 0 {
		c.PerMinute = 600
	}
	if c.MaxPageSize <= 0 {
		c.MaxPageSize = jkyMaxPageSize
	}
	if c.MaxWindow <= 0 {
		c.MaxWindow = jkyMaxWindow
	}
	c.Settings = c.Settings.WithDefaults()
	return c
}

// Stats counts what a Jackyun sandbox did. Every call is counted in
// Calls and in exactly one of Served, Throttled, Failed and Rejected.
type Stats struct {
	Calls     int // requests received
	Served    int // answered with code 200
	Throttled int // answered with the 429 envelope (quota or ThrottleRate)
	Failed    int // injected failures (502, 504, truncated body)
	Rejected  int // other codes: validation and authentication errors
	Mutations int // trades changed, by any cause
	Creations int // trades created after the start
}

// Sandbox is an in-process stand-in for 吉客云's open gateway serving
// jackyun.tradenotsensitiveinfos.list.get. It is an http.Handler and safe
// for concurrent use.
type Sandbox struct {
	sandbox.Engine[jkyTrade]
	cfg            Config
	store          *jkyStore
	second, minute sandbox.Window // calls in the clock second and minute, for the quotas
}

// New builds a sandbox with cfg's defaults filled in and its start
// trades generated.
func New(cfg Config) *Sandbox {
	cfg = cfg.withDefaults()
	s := &Sandbox{cfg: cfg}
	now := s.Start(cfg.Now, cfg.Seed, 0x1ac_4b7, cfg.Faults)
	s.store = newJkyStore(s.Rand, cfg.VisibilityLag)
	s.store.seed(cfg.Trades, cfg.Since, now)
	s.Drive(&s.store.Records, cfg.MutationsPerSecond, cfg.CreationsPerSecond, s.store.create, s.store.modify)
	return s
}

// Config returns the configuration in force, defaults filled in, so callers
// learn the credentials.
func (s *Sandbox) Config() Config {
	c := s.cfg
	c.Faults = s.CurrentFaults()
	return c
}

// ReconsignAt ships n distinct random shipped trades, last changed at or
// before at, again in one batch (all of them if n is larger): their
// consignTime and gmtModified become at, one second shared by the batch,
// as when a warehouse confirms a wave of parcels at once. at is a whole
// second no later than the clock's now; a batch stamped in the past shows
// late, as one whose transaction committed late.
func (s *Sandbox) ReconsignAt(at time.Time, n int) {
	s.MutateWhere(at, n, func(t *jkyTrade) bool { return !t.consigned.IsZero() && !t.modified.After(at) }, s.store.reconsign)
}

// Stats returns the counters so far.
func (s *Sandbox) Stats() Stats { return Stats(s.Counts()) }

// ServeHTTP answers one call of the gateway (vendors.md §2.2–2.5) on any
// path.
func (s *Sandbox) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := sandbox.ReadBody(r)
	var form url.Values
	if err == nil {
		form, err = url.ParseQuery(string(body))
	}
	if err == nil && r.Method == http.MethodPost && !strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		err = errors.New("not a form")
	}
	s.handle(r.Method, form, err).Write(w, r)
}

// handle decides the answer to one call.
func (s *Sandbox) handle(method string, form url.Values, formErr error) sandbox.Reply {
	return s.Serve(sandbox.Call{
		Quota: func(now time.Time) bool {
			second := s.second.Count(now, time.Second, s.cfg.PerSecond)
			minute := s.minute.Count(now, time.Minute, s.cfg.PerMinute)
			return second || minute
		},
		Throttle: func(now time.Time) sandbox.Reply {
			return jkyReply(now, jkyEnvelope{Code: jkyCodeThrottled, Msg: jkyThrottleMessage, SubCode: jkySubCodeThrottled})
		},
		Answer: func(now time.Time, live bool) sandbox.Outcome { return s.answer(method, form, formErr, now, live) },
	})
}

// answer validates the call and, if it is good, pages the trades; a live
// call first changes trades it has already passed.
func (s *Sandbox) answer(method string, form url.Values, formErr error, now time.Time, live bool) sandbox.Outcome {
	req, err := s.parse(method, form, formErr, now)
	if err != nil {
		var rej *jkyRejection
		if !errors.As(err, &rej) {
			rej = &jkyRejection{code: jkyCodeBad, subCode: "GW.PARAM_INVALID", msg: err.Error()}
		}
		return sandbox.Outcome{Reply: jkyReply(now, jkyEnvelope{Code: rej.code, Msg: rej.msg, SubCode: rej.subCode}), Rejected: true}
	}
	if live && !s.Frozen && s.cfg.MutationsPerCall > 0 {
		s.MutatePassed(s.search(req, now), req.pageIndex*req.pageSize, s.cfg.MutationsPerCall, now, s.store.mover(req.order))
	}
	matches := s.search(req, now)
	trades := []*jkyTrade{}
	if off := req.pageIndex * req.pageSize; off < len(matches) {
		for _, e := range matches[off:min(off+req.pageSize, len(matches))] {
			trades = append(trades, e.Shown)
		}
	}
	return sandbox.Outcome{Reply: jkyReply(now, jkyEnvelope{Code: jkyCodeOK, Result: s.result(req, trades, len(matches))})}
}

// result builds the envelope's result, quirks included.
func (s *Sandbox) result(req jkyRequest, trades []*jkyTrade, total int) any {
	var list any = trades
	if req.fields != nil || s.cfg.PascalCase {
		list = jkyProject(trades, req.fields)
	}
	data := map[string]any{"trades": list}
	if req.hasTotal {
		data["totalResults"] = total
	}
	res := map[string]any{
		"data":      data,
		"contextId": fmt.Sprintf("%016x", uint64(s.Counted.Calls)*0x9e3779b97f4a7c15^uint64(s.cfg.Seed)),
	}
	if s.cfg.PascalCase {
		res = jkyPascal(res).(map[string]any)
	}
	if s.cfg.StringData {
		key := "data"
		if s.cfg.PascalCase {
			key = "Data"
		}
		b, err := json.Marshal(res[key])
		if err != nil {
			panic(fmt.Sprintf("sandbox: marshal data: %v", err)) // plain data: cannot happen
		}
		res[key] = string(b)
	}
	return res
}

// jkyProject renders trades as generic maps, keeping only the listed
// fields when fields is not nil; "goodsDetail.x" keeps field x of each
// goods line.
func jkyProject(trades []*jkyTrade, fields []string) []any {
	all := sandbox.AsMaps(trades)
	out := make([]any, len(all))
	for i, t := range all {
		out[i] = t
	}
	if fields == nil {
		return out
	}
	top, sub := map[string]bool{}, map[string]map[string]bool{}
	for _, f := range fields {
		head, rest, dotted := strings.Cut(f, ".")
		if !dotted {
			top[head] = true
			continue
		}
		if sub[head] == nil {
			sub[head] = map[string]bool{}
		}
		sub[head][rest] = true
	}
	for i, t := range all {
		kept := map[string]any{}
		for k, v := range t {
			switch {
			case top[k]:
				kept[k] = v
			case sub[k] != nil:
				kept[k] = jkyKeep(v, sub[k])
			}
		}
		out[i] = kept
	}
	return out
}

// jkyKeep keeps the listed keys of each object of a list.
func jkyKeep(v any, keys map[string]bool) any {
	xs, ok := v.([]any)
	if !ok {
		return v
	}
	out := make([]any, len(xs))
	for i, x := range xs {
		m, ok := x.(map[string]any)
		if !ok {
			out[i] = x
			continue
		}
		kept := map[string]any{}
		for k := range keys {
			if e, ok := m[k]; ok {
				kept[k] = e
			}
		}
		out[i] = kept
	}
	return out
}

// jkyPascal returns v with the first letter of every key, at any depth, in
// upper case.
func jkyPascal(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			r, n := utf8.DecodeRuneInString(k)
			out[string(unicode.ToUpper(r))+k[n:]] = jkyPascal(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = jkyPascal(e)
		}
		return out
	}
	return v
}

// search returns the visible trades matching req, in the API's order: the
// searched time field ascending, then tradeId.
func (s *Sandbox) search(req jkyRequest, now time.Time) []*sandbox.Entry[jkyTrade] {
	return s.store.Search(now, req.matches, func(a, b *jkyTrade) int {
		at, _ := a.at(req.order)
		bt, _ := b.at(req.order)
		return cmp.Or(at.Compare(bt), cmp.Compare(a.id, b.id))
	})
}

// jkyRange is one time-filter pair, in unix seconds, both ends included.
type jkyRange struct {
	field    jkyField
	from, to int64
}

// jkyRequest is a validated search call.
type jkyRequest struct {
	pageIndex, pageSize int
	hasTotal            bool
	ranges              []jkyRange
	order               jkyField
	statuses, types     map[int]bool    // nil: any
	tradeNos, sourceNos map[string]bool // nil: any
	isDelete            int             // -1: any
	fields              []string        // nil: every field
}

func (req jkyRequest) matches(t *jkyTrade) bool {
	for _, r := range req.ranges {
		at, ok := t.at(r.field)
		if !ok || at.Unix() < r.from || at.Unix() > r.to {
			return false
		}
	}
	switch {
	case req.statuses != nil && !req.statuses[t.TradeStatus],
		req.types != nil && !req.types[t.TradeType],
		req.tradeNos != nil && !req.tradeNos[t.TradeNo],
		req.sourceNos != nil && !req.sourceNos[t.SourceTradeNo],
		req.isDelete >= 0 && t.IsDelete != req.isDelete:
		return false
	}
	return true
}

// jkyRejection is an answer with a code other than 200.
type jkyRejection struct {
	code    int
	subCode string
	msg     string
}

func (r *jkyRejection) Error() string { return r.msg }

func jkyReject(code int, subCode, format string, args ...any) error {
	return &jkyRejection{code: code, subCode: subCode, msg: fmt.Sprintf(format, args...)}
}

func jkyBadParam(format string, args ...any) error {
	return jkyReject(jkyCodeBad, "BIZ.PARAM_INVALID", format, args...)
}

// jkyRequired are the form fields every call must carry.
var jkyRequired = []string{"method", "appkey", "version", "contenttype", "timestamp", "bizcontent", "sign"}

// parse validates a call (transport, system params, signature, paging,
// business params) and returns the search it asks for.
func (s *Sandbox) parse(method string, form url.Values, formErr error, now time.Time) (jkyRequest, error) {
	req := jkyRequest{isDelete: -1}
	if method != http.MethodPost {
		return req, jkyReject(jkyCodeBad, "GW.PARAM_INVALID", "仅支持POST请求")
	}
	if formErr != nil {
		return req, jkyReject(jkyCodeBad, "GW.PARAM_INVALID", "请求体应为application/x-www-form-urlencoded表单")
	}
	for _, k := range jkyRequired {
		if form.Get(k) == "" {
			return req, jkyReject(jkyCodeBad, "GW.MISSING_PARAMETER", "缺少必要参数: %s", k)
		}
	}
	switch {
	case form.Get("appkey") != s.cfg.AppKey:
		return req, jkyReject(jkyCodeAuth, "GW.APPKEY_INVALID", "appkey无效")
	case form.Get("method") != jkyMethod:
		return req, jkyReject(jkyCodeBad, "GW.METHOD_NOT_FOUND", "接口不存在: %s", form.Get("method"))
	case form.Get("version") != jkyVersion && form.Get("version") != "1.0":
		return req, jkyReject(jkyCodeBad, "GW.PARAM_INVALID", "version无效，应为v1.0")
	case form.Get("contenttype") != "json":
		return req, jkyReject(jkyCodeBad, "GW.PARAM_INVALID", "contenttype无效，应为json")
	}
	ts, err := time.ParseInLocation(jkyTimeLayout, form.Get("timestamp"), sandbox.CST)
	if err != nil || now.Sub(ts).Abs() > jkyMaxSkew {
		return req, jkyReject(jkyCodeAuth, "GW.TIMESTAMP_INVALID", "timestamp无效，与服务器时间相差不能超过10分钟")
	}
	params := make(map[string]string, len(form))
	for k := range form {
		params[k] = form.Get(k)
	}
	if form.Get("sign") != jackyunSign(params, s.cfg.Secret) {
		return req, jkyReject(jkyCodeAuth, "GW.SIGN_ERROR", "签名错误")
	}
	var biz map[string]any
	if err := json.Unmarshal([]byte(form.Get("bizcontent")), &biz); err != nil || biz == nil {
		return req, jkyBadParam("bizcontent格式错误，应为JSON对象")
	}
	return req, s.parseBiz(&req, biz)
}

// jkyPairs are the time-filter pairs, in the precedence that picks the
// order of the answer.
var jkyPairs = []struct {
	from, to string
	field    jkyField
}{
	{"startModified", "endModified", jkyByModified},
	{"startConsignTime", "endConsignTime", jkyByConsign},
	{"startCreated", "endCreated", jkyByCreated},
}

// parseBiz reads the business params.
func (s *Sandbox) parseBiz(req *jkyRequest, biz map[string]any) error {
	req.pageSize = jkyDefaultPageSize
	if v := sandbox.StringParam(biz["pageSize"]); v != "" {
		n, err := strconv.Atoi(v)
		switch {
		case err != nil || n <= 0:
			return jkyBadParam("pageSize参数错误: %s", v)
		case n > s.cfg.MaxPageSize:
			return jkyBadParam("pageSize不能超过%d", s.cfg.MaxPageSize)
		}
		req.pageSize = n
	}
	if v := sandbox.StringParam(biz["pageIndex"]); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return jkyBadParam("pageIndex参数错误: %s", v)
		}
		req.pageIndex = n
	}
	switch v := biz["hasTotal"].(type) {
	case bool:
		req.hasTotal = v
	default:
		req.hasTotal = sandbox.StringParam(v) == "1"
	}

	if sandbox.StringParam(biz["startAuditTime"]) != "" || sandbox.StringParam(biz["endAuditTime"]) != "" {
		return jkyBadParam("沙箱不支持按审核时间查询(startAuditTime/endAuditTime)")
	}
	for _, p := range jkyPairs {
		from, to := sandbox.StringParam(biz[p.from]), sandbox.StringParam(biz[p.to])
		if from == "" && to == "" {
			continue
		}
		if from == "" || to == "" {
			return jkyBadParam("%s和%s必须同时传入", p.from, p.to)
		}
		f, err1 := time.ParseInLocation(jkyTimeLayout, from, sandbox.CST)
		t, err2 := time.ParseInLocation(jkyTimeLayout, to, sandbox.CST)
		switch {
		case err1 != nil || err2 != nil:
			return jkyBadParam("%s/%s时间格式错误，应为yyyy-MM-dd HH:mm:ss", p.from, p.to)
		case f.After(t):
			return jkyBadParam("%s不能晚于%s", p.from, p.to)
		case t.Sub(f) > s.cfg.MaxWindow:
			return jkyReject(jkyCodeBad, "BIZ.TIME_RANGE_EXCEEDED", "%s至%s的时间跨度不能超过%s", p.from, p.to, sandbox.SpanText(s.cfg.MaxWindow))
		}
		if req.ranges == nil {
			req.order = p.field
		}
		req.ranges = append(req.ranges, jkyRange{field: p.field, from: f.Unix(), to: t.Unix()})
	}

	var err error
	if req.statuses, err = jkyInts(biz["tradeStatus"], "tradeStatus"); err != nil {
		return err
	}
	if req.types, err = jkyInts(biz["tradeType"], "tradeType"); err != nil {
		return err
	}
	req.tradeNos = jkyStrings(biz["tradeNo"])
	req.sourceNos = jkyStrings(biz["sourceTradeNos"])
	if v := sandbox.StringParam(biz["isDelete"]); v != "" {
		if v != "0" && v != "1" {
			return jkyBadParam("isDelete参数错误: %s", v)
		}
		req.isDelete = int(v[0] - '0')
	}
	req.fields = sandbox.ListParam(biz["fields"])
	return nil
}

// jkyInts reads a number, a comma list or an array of them; nil when
// absent.
func jkyInts(v any, name string) (map[int]bool, error) {
	items := sandbox.ListParam(v)
	if len(items) == 0 {
		return nil, nil
	}
	out := make(map[int]bool, len(items))
	for _, f := range items {
		n, err := strconv.Atoi(f)
		if err != nil {
			return nil, jkyBadParam("%s参数错误: %s", name, f)
		}
		out[n] = true
	}
	return out, nil
}

// jkyStrings reads a comma list or an array; nil when absent.
func jkyStrings(v any) map[string]bool {
	items := sandbox.ListParam(v)
	if len(items) == 0 {
		return nil
	}
	out := make(map[string]bool, len(items))
	for _, f := range items {
		out[f] = true
	}
	return out
}

// jkyEnvelope is the gateway's answer wrapper.
type jkyEnvelope struct {
	Code    int    `json:"code"`
	Msg     string `json:"msg"`
	SubCode string `json:"subCode"`
	Result  any    `json:"result"`
}

func jkyReply(now time.Time, env jkyEnvelope) sandbox.Reply {
	return sandbox.JSONReply(now, jkyContentType, env)
}
