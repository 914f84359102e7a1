package banniusandbox_test

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
	"github.com/ferry-data/ferry/sinks/banniu/banniusandbox"
)

var (
	bnCST   = time.FixedZone("CST", 8*3600)
	bnStart = time.Date(2024, 6, 1, 12, 0, 0, 0, bnCST)
)

const bnProject = banniusandbox.DefaultProject

// bnThrottleCode is the code of a refused, too frequent call (vendors.md
// §5.4, a stand-in).
const bnThrottleCode = 1007

// bnFixture is a Banniu sandbox on a settable clock, served over HTTP.
type bnFixture struct {
	*sandboxtest.Fixture[*banniusandbox.Sandbox]
}

func newBNFixture(t *testing.T, cfg banniusandbox.Config) *bnFixture {
	t.Helper()
	if cfg.PerSecond == 0 {
		cfg.PerSecond = -1 // the clock stands still: no quota unless asked
	}
	return &bnFixture{sandboxtest.Serve(t, bnStart, func(now func() time.Time) *banniusandbox.Sandbox {
		cfg.Now = now
		return banniusandbox.New(cfg)
	})}
}

// bnCall is one gateway call; the zero value lists page 1 of the default
// project.
type bnCall struct {
	method    string            // default task.list
	params    map[string]string // business query params (GET); project_id defaults
	body      any               // task.update's body; makes the call a POST
	verb      string            // overrides the HTTP method
	timestamp time.Time         // zero: the sandbox's now
	tamper    func(q url.Values)
	header    func(h http.Header)
	path      string // default /gateway/api/miniAPI
	ctx       context.Context
}

// do signs and sends c as ferry's connector does (vendors.md §5.2).
func (f *bnFixture) do(c bnCall) (*http.Response, []byte, error) {
	f.T.Helper()
	cfg := f.SB.Config()
	if c.method == "" {
		c.method = "task.list"
	}
	if c.timestamp.IsZero() {
		c.timestamp = f.Clock.Now()
	}
	q := url.Values{}
	q.Set("app_key", cfg.AppKey)
	q.Set("access_token", cfg.AccessToken)
	q.Set("timestamp", c.timestamp.In(bnCST).Format(time.DateTime)) // vendors.md §5.2: yyyy-MM-dd HH:mm:ss, Asia/Shanghai
	q.Set("v", "1")
	q.Set("method", c.method)
	if c.body == nil {
		q.Set("project_id", strconv.Itoa(bnProject))
	}
	for k, v := range c.params {
		q.Set(k, v)
	}
	params := map[string]string{}
	for k := range q {
		params[k] = q.Get(k)
	}
	q.Set("sign", banniusandbox.Sign(params, cfg.AppSecret))
	if c.tamper != nil {
		c.tamper(q)
	}
	verb, body := http.MethodGet, []byte(nil)
	if c.body != nil {
		verb = http.MethodPost
		var err error
		if body, err = json.Marshal(c.body); err != nil {
			f.T.Fatal(err)
		}
	}
	if c.verb != "" {
		verb = c.verb
	}
	if c.path == "" {
		c.path = "/gateway/api/miniAPI"
	}
	if c.ctx == nil {
		c.ctx = context.Background()
	}
	req, err := http.NewRequestWithContext(c.ctx, verb, f.Srv.URL+c.path+"?"+q.Encode(), bytes.NewReader(body))
	if err != nil {
		f.T.Fatal(err)
	}
	if c.body != nil {
		req.Header.Set("Authorization", "Bearer "+cfg.AccessToken)
		req.Header.Set("Content-Type", "application/json")
	}
	if c.header != nil {
		c.header(req.Header)
	}
	return f.Do(req)
}

type bnEnvelope struct {
	Response struct {
		Code     int     `json:"code"`
		ErrorMsg *string `json:"error_msg"`
		Map      *struct {
			Result json.RawMessage `json:"result"`
		} `json:"map"`
		IsSuccess *bool `json:"isSuccess"`
	} `json:"response"`
}

