package banniusandbox

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ferry-data/ferry/internal/sandbox"
)

// Banniu column kinds (behaviorType, vendors.md §5.3).
const (
	bnKindText     = 1  // 文本
	bnKindNumber   = 2  // 数值
	bnKindRadio    = 3  // 单选
	bnKindSelect   = 4  // 下拉
	bnKindMulti    = 5  // 多选
	bnKindDateTime = 7  // 日期时间
	bnKindRich     = 11 // 富文本
)

// Task statuses (task_status, vendors.md §5.3).
const (
	bnTodo   = 0 // 待处理
	bnDone   = 1 // 已完成
	bnDoing  = 2 // 处理中
	bnPaused = 3 // 暂停中
	bnClosed = 4 // 已关闭
)

// System columns every task.list row carries besides "-1" and "0" (the
// task id). Their ids are stand-ins.
const (
	bnColCreated  = "1" // 创建时间
	bnColModified = "2" // 最后修改时间
	bnColStatus   = "3" // 工单状态
)

// Project is one 群组: a work-order table of custom columns, used by
// one 小程序 (app).
type Project struct {
	ID int64
	// AppID is the app whose tasks the project holds; task.update must name
	// it.
	AppID   int64
	Name    string
	Columns []Column
}

// Column is a custom column of a project.
type Column struct {
	ID   int64
	Name string
	// BehaviorType is the column's kind: 1 文本, 2 数值, 3 单选, 4 下拉,
	// 5 多选, 7 日期时间, 11 富文本 …
	BehaviorType int
	// Options are the choices of 单选, 下拉 and 多选 columns; tasks hold
	// an option's id.
	Options []Option
}

// Option is one choice of an option column.
type Option struct {
	ID    int64
	Title string
}

func (c *Column) option(id int64) bool {
	return slices.ContainsFunc(c.Options, func(o Option) bool { return o.ID == id })
}

// Column ids of the default project, the seed's 售后工单 group 77206 of
// app 21151. 77213 (线上订单号) and 78538 (销售出库, option 78534) are the
// seed's; the others are stand-ins.
const (
	DefaultProject = 77206
	DefaultApp     = 21151

	bnColShop       = 77207
	bnColBuyer      = 77208
	bnColReceiver   = 77209
	bnColPhone      = 77210
	bnColIssue      = 77211
	bnColDetail     = 77212
	bnColTradeNo    = 77213 // 线上订单号: the seed's lookup column
	bnColERPNo      = 77214
	bnColResult     = 77215
	bnColHandler    = 77216
	bnColLogistics  = 77217
	bnColStockedOut = 78538 // 销售出库: the column the seed writes
)

// bnDefaultProject is the seed's project with plausible columns around the
// two it names.
func bnDefaultProject() Project {
	return Project{
		ID: DefaultProject, AppID: DefaultApp, Name: "售后工单",
		Columns: []Column{
			{ID: bnColShop, Name: "店铺", BehaviorType: bnKindSelect, Options: []Option{
				{77221, "天猫旗舰店"}, {77222, "京东自营店"}, {77223, "抖音小店"}, {77224, "拼多多专营店"},
			}},
			{ID: bnColBuyer, Name: "买家昵称", BehaviorType: bnKindText},
			{ID: bnColReceiver, Name: "收货人", BehaviorType: bnKindText},
			{ID: bnColPhone, Name: "手机号", BehaviorType: bnKindText},
			{ID: bnColIssue, Name: "问题类型", BehaviorType: bnKindRadio, Options: []Option{
				{77231, "催发货"}, {77232, "缺货"}, {77233, "修改地址"}, {77234, "仅退款"},
				{77235, "退货退款"}, {77236, "换货"}, {77237, "漏发/少件"}, {77238, "物流异常"},
			}},
			{ID: bnColDetail, Name: "问题描述", BehaviorType: bnKindRich},
			{ID: bnColTradeNo, Name: "线上订单号", BehaviorType: bnKindText},
			{ID: bnColERPNo, Name: "ERP单号", BehaviorType: bnKindText},
			{ID: bnColResult, Name: "处理结果", BehaviorType: bnKindText},
			{ID: bnColHandler, Name: "处理人", BehaviorType: bnKindText},
			{ID: bnColLogistics, Name: "物流单号", BehaviorType: bnKindText},
			{ID: bnColStockedOut, Name: "销售出库", BehaviorType: bnKindRadio, Options: []Option{
				{78534, "已出库"}, {78535, "未出库"},
			}},
		},
	}
}

