package banniusandbox

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ferry-data/ferry/internal/sandbox"
)

// Banniu's answer codes; all but 0 are stand-ins (vendors.md §5.4).
const (
	bnCodeMissing   = 1000 // 缺少必要参数
	bnCodeSign      = 1001 // 签名错误
	bnCodeTimestamp = 1002
	bnCodeAppKey    = 1003
	bnCodeToken     = 1004
	bnCodeMethod    = 1005
	bnCodeParam     = 1006
	bnCodeThrottle  = bnThrottleCode
	bnCodeNoTask    = 1008
	bnCodeVerb      = 1009
)

const (
	bnThrottleMessage = "调用频率超限"
	bnContentType     = "application/json;charset=UTF-8"
)

// bnMethods are the methods served, with their HTTP method.
var bnMethods = map[string]string{
	"task.list":    http.MethodGet,
	"task.getTask": http.MethodGet,
	"column.list":  http.MethodGet,
	"task.update":  http.MethodPost,
}

// Config configures a Banniu sandbox. The zero value is usable: the
// seed's project 77206 with 200 tasks opened over the last 72 hours, a
// quota of 10 calls a second, and nothing changing.
type Config struct {
	// AppKey, AppSecret and AccessToken are the credentials calls must
	// carry. Defaults: "ferry-bn-app", "ferry-bn-secret", "ferry-bn-token".
	AppKey, AppSecret, AccessToken string
	// Settings are what every sandbox is configured with: seed, clock,
	// history, change rates, visibility lag and faults.
	sandbox.Settings
	// Projects are the groups and their custom columns; default the seed's
	// 售后工单 group (DefaultProject).
	Projects []Project
	// Tasks is how many tasks each project holds at start (default 200;
	// negative: none).
	Tasks int
	// PerSecond is the quota of calls per clock second (default 10;
	// negative: unlimited). Calls over it get code 1007.
	PerSecond int
	// MaxPageSize is the largest page_size accepted (default 100).
	MaxPageSize int
	// MaxWindow is the longest star_created..end_created span (default 24h).
	MaxWindow time.Duration
	// MaxSkew is how far timestamp may be from the clock (default 10 min).
	MaxSkew time.Duration
}

func (c Config) withDefaults() Config {
	if c.AppKey == "" {
		c.AppKey = "ferry-bn-app"
	}
	if c.AppSecret == "" {
		c.AppSecret = "ferry-bn-secret"
	}
	if c.AccessToken == "" {
		c.AccessToken = "ferry-bn-token"
	}
	if len(c.Projects) == 0 {
		c.Projects = []Project{bnDefaultProject()}
	}
	if c.Tasks == 0 {
		c.Tasks = 200
	}
	if c.PerSecond == 0 {
		c.PerSecond = 10
	}
	if c.MaxPageSize <= 0 {
		c.MaxPageSize = 100
	}
	if c.MaxWindow <= 0 {
		c.MaxWindow = 24 * time.Hour
	}
	if c.MaxSkew <= 0 {
		c.MaxSkew = 10 * time.Minute
	}
	c.Settings = c.Settings.WithDefaults()
	return c
}

// Stats counts what a Banniu sandbox did. Every call is counted in
// Calls and in exactly one of Served, Throttled, Failed and Rejected.
type Stats struct {
	Calls     int // requests received
	Served    int // answered with code 0
	Throttled int // answered with code 1007 (quota or ThrottleRate)
	Failed    int // injected failures (502, 504, truncated body)
	Rejected  int // refused with another code (or an unknown path)
	Updates   int // task.update calls applied, answered or not
	Mutations int // tasks modified by staff (clock, per call, Mutate)
	Creations int // tasks created after the start (clock or AddTask)
}