func (e bnEnvelope) msg() string {
	if e.Response.ErrorMsg == nil {
		return ""
	}
	return *e.Response.ErrorMsg
}

// call makes a call that must get a well-formed HTTP 200 envelope.
func (f *bnFixture) call(c bnCall) bnEnvelope {
	f.T.Helper()
	resp, b, err := f.do(c)
	if err != nil {
		f.T.Fatalf("call: %v", err)
	}
	if resp.StatusCode != http.StatusOK {
		f.T.Fatalf("HTTP %d: %s", resp.StatusCode, b)
	}
	var env bnEnvelope
	if err := json.Unmarshal(b, &env); err != nil {
		f.T.Fatalf("decode %s: %v", b, err)
	}
	return env
}

// ok makes a call that must succeed and decodes its map.result into out.
func (f *bnFixture) ok(c bnCall, out any) {
	f.T.Helper()
	env := f.call(c)
	if env.Response.Code != 0 || env.Response.Map == nil {
		f.T.Fatalf("code %d: %s", env.Response.Code, env.msg())
	}
	if err := json.Unmarshal(env.Response.Map.Result, out); err != nil {
		f.T.Fatalf("result %s: %v", env.Response.Map.Result, err)
	}
}

// list returns one task.list page.
func (f *bnFixture) list(params map[string]string) []map[string]any {
	f.T.Helper()
	var rows []map[string]any
	f.ok(bnCall{params: params}, &rows)
	return rows
}

func bnPage(num, size int) map[string]string {
	return map[string]string{"page_num": strconv.Itoa(num), "page_size": strconv.Itoa(size)}
}