// Task is one task (工单) as the sandbox holds it. A published
// version is never changed: a modification makes a new one with clone.
type Task struct {
	ID        int64
	ProjectID int64
	// Status is the task_status: 0 待处理, 1 已完成, 2 处理中, 3 暂停中,
	// 4 已关闭.
	Status int
	// Content maps column ids to values: text as string, option ids and
	// integers as int64, other numbers as float64.
	Content  map[string]any
	Created  time.Time
	Modified time.Time
	// Updates counts the task.update calls applied to the task.
	Updates int
}

func (t *Task) clone() *Task {
	c := *t
	c.Content = make(map[string]any, len(t.Content))
	for k, v := range t.Content {
		if xs, ok := v.([]any); ok {
			v = slices.Clone(xs)
		}
		c.Content[k] = v
	}
	return &c
}

// row renders the task as task.list returns it: keyed by column id, "-1"
// the id as a string and "0" as a number.
func (t *Task) row() map[string]any {
	row := make(map[string]any, len(t.Content)+5)
	for k, v := range t.Content {
		row[k] = v
	}
	row["-1"] = strconv.FormatInt(t.ID, 10)
	row["0"] = t.ID
	row[bnColCreated] = sandbox.FormatCST(t.Created)
	row[bnColModified] = sandbox.FormatCST(t.Modified)
	row[bnColStatus] = t.Status
	return row
}

// bnStore holds the projects and tasks and makes and changes tasks. It is
// not safe for concurrent use; Banniu guards it.
type bnStore struct {
	sandbox.Records[Task] // ascending task id
	projects              []*Project
	byID                  map[int64]*sandbox.Entry[Task]
	nextID                int64
	erpSeq                int64
}

func newBNStore(rng *rand.Rand, lag time.Duration, projects []Project) *bnStore {
	s := &bnStore{
		Records: sandbox.Records[Task]{Rand: rng, Lag: lag},
		byID:    map[int64]*sandbox.Entry[Task]{},
		nextID:  6690000 + rng.Int64N(10000),
		erpSeq:  10000 + rng.Int64N(5000),
	}
	for i := range projects {
		p := projects[i]
		p.Columns = slices.Clone(p.Columns)
		slices.SortFunc(p.Columns, func(a, b Column) int { return cmp.Compare(a.ID, b.ID) })
		s.projects = append(s.projects, &p)
	}
	return s
}

func (s *bnStore) project(id int64) *Project {
	for _, p := range s.projects {
		if p.ID == id {
			return p
		}
	}
	return nil
}

// seed gives every project n tasks created over [since, now), some of them
// worked on since.
func (s *bnStore) seed(n int, since, now time.Time) {
	type stamps struct {
		p                 *Project
		created, modified time.Time
	}
	span := max(int64(now.Sub(since)), 1)
	var all []stamps
	for _, p := range s.projects {
		for range n {
			c := since.Add(time.Duration(s.Rand.Int64N(span)))
			m := c
			if s.Rand.IntN(3) > 0 {
				m = c.Add(time.Duration(s.Rand.Int64N(max(int64(now.Sub(c)), 1))))
			}
			all = append(all, stamps{p: p, created: c, modified: m})
		}
	}
	// Ids follow creation order, across projects.
	slices.SortFunc(all, func(a, b stamps) int { return a.created.Compare(b.created) })
	for _, st := range all {
		t := s.newTask(st.p, st.created)
		if st.modified.After(st.created) {
			steps := make([]time.Time, 1+s.Rand.IntN(3))
			for i := range steps[1:] {
				steps[i] = st.created.Add(time.Duration(s.Rand.Int64N(max(int64(st.modified.Sub(st.created)), 1))))
			}
			steps[len(steps)-1] = st.modified
			slices.SortFunc(steps, time.Time.Compare)
			for _, at := range steps {
				s.work(t, at)
			}
		}
		s.add(t, st.modified)
	}
}