// Sandbox is an in-process stand-in for 班牛's miniAPI gateway. It is an
// http.Handler (mount it at /gateway/api/miniAPI; other paths get 404) and
// safe for concurrent use.
//
// # Sandbox (班牛)
//
// It imitates the miniAPI gateway of 班牛's open API, as described in
// shared/vendors.md §5, for the four methods a target writer needs:
// task.list, task.getTask and column.list (GET) and task.update (POST).
//
//   - Every call carries app_key, access_token, timestamp (yyyy-MM-dd
//     HH:mm:ss, Beijing time), v (1 or 1.0), method and sign in the query
//     string. sign is uppercase hex MD5 of app_secret + sorted k+v of every
//     query parameter but sign + app_secret: GET business parameters are
//     signed, a POST's JSON body is not (an app_secret parameter, as one
//     public client sends, is simply signed along).
//   - task.update also needs Authorization: Bearer <access_token> and
//     Content-Type: application/json; its body is {"project_id","app_id",
//     "task_id","contents":{"<column id>":value},"header":null}, ids as
//     strings or numbers. It applies the contents, bumps the task's
//     modified time and answers map.result {"task_id":"…"}. Updating with
//     the same contents again is harmless.
//   - task.list takes project_id, page_num (from 1), page_size, an optional
//     created window star_created/end_created (the vendor's spelling, both
//     ends included), task_status and condition_column, a JSON array of
//     {"id":<column>,"behaviorType":…,"searchType":"1","value":…}; searchType
//     1 等于, 2 不等于, 3 包含 and 4 不包含 are served. Rows are keyed by
//     column id, "-1" the task id as a string and "0" as a number.
//   - Answers are HTTP 200 {"response":{"total_results":null,…,"code":0,
//     "map":{"result":…},"isSuccess":null}}, or {"response":{"code":N,
//     "error_msg":"…","map":null,"isSuccess":false}}. 1001 签名错误 and 1007
//     调用频率超限 (the throttle) are the codes vendors.md proposes.
//
// What changes, and when, follows only the configured clock
// (Config.Now) and seed: staff work on tasks
// (MutationsPerSecond) and open new ones (CreationsPerSecond) at random
// instants between calls; MutationsPerCall modifies tasks a task.list walk
// has already paged past, so that a forward walk skips one; VisibilityLag
// hides each change for a while. Truth gives every task's latest row.
//
// # Sandbox stand-ins
//
// Not vendor facts, only plausible values:
//
//   - every error code and message (vendors.md found none): 1000 缺少必要参数, 1001
//     签名错误, 1002 timestamp, 1003 app_key, 1004 access_token or Bearer,
//     1005 unknown method, 1006 参数错误 (with the reason), 1007 调用频率超限,
//     1008 工单不存在, 1009 wrong HTTP method;
//   - the quota (PerSecond, 10 calls a clock second), page_size ≤ 100 with
//     default 10, the 1-day created window (a code comment in one client),
//     the ±10 min timestamp tolerance;
//   - the order of task.list (modified, then id, ascending), the null paging
//     fields of its envelope (a short page ends a walk), the row keys "1"
//     创建时间, "2" 最后修改时间 and "3" 工单状态, task.getTask's result as
//     one row object, and column.list's fields besides column_id, name and
//     options;
//   - the default project: group 77206 of app 21151 with the seed's columns
//     77213 线上订单号 and 78538 销售出库 (option 78534 已出库), and
//     invented columns, options and Chinese data around them;
//   - failures: a 502 or a slow 504 changes nothing; a truncated 200 is cut
//     after the work was done (a task.update was applied).
//
// task.batchUpdate, task.create and the other gateways are not imitated.
type Sandbox struct {
	sandbox.Engine[Task]
	cfg     Config
	store   *bnStore
	second  sandbox.Window // calls in the clock second, for PerSecond
	updates int            // task.update calls applied
}

// New builds a sandbox with cfg's defaults filled in and its start
// tasks generated.
func New(cfg Config) *Sandbox {
	cfg = cfg.withDefaults()
	s := &Sandbox{cfg: cfg}
	now := s.Start(cfg.Now, cfg.Seed, 0xba_4411, cfg.Faults)
	s.store = newBNStore(s.Rand, cfg.VisibilityLag, cfg.Projects)
	s.store.seed(max(cfg.Tasks, 0), cfg.Since, now)
	s.Drive(&s.store.Records, cfg.MutationsPerSecond, cfg.CreationsPerSecond, s.store.create, s.store.modify)
	return s
}

// Config returns the configuration in force, defaults filled in, so callers
// learn the credentials.
func (s *Sandbox) Config() Config {
	c := s.cfg
	c.Projects = slices.Clone(c.Projects)
	c.Faults = s.CurrentFaults()
	return c
}

