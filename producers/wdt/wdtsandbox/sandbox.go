package wdtsandbox

import (
	"cmp"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/ferry-data/ferry/internal/sandbox"
)

// throttleMessage is WDT's exact throttle text (vendors.md §3.5). Clients tell
// a throttle from a validation error, which shares status 100, by this text.
const throttleMessage = "超过每分钟最大调用频率限制，请稍后重试"

// refundSearch is the one method the WDT sandbox serves.
const refundSearch = "aftersales.refund.Refund.search"

const (
	defaultPageSize  = 40
	maxTimestampSkew = 120 * time.Second
	wdtContentType   = "application/json;charset=utf-8"
)

// Config configures a WDT sandbox. The zero value is a usable sandbox:
// 500 refunds changed over the last 72 hours, and nothing changing.
type Config struct {
	// SID, AppKey and AppSecret are the credentials calls must carry.
	// AppSecret has WDT's "secret:salt" form. Defaults: "ferry-sandbox",
	// "ferry-app", "ferry-secret:ferry-salt".
	SID, AppKey, AppSecret string
	// Settings are what every sandbox is configured with: seed, clock,
	// history, change rates, visibility lag and faults.
	sandbox.Settings
	// Records is how many refunds exist at start (default 500).
	Records int
	// CallsPerMinute is the quota per clock minute (0 means unlimited).
	// Calls over it get the throttle envelope.
	CallsPerMinute int
	// MaxPageSize is the largest page_size accepted (default 200).
	MaxPageSize int
	// MaxWindow is the longest modified_from..modified_to span accepted
	// (default 30 days).
	MaxWindow time.Duration
}

func (c Config) withDefaults() Config {
	if c.SID == "" {
		c.SID = "ferry-sandbox"
	}
	if c.AppKey == "" {
		c.AppKey = "ferry-app"
	}
	if c.AppSecret == "" {
		c.AppSecret = "ferry-secret:ferry-salt"
	}
	if c.Records <= 0 {
		c.Records = 500
	}
	if c.MaxPageSize <= 0 {
		c.MaxPageSize = 200
	}
	if c.MaxWindow <= 0 {
		c.MaxWindow = 30 * 24 * time.Hour
	}
	c.Settings = c.Settings.WithDefaults()
	return c
}

// Stats counts what a WDT sandbox did. Every call is counted in Calls
// and in exactly one of Served, Throttled, Failed and Rejected.
type Stats struct {
	Calls     int // requests received
	Served    int // answered with status 0
	Throttled int // answered with the throttle envelope (quota or ThrottleRate)
	Failed    int // injected failures (502, 504, truncated body)
	Rejected  int // validation errors (status 100 with a reason)
	Mutations int // refunds modified, by any cause
	Creations int // refunds created after the start
}

// Sandbox is an in-process stand-in for 旺店通旗舰版's direct open API serving
// aftersales.refund.Refund.search. It is an http.Handler and safe for
// concurrent use.
type Sandbox struct {
	sandbox.Engine[refund]
	cfg    Config
	secret string
	salt   string
	store  *refundStore
	minute sandbox.Window // calls in the clock minute, for CallsPerMinute
}

// New builds a sandbox with cfg's defaults filled in and its start
// refunds generated.
func New(cfg Config) *Sandbox {
	cfg = cfg.withDefaults()
	secret, salt, _ := strings.Cut(cfg.AppSecret, ":")
	s := &Sandbox{cfg: cfg, secret: secret, salt: salt}
	now := s.Start(cfg.Now, cfg.Seed, 0x5eed_7d7, cfg.Faults)
	s.store = newRefundStore(s.Rand, cfg.VisibilityLag)
	s.store.seed(cfg.Records, cfg.Since, now)
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

// MutateAt modifies n distinct random refunds, last modified at or before
// at, in one batch (all of them if n is larger), all stamped at: a whole
// second no later than the clock's now, shared by the batch. A batch
// stamped in the past shows late, as one whose transaction committed late.
func (s *Sandbox) MutateAt(at time.Time, n int) {
	s.MutateWhere(at, n, func(r *refund) bool { return r.Modified <= at.UnixMilli() }, s.store.modify)
}

// Stats returns the counters so far.
func (s *Sandbox) Stats() Stats { return Stats(s.Counts()) }

// ServeHTTP answers one call of the direct API (vendors.md §3.2–3.5) on any
// path.
func (s *Sandbox) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := sandbox.ReadBody(r)
	s.handle(r.Method, r.URL.Query(), body, err).Write(w, r)
}