// add stores a new task, visible after the lag from at.
func (s *bnStore) add(t *Task, at time.Time) {
	s.byID[t.ID] = s.Records.Add(t, at)
}

// create adds a fresh task of a random project, made at at.
func (s *bnStore) create(at time.Time) {
	s.add(s.newTask(sandbox.Pick(s.Rand, s.projects), at), at)
}

// update makes a new version of e's task with f applied, stamped at.
func (s *bnStore) update(e *sandbox.Entry[Task], at time.Time, f func(t *Task)) {
	t := e.Cur.clone()
	f(t)
	t.Modified = at
	s.Replace(e, t, at)
}

// modify is a staff member working on a task.
func (s *bnStore) modify(e *sandbox.Entry[Task], at time.Time) {
	s.update(e, at, func(t *Task) { s.work(t, at) })
}

// Stand-in reference data for the default project's tasks.
var (
	bnTradeNoLen = map[int64]int{77221: 19, 77222: 12, 77223: 19, 77224: 18} // by shop option
	bnIssueTexts = map[int64][]string{
		77231: {"买家催发货，下单三天未发出", "买家询问预售商品何时发货", "付款后一直显示待发货"},
		77232: {"仓库反馈该SKU缺货，需协商换款或退款", "颜色断码，联系买家改色"},
		77233: {"买家要求修改收货地址为公司地址", "地址填写错误，改为新地址"},
		77234: {"买家未收到货申请仅退款", "拍错颜色，未发货申请退款", "价保差价退款"},
		77235: {"尺码不合适申请退货", "商品有瑕疵，申请退货退款", "七天无理由退货"},
		77236: {"尺码偏小，换大一码", "收到颜色不对，要求换货"},
		77237: {"少发一件赠品", "订单两件只收到一件", "配件漏发"},
		77238: {"物流三天未更新", "快递显示签收但买家未收到", "包裹破损，买家拒收"},
	}
	bnResults = []string{
		"已联系买家，补发处理", "已安排仓库加急发货", "已修改地址并通知快递", "同意退款，已提交财务",
		"已发送退货地址，等待买家寄回", "仓库已签收退货，待质检", "已补偿5元无门槛券", "买家撤销申请，关闭工单",
		"已催促快递网点派送", "换货单已生成，等待发出",
	}
	bnHandlers = []string{"客服-小美", "客服-阿杰", "客服-静静", "售后-老陈", "售后主管-王芳", "仓库-李师傅"}
	bnRemarks  = []string{"买家情绪较急，优先处理", "老客户，注意安抚", "已电话沟通", "需仓库配合", "等待快递回复"}
)

// bnNextStatus lists where a task's status may go. 已完成 and 已关闭 stay.
var bnNextStatus = map[int][]int{
	bnTodo:   {bnDoing, bnDoing, bnDoing, bnClosed},
	bnDoing:  {bnDone, bnDone, bnPaused, bnDoing},
	bnPaused: {bnDoing},
}

// newTask makes a task (待处理) of project p, created at at, with its
// columns filled as a customer-service agent would.
func (s *bnStore) newTask(p *Project, at time.Time) *Task {
	s.nextID += 1 + s.Rand.Int64N(3) // ids are shared with other tenants
	t := &Task{ID: s.nextID, ProjectID: p.ID, Status: bnTodo, Created: at, Modified: at, Content: map[string]any{}}
	for i := range p.Columns {
		c := &p.Columns[i]
		if v := s.value(p, c, t, at); v != nil {
			t.Content[strconv.FormatInt(c.ID, 10)] = v
		}
	}
	return t
}