// AddTask opens a task (待处理) in a project now, with content keyed by
// column id, and returns its id. Like any change, it shows after the
// visibility lag. It panics if the project does not exist.
func (s *Sandbox) AddTask(projectID int64, content map[string]any) (taskID int64) {
	s.Mu.Lock()
	defer s.Mu.Unlock()
	now := s.cfg.Now()
	s.Tick(now)
	p := s.store.project(projectID)
	if p == nil {
		panic(fmt.Sprintf("sandbox: AddTask: no Banniu project %d", projectID))
	}
	s.store.nextID += 1 + s.Rand.Int64N(3)
	t := &Task{ID: s.store.nextID, ProjectID: p.ID, Status: bnTodo, Created: now, Modified: now, Content: map[string]any{}}
	for k, v := range content {
		t.Content[k] = bnNormalize(v)
	}
	s.store.add(t, now)
	s.Counted.Creations++
	return t.ID
}

// Tasks returns the latest version of a project's tasks, visible to queries
// or not, sorted by id.
func (s *Sandbox) Tasks(projectID int64) []Task {
	s.Mu.Lock()
	defer s.Mu.Unlock()
	s.Tick(s.cfg.Now())
	var out []Task
	for _, e := range s.store.Entries {
		if e.Cur.ProjectID == projectID {
			out = append(out, *e.Cur.clone())
		}
	}
	return out
}

// Truth returns every task's latest version, visible to queries or not, as
// task.list would render its row, sorted by task id. Values are what
// json.Unmarshal gives for any (float64 numbers and so on). Clock-driven
// changes due by now are applied first.
func (s *Sandbox) Truth() []map[string]any {
	s.Mu.Lock()
	defer s.Mu.Unlock()
	s.Tick(s.Now())
	rows := make([]map[string]any, len(s.store.Entries))
	for i, e := range s.store.Entries {
		rows[i] = e.Cur.row()
	}
	return sandbox.AsMaps(rows)
}

// Stats returns the counters so far.
func (s *Sandbox) Stats() Stats {
	s.Mu.Lock()
	defer s.Mu.Unlock()
	c := s.Counted
	return Stats{Calls: c.Calls, Served: c.Served, Throttled: c.Throttled, Failed: c.Failed, Rejected: c.Rejected,
		Updates: s.updates, Mutations: c.Mutations, Creations: c.Creations}
}

// bnRequest is one HTTP request, as far as the gateway reads it.
type bnRequest struct {
	verb, path, auth, contentType string
	query                         url.Values
	body                          []byte
	bodyErr                       error
}

// ServeHTTP answers one call of the miniAPI gateway (vendors.md §5).
func (s *Sandbox) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := sandbox.ReadBody(r)
	s.handle(bnRequest{
		verb: r.Method, path: r.URL.Path, query: r.URL.Query(),
		auth: r.Header.Get("Authorization"), contentType: r.Header.Get("Content-Type"),
		body: body, bodyErr: err,
	}).Write(w, r)
}

// handle decides the answer to one call. A truncated failure cuts the
// answer after the work is done: a task.update is applied.
func (s *Sandbox) handle(req bnRequest) sandbox.Reply {
	return s.Serve(sandbox.Call{
		Refuse: func(now time.Time) (sandbox.Reply, bool) {
			if strings.HasSuffix(req.path, "/miniAPI") {
				return sandbox.Reply{}, false
			}
			return sandbox.Reply{Code: http.StatusNotFound, ContentType: "text/plain", Body: []byte("404 page not found\n"), Date: now}, true
		},
		Quota:    func(now time.Time) bool { return s.second.Count(now, time.Second, s.cfg.PerSecond) },
		Throttle: bnRefusal{bnCodeThrottle, bnThrottleMessage}.reply,
		Answer:   func(now time.Time, live bool) sandbox.Outcome { return s.answer(req, now, live) },
	})
}

// bnRefusal is an answer with a non-zero code; its message is the
// error_msg.
type bnRefusal struct {
	code int
	msg  string
}

func (r bnRefusal) Error() string { return r.msg }