// handle decides the answer to one call.
func (s *Sandbox) handle(method string, q url.Values, body []byte, bodyErr error) sandbox.Reply {
	return s.Serve(sandbox.Call{
		Quota: func(now time.Time) bool { return s.minute.Count(now, time.Minute, s.cfg.CallsPerMinute) },
		Throttle: func(now time.Time) sandbox.Reply {
			return sandbox.JSONReply(now, wdtContentType, envelope{Status: 100, Message: throttleMessage})
		},
		Answer: func(now time.Time, live bool) sandbox.Outcome { return s.answer(method, q, body, bodyErr, now, live) },
	})
}

// answer validates the call and, if it is good, pages the refunds; a live
// call first modifies refunds it has already passed.
func (s *Sandbox) answer(method string, q url.Values, body []byte, bodyErr error, now time.Time, live bool) sandbox.Outcome {
	req, err := s.parse(method, q, body, bodyErr, now)
	if err != nil {
		return sandbox.Outcome{Reply: sandbox.JSONReply(now, wdtContentType, envelope{Status: 100, Message: err.Error()}), Rejected: true}
	}
	if live && !s.Frozen && s.cfg.MutationsPerCall > 0 {
		s.MutatePassed(s.search(req, now), req.pageNo*req.pageSize, s.cfg.MutationsPerCall, now, s.store.modify)
	}
	matches := s.search(req, now)
	data := &searchData{Order: []*refund{}}
	if req.calcTotal {
		n := len(matches)
		data.TotalCount = &n
	}
	if off := req.pageNo * req.pageSize; off < len(matches) {
		for _, e := range matches[off:min(off+req.pageSize, len(matches))] {
			data.Order = append(data.Order, e.Shown)
		}
	}
	return sandbox.Outcome{Reply: sandbox.JSONReply(now, wdtContentType, envelope{Data: data})}
}

// search returns the visible refunds matching req, in the API's order:
// modified ascending, then refund_id.
func (s *Sandbox) search(req request, now time.Time) []*sandbox.Entry[refund] {
	return s.store.Search(now, req.matches, func(a, b *refund) int {
		return cmp.Or(cmp.Compare(a.Modified, b.Modified), cmp.Compare(a.RefundID, b.RefundID))
	})
}

// request is a validated search call.
type request struct {
	window    bool // modified_from/modified_to given
	from, to  int64
	statuses  map[int]bool    // nil: any
	refundNos map[string]bool // nil: any
	pageNo    int
	pageSize  int
	calcTotal bool
}

func (req request) matches(r *refund) bool {
	if req.window {
		if sec := r.Modified / 1000; sec < req.from || sec > req.to {
			return false
		}
	}
	if req.statuses != nil && !req.statuses[r.Status] {
		return false
	}
	if req.refundNos != nil && !req.refundNos[r.RefundNo] {
		return false
	}
	return true
}

// rejection is a validation error; its text is the message clients get.
type rejection string

func (r rejection) Error() string { return string(r) }

func reject(format string, args ...any) error {
	return rejection(fmt.Sprintf(format, args...))
}