func bnWith(m map[string]string, kv ...string) map[string]string {
	out := map[string]string{}
	for k, v := range m {
		out[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		out[kv[i]] = kv[i+1]
	}
	return out
}

func bnConditions(t *testing.T, conds ...map[string]any) string {
	b, err := json.Marshal(conds)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func bnTaskID(r map[string]any) int64 { return int64(r["0"].(float64)) }

func bnIDs(rows []map[string]any) map[int64]bool {
	out := map[int64]bool{}
	for _, r := range rows {
		out[bnTaskID(r)] = true
	}
	return out
}

// bnUpdate is a task.update body as the public clients send it.
func bnUpdate(taskID int64, contents map[string]any) map[string]any {
	return map[string]any{
		"project_id": strconv.Itoa(bnProject), "app_id": strconv.Itoa(banniusandbox.DefaultApp),
		"task_id": strconv.FormatInt(taskID, 10), "contents": contents, "header": nil,
	}
}

func TestBanniuTaskListPagesAndRows(t *testing.T) {
	f := newBNFixture(t, banniusandbox.Config{Tasks: 25, Settings: sandbox.Settings{Seed: 1}})

	var all []map[string]any
	for p, want := range []int{10, 10, 5, 0} {
		rows := f.list(bnPage(p+1, 10))
		if len(rows) != want {
			t.Fatalf("page %d: %d rows, want %d", p+1, len(rows), want)
		}
		all = append(all, rows...)
	}
	for i := 1; i < len(all); i++ {
		a, b := all[i-1], all[i]
		if a["2"].(string) > b["2"].(string) || a["2"] == b["2"] && bnTaskID(a) >= bnTaskID(b) {
			t.Fatalf("tasks %v and %v out of order", a["-1"], b["-1"])
		}
	}
	truth := f.SB.Truth()
	if got, want := bnIDs(all), bnIDs(truth); len(all) != 25 || !reflect.DeepEqual(got, want) {
		t.Fatalf("walk saw %d tasks (%d distinct), truth holds %d", len(all), len(got), len(want))
	}
	r := all[0]
	if r["-1"] != strconv.FormatInt(bnTaskID(r), 10) {
		t.Errorf(`row "-1" = %v, "0" = %v`, r["-1"], r["0"])
	}
	for _, tr := range truth {
		if bnTaskID(tr) == bnTaskID(r) && !reflect.DeepEqual(tr, r) {
			t.Errorf("served row differs from Truth:\n%v\n%v", r, tr)
		}
	}
	if no, _ := r["77213"].(string); len(no) < 12 {
		t.Errorf("线上订单号 = %v", r["77213"])
	}

	resp, b, err := f.do(bnCall{})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(b, []byte(`"total_results":null`)) || !bytes.Contains(b, []byte(`"code":0`)) {
		t.Errorf("envelope is not the vendor's: %.200s", b)
	}
	if d, err := http.ParseTime(resp.Header.Get("Date")); err != nil || !d.Equal(bnStart) {
		t.Errorf("Date = %q, want the sandbox clock %v", resp.Header.Get("Date"), bnStart)
	}
	if rows := f.list(nil); len(rows) != 10 {
		t.Errorf("default page_size gave %d rows, want 10", len(rows))
	}
	if s := f.SB.Stats(); s.Calls != 6 || s.Served != 6 {
		t.Errorf("stats = %+v", s)
	}
}

func TestBanniuSearches(t *testing.T) {
	f := newBNFixture(t, banniusandbox.Config{Tasks: 50, Settings: sandbox.Settings{Seed: 2}})
	f.Clock.Advance(time.Hour)
	id := f.SB.AddTask(bnProject, map[string]any{"77213": "3901234567890123456", "77208": "小太阳1234"})

	search := func(searchType, value string) map[int64]bool {
		cond := bnConditions(t, map[string]any{"id": 77213, "behaviorType": 1, "searchType": searchType, "value": value})
		return bnIDs(f.list(bnWith(bnPage(1, 100), "condition_column", cond)))
	}
	if got := search("1", "3901234567890123456"); len(got) != 1 || !got[id] {
		t.Errorf("等于 found %v, want only %d", got, id)
	}
	if got := search("1", "390123456789012345"); len(got) != 0 {
		t.Errorf("等于 on a prefix found %v", got)
	}
	if got := search("3", "12345678901234"); !got[id] {
		t.Errorf("包含 did not find %d", id)
	}
	if got := search("2", "3901234567890123456"); got[id] || len(got) != 50 {
		t.Errorf("不等于 found %d tasks (the new one: %v), want the other 50", len(got), got[id])
	}

	// The created window: the new task only, in the last half hour.
	w := bnWith(bnPage(1, 100),
		"star_created", f.Clock.Now().Add(-30*time.Minute).In(bnCST).Format(time.DateTime),
		"end_created", f.Clock.Now().In(bnCST).Format(time.DateTime))
	if got := bnIDs(f.list(w)); len(got) != 1 || !got[id] {
		t.Errorf("window found %v, want only %d", got, id)
	}
	for _, r := range f.list(bnWith(bnPage(1, 100), "task_status", "1")) {
		if r["3"].(float64) != 1 {
			t.Errorf("task_status=1 gave a task in status %v", r["3"])
		}
	}
}

func TestBanniuGetTaskAndColumns(t *testing.T) {
	f := newBNFixture(t, banniusandbox.Config{Tasks: 5, Settings: sandbox.Settings{Seed: 3}})
	var cols []map[string]any
	f.ok(bnCall{method: "column.list"}, &cols)
	byID := map[float64]map[string]any{}
	for _, c := range cols {
		byID[c["column_id"].(float64)] = c
	}
	if c := byID[77213]; c == nil || c["name"] != "线上订单号" {
		t.Errorf("column 77213 = %v", c)
	}
	if c := byID[78538]; c == nil || c["name"] != "销售出库" || !strings.Contains(string(mustJSON(t, c["options"])), `{"id":78534,"title":"已出库"}`) {
		t.Errorf("column 78538 = %v", c)
	}

	truth := f.SB.Truth()
	want := truth[2]
	var got map[string]any
	f.ok(bnCall{method: "task.getTask", params: map[string]string{"task_id": want["-1"].(string)}}, &got)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("task.getTask = %v, want %v", got, want)
	}
	env := f.call(bnCall{method: "task.getTask", params: map[string]string{"task_id": "1"}})
	if env.Response.Code != 1008 {
		t.Errorf("unknown task: code %d %q", env.Response.Code, env.msg())
	}
}

func mustJSON(t *testing.T, v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestBanniuValidationErrors(t *testing.T) {
	f := newBNFixture(t, banniusandbox.Config{Tasks: 3, Settings: sandbox.Settings{Seed: 4}})
	task := bnTaskID(f.SB.Truth()[0])
	cases := []struct {
		name string
		call bnCall
		code int
		want string
	}{
		{"bad sign", bnCall{tamper: func(q url.Values) { q.Set("sign", strings.Repeat("A", 32)) }}, 1001, "签名错误"},
		{"lowercase sign", bnCall{tamper: func(q url.Values) { q.Set("sign", strings.ToLower(q.Get("sign"))) }}, 1001, "签名错误"},
		{"unsigned param", bnCall{tamper: func(q url.Values) { q.Set("page_num", "2") }}, 1001, "签名错误"},
		{"no sign", bnCall{tamper: func(q url.Values) { q.Del("sign") }}, 1000, "缺少必要参数: sign"},
		{"stale timestamp", bnCall{timestamp: bnStart.Add(-11 * time.Minute)}, 1002, "timestamp无效"},
		{"wrong app_key", bnCall{tamper: func(q url.Values) { q.Set("app_key", "x") }}, 1003, "app_key无效"},
		{"wrong token", bnCall{tamper: func(q url.Values) { q.Set("access_token", "x") }}, 1004, "access_token无效"},
		{"unknown method", bnCall{method: "task.delete"}, 1005, "方法不存在"},
		{"page too big", bnCall{params: bnPage(1, 101)}, 1006, "page_size不能大于100"},
		{"page 0", bnCall{params: bnPage(0, 10)}, 1006, "page_num"},
		{"window over a day", bnCall{params: map[string]string{"star_created": "2024-05-30 12:00:00", "end_created": "2024-05-31 12:00:01"}}, 1006, "查询区间最大1天"},
		{"half a window", bnCall{params: map[string]string{"star_created": "2024-05-30 12:00:00"}}, 1006, "star_created和end_created须同时传入"},
		{"unknown project", bnCall{params: map[string]string{"project_id": "1"}}, 1006, "群组不存在"},
		{"bad condition", bnCall{params: map[string]string{"condition_column": "{"}}, 1006, "condition_column格式错误"},
		{"unknown condition column", bnCall{params: map[string]string{"condition_column": `[{"id":1,"behaviorType":1,"searchType":"1","value":"x"}]`}}, 1006, "condition_column列不存在"},
		{"update by GET", bnCall{method: "task.update"}, 1009, "请求方式错误"},
		{"update without Bearer", bnCall{method: "task.update", body: bnUpdate(task, map[string]any{"78538": 78534}), header: func(h http.Header) { h.Del("Authorization") }}, 1004, "Authorization无效"},
		{"update unknown task", bnCall{method: "task.update", body: bnUpdate(1, map[string]any{"78538": 78534})}, 1008, "工单不存在"},
		{"update unknown column", bnCall{method: "task.update", body: bnUpdate(task, map[string]any{"99999": "x"})}, 1006, "列不存在: 99999"},
		{"update bad option", bnCall{method: "task.update", body: bnUpdate(task, map[string]any{"78538": 77221})}, 1006, "列78538(销售出库)的值无效"},
		{"update wrong app", bnCall{method: "task.update", body: bnWithAny(bnUpdate(task, map[string]any{"78538": 78534}), "app_id", "1")}, 1006, "app_id与群组不匹配"},
		{"update empty", bnCall{method: "task.update", body: bnUpdate(task, map[string]any{})}, 1006, "contents不能为空"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			env := f.call(c.call)
			if env.Response.Code != c.code || !strings.HasPrefix(env.msg(), c.want) || env.Response.Map != nil {
				t.Fatalf("got code %d %q, want %d %q", env.Response.Code, env.msg(), c.code, c.want)
			}
		})
	}
	if s := f.SB.Stats(); s.Rejected != len(cases) || s.Served != 0 || s.Updates != 0 {
		t.Errorf("stats = %+v", s)
	}
	// 9m59s off is fine; so is a window of exactly one day.
	f.list(map[string]string{"star_created": "2024-05-30 12:00:00", "end_created": "2024-05-31 12:00:00"})
	f.ok(bnCall{timestamp: bnStart.Add(9*time.Minute + 59*time.Second)}, new([]map[string]any))
	if resp, _, err := f.do(bnCall{path: "/gateway/api/common"}); err != nil || resp.StatusCode != http.StatusNotFound {
		t.Errorf("another gateway: %v %v", resp.StatusCode, err)
	}
}

func bnWithAny(m map[string]any, k string, v any) map[string]any {
	m[k] = v
	return m
}

func TestBanniuUpdateAppliesContents(t *testing.T) {
	f := newBNFixture(t, banniusandbox.Config{Tasks: 10, Settings: sandbox.Settings{Seed: 5}})
	target := f.SB.Tasks(bnProject)[4]
	f.Clock.Advance(time.Minute)

	var res map[string]any
	f.ok(bnCall{method: "task.update", body: bnUpdate(target.ID, map[string]any{"78538": 78534, "77215": "已出库，ERP回写"})}, &res)
	if res["task_id"] != strconv.FormatInt(target.ID, 10) {
		t.Fatalf("result = %v", res)
	}
	// Numbers for ids work too, and the same update again is harmless.
	body := map[string]any{"project_id": bnProject, "app_id": banniusandbox.DefaultApp, "task_id": target.ID,
		"contents": map[string]any{"78538": "78534", "77215": "已出库，ERP回写"}, "header": nil}
	f.Clock.Advance(time.Second)
	f.ok(bnCall{method: "task.update", body: body}, &res)

	var got banniusandbox.Task
	for _, tk := range f.SB.Tasks(bnProject) {
		if tk.ID == target.ID {
			got = tk
		}
	}
	if got.Content["78538"] != int64(78534) || got.Content["77215"] != "已出库，ERP回写" || got.Updates != 2 {
		t.Fatalf("task after two updates: %+v", got)
	}
	if !got.Modified.Equal(f.Clock.Now()) || got.Content["77213"] != target.Content["77213"] {
		t.Fatalf("modified %v (want %v), 线上订单号 %v → %v", got.Modified, f.Clock.Now(), target.Content["77213"], got.Content["77213"])
	}
	var row map[string]any
	f.ok(bnCall{method: "task.getTask", params: map[string]string{"task_id": strconv.FormatInt(target.ID, 10)}}, &row)
	if row["78538"] != float64(78534) || row["2"] != f.Clock.Now().In(bnCST).Format(time.DateTime) {
		t.Fatalf("task.getTask after the update: %v", row)
	}
	if s := f.SB.Stats(); s.Updates != 2 || s.Mutations != 0 {
		t.Errorf("stats = %+v", s)
	}
}

// walk pages forward from page 1 until a short page, as a naive client does.
func (f *bnFixture) walk() []map[string]any {
	var all []map[string]any
	for p := 1; ; p++ {
		rows := f.list(bnPage(p, 10))
		all = append(all, rows...)
		if len(rows) < 10 {
			return all
		}
	}
}

func TestBanniuVisibilityLagHidesFreshChanges(t *testing.T) {
	const lag = 10 * time.Minute
	f := newBNFixture(t, banniusandbox.Config{Tasks: 20, Settings: sandbox.Settings{Seed: 7, VisibilityLag: lag}})
	f.Clock.Advance(lag) // the start tasks have all shown
	byTrade := func(no string) []map[string]any {
		cond := bnConditions(t, map[string]any{"id": 77213, "behaviorType": 1, "searchType": "1", "value": no})
		return f.list(bnWith(bnPage(1, 10), "condition_column", cond))
	}

	id := f.SB.AddTask(bnProject, map[string]any{"77213": "TB20240601001"})
	env := f.call(bnCall{method: "task.getTask", params: map[string]string{"task_id": strconv.FormatInt(id, 10)}})
	if got := byTrade("TB20240601001"); len(got) != 0 || env.Response.Code != 1008 {
		t.Fatalf("a new task showed at once despite the lag: %d rows, getTask code %d", len(got), env.Response.Code)
	}
	if len(f.SB.Tasks(bnProject)) != 21 || len(f.SB.Truth()) != 21 {
		t.Fatal("Tasks and Truth must hold hidden tasks too")
	}
	f.Clock.Advance(lag)
	if got := byTrade("TB20240601001"); len(got) != 1 || bnTaskID(got[0]) != id {
		t.Fatalf("after the lag: %v", got)
	}

	// An update shows late too: until then queries see the old version.
	f.ok(bnCall{method: "task.update", body: bnUpdate(id, map[string]any{"78538": 78534})}, new(map[string]any))
	if got := byTrade("TB20240601001"); len(got) != 1 || got[0]["78538"] != nil {
		t.Fatalf("the update showed at once: %v", got)
	}
	f.Clock.Advance(lag)
	if got := byTrade("TB20240601001"); len(got) != 1 || got[0]["78538"] != float64(78534) {
		t.Fatalf("the update never showed: %v", got)
	}
}

func TestBanniuThrottling(t *testing.T) {
	f := newBNFixture(t, banniusandbox.Config{Tasks: 30, Settings: sandbox.Settings{Seed: 8, MutationsPerCall: 3, Faults: sandbox.Faults{ThrottleRate: 1}}})
	for range 3 {
		env := f.call(bnCall{params: bnPage(2, 5)})
		if env.Response.Code != bnThrottleCode || env.msg() != "调用频率超限" || env.Response.IsSuccess == nil || *env.Response.IsSuccess {
			t.Fatalf("got %d %q, want the throttle envelope", env.Response.Code, env.msg())
		}
	}
	if s := f.SB.Stats(); s.Throttled != 3 || s.Mutations != 0 {
		t.Fatalf("stats = %+v; want 3 throttled and no mutations", s)
	}
	f.SB.SetFaults(sandbox.Faults{})
	f.list(nil)

	q := newBNFixture(t, banniusandbox.Config{Tasks: 3, PerSecond: 3, Settings: sandbox.Settings{Seed: 9}})
	for range 3 {
		q.list(nil)
	}
	if env := q.call(bnCall{}); env.Response.Code != bnThrottleCode {
		t.Fatalf("fourth call in the second: %d %q", env.Response.Code, env.msg())
	}
	q.Clock.Advance(time.Second)
	q.list(nil)
	if s := q.SB.Stats(); s.Served != 4 || s.Throttled != 1 {
		t.Fatalf("stats = %+v", s)
	}
}

// TestBanniuTruncatedUpdateWasApplied: a cut answer does not mean the work
// was not done; a client that retries updates twice, which is harmless.
func TestBanniuTruncatedUpdateWasApplied(t *testing.T) {
	f := newBNFixture(t, banniusandbox.Config{Tasks: 3, Settings: sandbox.Settings{Seed: 11, Faults: sandbox.Faults{FailRate: 1, SlowDelay: time.Millisecond}}})
	id := f.SB.Tasks(bnProject)[0].ID
	truncated := 0
	for range 12 {
		resp, b, err := f.do(bnCall{method: "task.update", body: bnUpdate(id, map[string]any{"78538": 78534})})
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode == http.StatusOK && !json.Valid(b) {
			truncated++
		}
	}
	got := f.SB.Tasks(bnProject)[0]
	if truncated == 0 || got.Updates != truncated || f.SB.Stats().Updates != truncated || got.Content["78538"] != int64(78534) {
		t.Fatalf("%d truncated answers, task updated %d times: %+v", truncated, got.Updates, got)
	}
}

func TestBanniuConfigFillsDefaults(t *testing.T) {
	s := banniusandbox.New(banniusandbox.Config{Tasks: -1})
	c := s.Config()
	if c.AppKey != "ferry-bn-app" || c.AppSecret != "ferry-bn-secret" || c.AccessToken != "ferry-bn-token" ||
		c.PerSecond != 10 || c.MaxPageSize != 100 || c.MaxWindow != 24*time.Hour || c.MaxSkew != 10*time.Minute ||
		c.SlowDelay != 50*time.Millisecond || c.Now == nil || len(c.Projects) != 1 || c.Projects[0].ID != 77206 || c.Projects[0].AppID != 21151 {
		t.Fatalf("defaults not filled: %+v", c)
	}
	if n := len(s.Truth()); n != 0 {
		t.Fatalf("Tasks: -1 gave %d tasks", n)
	}
}

// TestBanniuCustomProject: a configured project replaces the default one;
// task.update checks each value against its column's kind, and staff edit
// its text columns.
func TestBanniuCustomProject(t *testing.T) {
	p := banniusandbox.Project{ID: 50001, AppID: 40001, Name: "差评回访", Columns: []banniusandbox.Column{
		{ID: 50002, Name: "回访记录", BehaviorType: 1},
		{ID: 50003, Name: "补偿金额", BehaviorType: 2},
		{ID: 50004, Name: "标签", BehaviorType: 5, Options: []banniusandbox.Option{{ID: 50011, Title: "物流慢"}, {ID: 50012, Title: "质量问题"}}},
		{ID: 50005, Name: "回访时间", BehaviorType: 7},
	}}
	f := newBNFixture(t, banniusandbox.Config{Tasks: 5, Projects: []banniusandbox.Project{p}, Settings: sandbox.Settings{Seed: 13}})
	if env := f.call(bnCall{}); env.Response.Code != 1006 || env.msg() != "群组不存在: 77206" {
		t.Fatalf("the default project still exists: %d %q", env.Response.Code, env.msg())
	}
	id := f.SB.Tasks(50001)[0].ID
	update := func(contents map[string]any) bnEnvelope {
		return f.call(bnCall{method: "task.update", body: map[string]any{
			"project_id": "50001", "app_id": "40001", "task_id": id, "contents": contents, "header": nil,
		}})
	}
	if env := update(map[string]any{"50002": "已回访，买家满意", "50003": 12.5, "50004": []int{50011, 50012}, "50005": "2024-06-01 12:30:00"}); env.Response.Code != 0 {
		t.Fatalf("update: %d %q", env.Response.Code, env.msg())
	}
	got := f.SB.Tasks(50001)[0].Content
	want := map[string]any{"50002": "已回访，买家满意", "50003": 12.5, "50004": []any{int64(50011), int64(50012)}, "50005": "2024-06-01 12:30:00"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("content = %#v, want %#v", got, want)
	}
	for _, bad := range []map[string]any{{"50003": "abc"}, {"50004": []int{50013}}, {"50005": "6月1日"}, {"50002": true}} {
		if env := update(bad); env.Response.Code != 1006 || !strings.Contains(env.msg(), "的值无效") {
			t.Errorf("%v: %d %q", bad, env.Response.Code, env.msg())
		}
	}
	if env := update(map[string]any{"50002": nil}); env.Response.Code != 0 {
		t.Fatalf("clearing a column: %d %q", env.Response.Code, env.msg())
	}
	if _, ok := f.SB.Tasks(50001)[0].Content["50002"]; ok {
		t.Fatal("null did not clear the column")
	}
	f.SB.Mutate(5)
	for _, tk := range f.SB.Tasks(50001) {
		if r, _ := tk.Content["50002"].(string); r == "" || !tk.Modified.Equal(bnStart) {
			t.Errorf("staff edit left task %d at %v with 回访记录 %q", tk.ID, tk.Modified, r)
		}
	}
}