func bnRefuse(code int, format string, args ...any) error {
	return bnRefusal{code: code, msg: fmt.Sprintf(format, args...)}
}

func bnBadParam(format string, args ...any) error {
	return bnRefuse(bnCodeParam, format, args...)
}

func (r bnRefusal) reply(now time.Time) sandbox.Reply {
	return sandbox.JSONReply(now, bnContentType, map[string]any{"response": map[string]any{
		"code": r.code, "error_msg": r.msg, "map": nil, "isSuccess": false,
	}})
}

// bnSuccess is the envelope of a served call: the paging fields are null
// in the vendor's example, and so they are here.
type bnSuccess struct {
	TotalResults *int    `json:"total_results"`
	PageNo       *int    `json:"page_no"`
	PageSize     *int    `json:"page_size"`
	Code         int     `json:"code"`
	HasNext      *bool   `json:"has_next"`
	ErrorMsg     *string `json:"error_msg"`
	Map          struct {
		Result any `json:"result"`
	} `json:"map"`
	IsSuccess *bool `json:"isSuccess"`
}

func bnServed(now time.Time, result any) sandbox.Reply {
	var env bnSuccess
	env.Map.Result = result
	return sandbox.JSONReply(now, bnContentType, map[string]any{"response": env})
}

// answer checks the call and serves it; a live task.list call first
// modifies tasks it has already passed.
func (s *Sandbox) answer(req bnRequest, now time.Time, live bool) sandbox.Outcome {
	result, err := s.dispatch(req, now, live)
	var r bnRefusal
	if errors.As(err, &r) {
		return sandbox.Outcome{Reply: r.reply(now), Rejected: true}
	}
	if err != nil {
		return sandbox.Outcome{Reply: bnRefusal{bnCodeParam, err.Error()}.reply(now), Rejected: true}
	}
	return sandbox.Outcome{Reply: bnServed(now, result)}
}

// dispatch serves a call by its method.
func (s *Sandbox) dispatch(req bnRequest, now time.Time, live bool) (any, error) {
	method, err := s.check(req, now)
	if err != nil {
		return nil, err
	}
	q := req.query
	switch method {
	case "task.update":
		return s.update(req.body, now)
	case "column.list":
		p, err := s.projectParam(q)
		if err != nil {
			return nil, err
		}
		return bnColumns(p), nil
	case "task.getTask":
		p, err := s.projectParam(q)
		if err != nil {
			return nil, err
		}
		id, ok := bnID(q.Get("task_id"))
		if !ok {
			return nil, bnBadParam("task_id无效: %q", q.Get("task_id"))
		}
		if e := s.store.byID[id]; e != nil && e.Cur.ProjectID == p.ID {
			if t := e.Visible(now); t != nil {
				return t.row(), nil
			}
		}
		return nil, bnRefuse(bnCodeNoTask, "工单不存在: %d", id)
	}
	lr, err := s.parseList(q)
	if err != nil {
		return nil, err
	}
	if live && !s.Frozen && s.cfg.MutationsPerCall > 0 {
		s.MutatePassed(s.search(lr, now), (lr.pageNum-1)*lr.pageSize, s.cfg.MutationsPerCall, now, s.store.modify)
	}
	matches := s.search(lr, now)
	rows := []map[string]any{}
	if off := (lr.pageNum - 1) * lr.pageSize; off < len(matches) {
		for _, e := range matches[off:min(off+lr.pageSize, len(matches))] {
			rows = append(rows, e.Shown.row())
		}
	}
	return rows, nil
}