// value draws a new task's value for column c, or nil to leave it empty.
func (s *bnStore) value(p *Project, c *Column, t *Task, at time.Time) any {
	rng := s.Rand
	if p.ID == DefaultProject {
		switch c.ID {
		case bnColBuyer:
			if rng.IntN(2) == 0 {
				return "tb" + s.Digits(9)
			}
			return sandbox.Pick(rng, sandbox.Nicknames) + s.Digits(4)
		case bnColReceiver:
			return sandbox.Pick(rng, sandbox.Surnames) + sandbox.Pick(rng, sandbox.GivenNames)
		case bnColPhone:
			return sandbox.Pick(rng, sandbox.PhonePrefixes) + "****" + s.Digits(4)
		case bnColDetail:
			issue, _ := t.Content[strconv.Itoa(bnColIssue)].(int64)
			return sandbox.Pick(rng, bnIssueTexts[issue])
		case bnColTradeNo:
			shop, _ := t.Content[strconv.Itoa(bnColShop)].(int64)
			return s.Digits(bnTradeNoLen[shop])
		case bnColERPNo:
			s.erpSeq++
			return fmt.Sprintf("JY%s%05d", at.In(sandbox.CST).Format("20060102"), s.erpSeq%100000)
		case bnColResult:
			return nil // filled while the task is worked on
		case bnColHandler:
			return sandbox.Pick(rng, bnHandlers)
		case bnColLogistics:
			if issue, _ := t.Content[strconv.Itoa(bnColIssue)].(int64); issue == 77231 || issue == 77232 || issue == 77233 {
				return nil // not shipped yet
			}
			l := sandbox.Pick(rng, sandbox.Carriers)
			return l.Prefix + s.Digits(12)
		case bnColStockedOut:
			return nil // the ERP side (ferry) fills it
		}
	}
	switch c.BehaviorType {
	case bnKindRadio, bnKindSelect:
		if len(c.Options) > 0 {
			return sandbox.Pick(rng, c.Options).ID
		}
	case bnKindMulti:
		if len(c.Options) > 0 {
			return []any{sandbox.Pick(rng, c.Options).ID}
		}
	case bnKindNumber:
		return int64(rng.IntN(1000))
	case bnKindDateTime:
		return sandbox.FormatCST(at)
	case bnKindText, bnKindRich:
		return sandbox.Pick(rng, bnRemarks)
	}
	return nil
}

// work moves a task along as staff do: status, result, handler, remark.
// Every call changes at least one field besides the stamps; the lookup
// column (线上订单号) and the column ferry writes are left alone.
func (s *bnStore) work(t *Task, at time.Time) {
	rng := s.Rand
	if next, ok := bnNextStatus[t.Status]; ok && rng.IntN(10) < 7 {
		t.Status = sandbox.Pick(rng, next)
	}
	if t.ProjectID == DefaultProject {
		t.Content[strconv.Itoa(bnColHandler)] = sandbox.Pick(rng, bnHandlers)
		key := strconv.Itoa(bnColResult)
		old := t.Content[key]
		for t.Content[key] == old {
			t.Content[key] = sandbox.Pick(rng, bnResults)
		}
		t.Modified = at
		return
	}
	// Another project: rewrite one text column, if it has any.
	var texts []string
	for _, c := range s.project(t.ProjectID).Columns {
		if c.BehaviorType == bnKindText || c.BehaviorType == bnKindRich {
			texts = append(texts, strconv.FormatInt(c.ID, 10))
		}
	}
	if len(texts) > 0 {
		key := sandbox.Pick(rng, texts)
		t.Content[key] = sandbox.Pick(rng, bnRemarks) + "（" + sandbox.FormatCST(at)[5:16] + "）"
	}
	t.Modified = at
}

// bnNormalize gives a value the types the sandbox stores: JSON's, with
// integral numbers as int64 and other numbers as float64.
func bnNormalize(v any) any {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("sandbox: banniu value %v: %v", v, err)) // test data: a bug in the caller
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var out any
	if err := dec.Decode(&out); err != nil {
		panic(fmt.Sprintf("sandbox: banniu value %v: %v", v, err))
	}
	return bnNumbers(out)
}

func bnNumbers(v any) any {
	switch x := v.(type) {
	case json.Number:
		if n, err := x.Int64(); err == nil {
			return n
		}
		f, _ := x.Float64()
		return f
	case []any:
		for i := range x {
			x[i] = bnNumbers(x[i])
		}
	case map[string]any:
		for k := range x {
			x[k] = bnNumbers(x[k])
		}
	}
	return v
}

// bnText renders a value the way a search compares it.
func bnText(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case int64:
		return strconv.FormatInt(x, 10)
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case json.Number:
		return x.String()
	case []any:
		parts := make([]string, len(x))
		for i := range x {
			parts[i] = bnText(x[i])
		}
		return strings.Join(parts, ",")
	}
	return fmt.Sprint(v)
}