// parse validates a call in the vendor's order (system params, signature,
// paging, business params) and returns the search it asks for.
func (s *Sandbox) parse(method string, q url.Values, body []byte, bodyErr error, now time.Time) (request, error) {
	var req request
	if method != http.MethodPost {
		return req, reject("请求方式错误，仅支持POST")
	}
	if bodyErr != nil {
		return req, reject("读取请求体失败")
	}
	switch {
	case q.Get("method") != refundSearch:
		return req, reject("接口名称无效: %s", q.Get("method"))
	case q.Get("sid") == "" || q.Get("sid") != s.cfg.SID:
		return req, reject("卖家账号sid无效")
	case q.Get("key") == "" || q.Get("key") != s.cfg.AppKey:
		return req, reject("appkey无效")
	case q.Get("salt") != s.salt:
		return req, reject("salt无效")
	case q.Get("v") != "1.0":
		return req, reject("版本号v无效，应为1.0")
	}
	ts, err := strconv.ParseInt(q.Get("timestamp"), 10, 64)
	if err != nil || now.Sub(wdtEpoch.Add(time.Duration(ts)*time.Second)).Abs() > maxTimestampSkew {
		return req, reject("timestamp无效，与服务器时间相差不能超过120秒")
	}
	params := make(map[string]string, len(q)+1)
	for k := range q {
		params[k] = q.Get(k)
	}
	params["body"] = string(body)
	if q.Get("sign") != wdtSign(params, s.secret) {
		return req, reject("签名错误")
	}

	req.pageSize = defaultPageSize
	if v := q.Get("page_size"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			return req, reject("page_size参数错误")
		}
		if n > s.cfg.MaxPageSize {
			return req, reject("page_size超过最大值%d", s.cfg.MaxPageSize)
		}
		req.pageSize = n
	}
	if v := q.Get("page_no"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return req, reject("page_no参数错误")
		}
		req.pageNo = n
	}
	req.calcTotal = q.Get("calc_total") == "1"

	return req, s.parseParams(&req, body)
}

// parseParams reads the business params, the first positional arg of the
// body's JSON array.
func (s *Sandbox) parseParams(req *request, body []byte) error {
	var args []map[string]any
	if err := json.Unmarshal(body, &args); err != nil || len(args) == 0 || args[0] == nil {
		return reject("参数格式错误，请求体应为JSON数组: [{...}]")
	}
	p := args[0]

	if nos := sandbox.ListParam(p["refund_no"]); len(nos) > 0 {
		req.refundNos = map[string]bool{}
		for _, no := range nos {
			req.refundNos[no] = true
		}
	}
	if v, ok := p["status"]; ok && v != nil && v != "" {
		req.statuses = map[int]bool{}
		for _, f := range sandbox.ListParam(v) {
			n, err := strconv.Atoi(f)
			if err != nil {
				return reject("status参数错误: %s", f)
			}
			req.statuses[n] = true
		}
	}

	from, to := sandbox.StringParam(p["modified_from"]), sandbox.StringParam(p["modified_to"])
	if from == "" && to == "" && req.refundNos != nil {
		return nil // a number filter stands in for the time range
	}
	if from == "" || to == "" {
		return reject("参数中必须包含起止时间")
	}
	f, err1 := time.ParseInLocation(time.DateTime, from, sandbox.CST)
	t, err2 := time.ParseInLocation(time.DateTime, to, sandbox.CST)
	switch {
	case err1 != nil || err2 != nil:
		return reject("时间格式错误，应为yyyy-MM-dd HH:mm:ss")
	case f.After(t):
		return reject("开始时间不能晚于结束时间")
	case t.Sub(f) > s.cfg.MaxWindow:
		return reject("请求时间最大跨度为%s", sandbox.SpanText(s.cfg.MaxWindow))
	}
	req.window, req.from, req.to = true, f.Unix(), t.Unix()
	return nil
}

// envelope is WDT's response wrapper.
type envelope struct {
	Status  int         `json:"status"`
	Message string      `json:"message,omitempty"`
	Data    *searchData `json:"data,omitempty"`
}

type searchData struct {
	TotalCount *int      `json:"total_count,omitempty"`
	Order      []*refund `json:"order"`
}