// check verifies the system parameters, the signature and the HTTP
// method, in that order, and returns the method called.
func (s *Sandbox) check(req bnRequest, now time.Time) (string, error) {
	q := req.query
	method := q.Get("method")
	for _, k := range []string{"method", "app_key", "access_token", "timestamp", "v", "sign"} {
		if q.Get(k) == "" {
			return "", bnRefuse(bnCodeMissing, "缺少必要参数: %s", k)
		}
	}
	verb, ok := bnMethods[method]
	switch {
	case !ok:
		return "", bnRefuse(bnCodeMethod, "方法不存在: %s", method)
	case q.Get("app_key") != s.cfg.AppKey:
		return "", bnRefuse(bnCodeAppKey, "app_key无效")
	case q.Get("access_token") != s.cfg.AccessToken:
		return "", bnRefuse(bnCodeToken, "access_token无效或已过期")
	case q.Get("v") != "1" && q.Get("v") != "1.0":
		return "", bnBadParam("版本号v无效: %s", q.Get("v"))
	}
	ts, err := time.ParseInLocation(bnTimeLayout, q.Get("timestamp"), sandbox.CST)
	if err != nil || now.Sub(ts).Abs() > s.cfg.MaxSkew {
		return "", bnRefuse(bnCodeTimestamp, "timestamp无效，与服务器时间相差不能超过%s", bnSpan(s.cfg.MaxSkew))
	}
	params := make(map[string]string, len(q))
	for k := range q {
		params[k] = q.Get(k)
	}
	if q.Get("sign") != banniuSign(params, s.cfg.AppSecret) {
		return "", bnRefuse(bnCodeSign, "签名错误")
	}
	if req.verb != verb {
		return "", bnRefuse(bnCodeVerb, "请求方式错误，%s须使用%s", method, verb)
	}
	if verb == http.MethodPost {
		if req.auth != "Bearer "+s.cfg.AccessToken {
			return "", bnRefuse(bnCodeToken, "Authorization无效，须为Bearer access_token")
		}
		if !strings.HasPrefix(req.contentType, "application/json") {
			return "", bnBadParam("Content-Type须为application/json")
		}
		if req.bodyErr != nil {
			return "", bnBadParam("读取请求体失败")
		}
	}
	return method, nil
}

// bnSpan words a duration as the vendor would ("10分钟", "1天").
func bnSpan(d time.Duration) string {
	switch {
	case d%(24*time.Hour) == 0:
		return fmt.Sprintf("%d天", d/(24*time.Hour))
	case d%time.Hour == 0:
		return fmt.Sprintf("%d小时", d/time.Hour)
	case d%time.Minute == 0:
		return fmt.Sprintf("%d分钟", d/time.Minute)
	}
	return d.String()
}

// bnID reads an id sent as a number or a string.
func bnID(v any) (int64, bool) {
	switch x := v.(type) {
	case string:
		n, err := strconv.ParseInt(strings.TrimSpace(x), 10, 64)
		return n, err == nil && n > 0
	case json.Number:
		n, err := x.Int64()
		return n, err == nil && n > 0
	}
	return 0, false
}

func (s *Sandbox) projectParam(q url.Values) (*Project, error) {
	if q.Get("project_id") == "" {
		return nil, bnBadParam("缺少参数: project_id")
	}
	id, ok := bnID(q.Get("project_id"))
	if !ok {
		return nil, bnBadParam("project_id无效: %q", q.Get("project_id"))
	}
	p := s.store.project(id)
	if p == nil {
		return nil, bnBadParam("群组不存在: %d", id)
	}
	return p, nil
}

// bnColumns is column.list's result: the system columns every row holds,
// then the project's own.
func bnColumns(p *Project) []map[string]any {
	status := []map[string]any{}
	for i, title := range []string{"待处理", "已完成", "处理中", "暂停中", "已关闭"} {
		status = append(status, map[string]any{"id": i, "title": title})
	}
	out := []map[string]any{
		{"column_id": 1, "name": "创建时间", "behavior_type": bnKindDateTime, "is_system": true, "options": nil},
		{"column_id": 2, "name": "最后修改时间", "behavior_type": bnKindDateTime, "is_system": true, "options": nil},
		{"column_id": 3, "name": "工单状态", "behavior_type": bnKindSelect, "is_system": true, "options": status},
	}
	for _, c := range p.Columns {
		var opts []map[string]any
		for _, o := range c.Options {
			opts = append(opts, map[string]any{"id": o.ID, "title": o.Title})
		}
		out = append(out, map[string]any{
			"column_id": c.ID, "name": c.Name, "behavior_type": c.BehaviorType, "is_system": false, "options": opts,
		})
	}
	return out
}

// bnList is a validated task.list call.
type bnList struct {
	project           *Project
	pageNum, pageSize int
	window            bool
	from, to          int64 // created, unix seconds, both included
	status            int   // -1: any
	conds             []bnCond
}

// bnCond is one condition_column term.
type bnCond struct {
	column string
	search int // 1 等于, 2 不等于, 3 包含, 4 不包含
	value  string
}

func (c bnCond) matches(t *Task) bool {
	v := bnText(t.Content[c.column])
	switch c.search {
	case 1:
		return v == c.value
	case 2:
		return v != c.value
	case 3:
		return strings.Contains(v, c.value)
	default:
		return !strings.Contains(v, c.value)
	}
}

func (l *bnList) matches(t *Task) bool {
	if t.ProjectID != l.project.ID {
		return false
	}
	if l.window {
		if sec := t.Created.Unix(); sec < l.from || sec > l.to {
			return false
		}
	}
	if l.status >= 0 && t.Status != l.status {
		return false
	}
	for _, c := range l.conds {
		if !c.matches(t) {
			return false
		}
	}
	return true
}

// parseList validates task.list's business parameters.
func (s *Sandbox) parseList(q url.Values) (*bnList, error) {
	p, err := s.projectParam(q)
	if err != nil {
		return nil, err
	}
	l := &bnList{project: p, pageNum: 1, pageSize: 10, status: -1}
	if v := q.Get("page_num"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return nil, bnBadParam("page_num须为不小于1的整数")
		}
		l.pageNum = n
	}
	if v := q.Get("page_size"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return nil, bnBadParam("page_size须为正整数")
		}
		if n > s.cfg.MaxPageSize {
			return nil, bnBadParam("page_size不能大于%d", s.cfg.MaxPageSize)
		}
		l.pageSize = n
	}
	if v := q.Get("task_status"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < bnTodo || n > bnClosed {
			return nil, bnBadParam("task_status无效: %s", v)
		}
		l.status = n
	}
	from, to := q.Get("star_created"), q.Get("end_created")
	if from != "" || to != "" {
		f, err1 := time.ParseInLocation(bnTimeLayout, from, sandbox.CST)
		t, err2 := time.ParseInLocation(bnTimeLayout, to, sandbox.CST)
		switch {
		case from == "" || to == "":
			return nil, bnBadParam("star_created和end_created须同时传入")
		case err1 != nil || err2 != nil:
			return nil, bnBadParam("时间格式错误，应为yyyy-MM-dd HH:mm:ss")
		case f.After(t):
			return nil, bnBadParam("star_created不能晚于end_created")
		case t.Sub(f) > s.cfg.MaxWindow:
			return nil, bnBadParam("查询区间最大%s", bnSpan(s.cfg.MaxWindow))
		}
		l.window, l.from, l.to = true, f.Unix(), t.Unix()
	}
	if v := q.Get("condition_column"); v != "" {
		conds, err := bnParseConditions(p, v)
		if err != nil {
			return nil, err
		}
		l.conds = conds
	}
	return l, nil
}

func bnParseConditions(p *Project, text string) ([]bnCond, error) {
	dec := json.NewDecoder(strings.NewReader(text))
	dec.UseNumber()
	var raw []struct {
		ID           any `json:"id"`
		BehaviorType any `json:"behaviorType"`
		SearchType   any `json:"searchType"`
		Value        any `json:"value"`
	}
	if err := dec.Decode(&raw); err != nil {
		return nil, bnBadParam("condition_column格式错误，应为JSON数组")
	}
	var out []bnCond
	for _, r := range raw {
		id, ok := bnID(bnText(r.ID))
		if !ok || !slices.ContainsFunc(p.Columns, func(c Column) bool { return c.ID == id }) {
			return nil, bnBadParam("condition_column列不存在: %s", bnText(r.ID))
		}
		if bt, err := strconv.Atoi(bnText(r.BehaviorType)); err != nil || bt < 1 || bt > 12 {
			return nil, bnBadParam("condition_column behaviorType无效: %s", bnText(r.BehaviorType))
		}
		st, err := strconv.Atoi(bnText(r.SearchType))
		if err != nil || st < 1 || st > 4 {
			return nil, bnBadParam("condition_column searchType不支持: %s", bnText(r.SearchType))
		}
		out = append(out, bnCond{column: strconv.FormatInt(id, 10), search: st, value: bnText(r.Value)})
	}
	return out, nil
}

// search returns the visible tasks matching l, in the list's order:
// modified ascending, then id.
func (s *Sandbox) search(l *bnList, now time.Time) []*sandbox.Entry[Task] {
	return s.store.Search(now, l.matches, func(a, b *Task) int {
		return cmp.Or(a.Modified.Compare(b.Modified), cmp.Compare(a.ID, b.ID))
	})
}

// update serves task.update: it validates the body against the project's
// columns and applies the contents as a new version of the task.
func (s *Sandbox) update(body []byte, now time.Time) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var b struct {
		ProjectID any            `json:"project_id"`
		AppID     any            `json:"app_id"`
		TaskID    any            `json:"task_id"`
		Contents  map[string]any `json:"contents"`
	}
	if err := dec.Decode(&b); err != nil {
		return nil, bnBadParam("请求体须为JSON对象")
	}
	for _, f := range []struct {
		name string
		v    any
	}{{"project_id", b.ProjectID}, {"app_id", b.AppID}, {"task_id", b.TaskID}} {
		if f.v == nil {
			return nil, bnBadParam("缺少参数: %s", f.name)
		}
	}
	pid, ok1 := bnID(b.ProjectID)
	aid, ok2 := bnID(b.AppID)
	tid, ok3 := bnID(b.TaskID)
	if !ok1 || !ok2 || !ok3 {
		return nil, bnBadParam("project_id、app_id、task_id须为数字")
	}
	p := s.store.project(pid)
	switch {
	case p == nil:
		return nil, bnBadParam("群组不存在: %d", pid)
	case p.AppID != aid:
		return nil, bnBadParam("app_id与群组不匹配: %d", aid)
	case len(b.Contents) == 0:
		return nil, bnBadParam("contents不能为空")
	}
	e := s.store.byID[tid]
	if e == nil || e.Cur.ProjectID != pid {
		return nil, bnRefuse(bnCodeNoTask, "工单不存在: %d", tid)
	}
	values := make(map[string]any, len(b.Contents))
	for key, v := range b.Contents {
		id, _ := strconv.ParseInt(key, 10, 64)
		i := slices.IndexFunc(p.Columns, func(c Column) bool { return c.ID == id })
		if i < 0 {
			return nil, bnBadParam("列不存在: %s", key)
		}
		nv, err := bnColumnValue(&p.Columns[i], v)
		if err != nil {
			return nil, err
		}
		values[key] = nv
	}
	s.store.update(e, now, func(t *Task) {
		for k, v := range values {
			if v == nil {
				delete(t.Content, k)
			} else {
				t.Content[k] = v
			}
		}
		t.Updates++
	})
	s.updates++
	return map[string]any{"task_id": strconv.FormatInt(tid, 10)}, nil
}

// bnColumnValue checks a task.update value against its column's kind and
// returns it as stored; nil clears the column.
func bnColumnValue(c *Column, v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	bad := func() error { return bnBadParam("列%d(%s)的值无效: %s", c.ID, c.Name, bnText(v)) }
	switch c.BehaviorType {
	case bnKindRadio, bnKindSelect:
		id, ok := bnID(bnText(v))
		if !ok || !c.option(id) {
			return nil, bad()
		}
		return id, nil
	case bnKindMulti:
		xs, ok := v.([]any)
		if !ok {
			xs = []any{}
			for _, f := range strings.Split(bnText(v), ",") {
				xs = append(xs, f)
			}
		}
		out := make([]any, 0, len(xs))
		for _, x := range xs {
			id, ok := bnID(bnText(x))
			if !ok || !c.option(id) {
				return nil, bad()
			}
			out = append(out, id)
		}
		return out, nil
	case bnKindNumber:
		f, err := strconv.ParseFloat(bnText(v), 64)
		if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
			return nil, bad()
		}
		return bnNormalize(f), nil
	case bnKindDateTime:
		if _, err := time.ParseInLocation(bnTimeLayout, bnText(v), sandbox.CST); err != nil {
			return nil, bad()
		}
		return bnText(v), nil
	case bnKindText, bnKindRich:
		switch v.(type) {
		case string, json.Number:
			return bnText(v), nil
		}
		return nil, bad()
	}
	return bnNormalize(v), nil
}
