package flows_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/ferry-data/ferry/flows"
)

var cst = time.FixedZone("CST", 8*3600)

// vars is the window 2024-01-01 00:00 → 2024-01-02 12:30 Beijing time.
var vars = flows.Vars{
	LastSync:  time.Date(2024, 1, 1, 0, 0, 0, 0, cst),
	Current:   time.Date(2024, 1, 2, 12, 30, 0, 0, cst),
	Zone:      cst,
	PageSize:  50,
	StartPage: 1,
	Record:    map[string]any{"onlineTradeNo": "TB123", "amount": 12.5},
}

// flowWith returns a flow whose source and target requests hold the given
// YAML lines.
func flowWith(t *testing.T, source, target string) (*flows.Flow, error) {
	t.Helper()
	doc := fmt.Sprintf(`name: demo
source:
  vendor: jackyun
  api: jackyun.tradenotsensitiveinfos.list.get
  id: tradeNo
  pagination: {pageSize: 100}
  request:
%s
  window: {max: 168h}
  topic: raw.demo
  rate: 10/s
processor:
  entity: trade_status
  zone: Asia/Shanghai
target:
  kind: banniu
  api: task.update
  rate: 10/s
  request:
%s
`, source, target)
	return flows.Parse("demo.yaml", []byte(doc))
}

func TestRequestValues(t *testing.T) {
	for _, tc := range []struct {
		line string
		want any
	}{
		{`    - {field: a, value: "{{LAST_SYNC_TIME|datetime}}"}`, "2024-01-01 00:00:00"},
		{`    - {field: a, value: "{PAGINATION_PAGE_SIZE}"}`, "50"},
		{`    - {field: a, value: "{PAGINATION_START_PAGE}", type: int}`, int64(1)},
		{`    - {field: a, value: "_function {CURRENT_TIME}*1000"}`, int64(1704169800000)},
		{`    - {field: a, value: "_function from_unixtime(({LAST_SYNC_TIME}-86400),'%Y-%m-%d %H:%i:%s')"}`, "2023-12-31 00:00:00"},
		{`    - {field: a, value: "92"}`, "92"},
		{`    - {field: a, value: "92", type: int}`, int64(92)},
		{`    - {field: a, value: 78534}`, 78534},
		{`    - {field: a, value: ""}`, nil},
		{`    - {field: a, type: string}`, nil},
		{`    - {field: a, value: "SO1, SO2", parser: {name: StringToArray, params: ","}}`, []string{"SO1", "SO2"}},
		{`    - {field: a, value: "", parser: {name: StringToArray, params: ","}}`, nil},
		{"    - field: a\n      children:\n        - {field: \"78538\", type: int, value: 78534}\n        - {field: note, value: x}", map[string]any{"78538": int64(78534), "note": "x"}},
	} {
		f, err := flowWith(t, tc.line, `    - {field: x, value: "1"}`)
		if err != nil {
			t.Fatalf("%s: %v", tc.line, err)
		}
		got, err := f.Source.Request[0].Eval(vars)
		if err != nil {
			t.Fatalf("%s: %v", tc.line, err)
		}
		if fmt.Sprintf("%#v", got) != fmt.Sprintf("%#v", tc.want) {
			t.Errorf("%s: got %#v, want %#v", tc.line, got, tc.want)
		}
	}
}

func TestTargetValuesAndLookup(t *testing.T) {
	f, err := flowWith(t, `    - {field: a, value: "1"}`, `    - {field: note, value: "trade {onlineTradeNo} paid {amount}"}
    - field: task_id
      type: int
      value: '_mongoQuery 73f95f22 findField=id where={"content.77213":{"$eq":"{onlineTradeNo}"}}'`)
	if err != nil {
		t.Fatal(err)
	}
	got, err := f.Target.Request[0].Eval(vars)
	if err != nil || got != "trade TB123 paid 12.5" {
		t.Fatalf("note = %v, %v", got, err)
	}
	l := f.Target.Request[1].Lookup()
	if l == nil || l.Find != "id" || l.Column != "content.77213" || l.Value.Render(vars) != "TB123" {
		t.Fatalf("lookup %+v", l)
	}
}

func TestBadValuesRefusedWithLine(t *testing.T) {
	for _, tc := range []struct{ source, target, want string }{
		{`    - {field: a, value: "_function from_unixtime(({LAST_SYNC_TIME}-86400"}`, `    - {field: x, value: "1"}`, "demo.yaml:8: source.request[0].value: expression"},
		{`    - {field: a, value: "_function {LAST_SYNC}*1000"}`, `    - {field: x, value: "1"}`, "unknown variable LAST_SYNC"},
		{`    - {field: a, value: "{onlineTradeNo}"}`, `    - {field: x, value: "1"}`, "demo.yaml:8: source.request[0].value: unknown variable onlineTradeNo"},
		{`    - {field: a, value: "x", parser: Split}`, `    - {field: x, value: "1"}`, "unknown parser \"Split\""},
		{`    - {field: a, value: "_mongoQuery c findField=id where={}"}`, `    - {field: x, value: "1"}`, "a lookup only works in a target block"},
		{`    - {field: a, value: "1"}`, `    - {field: x, value: "_mongoQuery c findField=id where={\"a\":{\"$gt\":1}}"}`, "demo.yaml:20: target.request[0].value"},
	} {
		_, err := flowWith(t, tc.source, tc.target)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s | %s: error %v, want %q", tc.source, tc.target, err, tc.want)
		}
	}
}

func TestFullScanMayNotUseTheWindow(t *testing.T) {
	doc := strings.Replace(good, "  window:\n    max: 720h\n", "", 1)
	_, err := flows.Parse("demo.yaml", []byte(doc))
	if err == nil || !strings.Contains(err.Error(), "refers to the window, but the flow has no source.window") {
		t.Fatalf("error %v", err)
	}
}

func TestProcessorExpressions(t *testing.T) {
	doc := strings.Replace(good, "  entity: refund\n", `  entity: refund
  zone: Asia/Shanghai
  filter: status in [6000, 9090]
  map:
    day: date_format(io_date, '%Y%m%d')
    amount: sum(map(items, .qty * .price))
`, 1)
	f, err := flows.Parse("demo.yaml", []byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	raw := map[string]any{"status": 6000, "io_date": "2023-10-01 23:30:00", "items": []any{
		map[string]any{"qty": 2, "price": 50.25}, map[string]any{"qty": 1, "price": 50.25}}}
	if keep, err := f.Processor.Keep(raw); err != nil || !keep {
		t.Fatalf("keep = %v, %v", keep, err)
	}
	if keep, _ := f.Processor.Keep(map[string]any{"status": 1010}); keep {
		t.Fatal("kept status 1010")
	}
	if v, ok, err := f.Processor.Mapped("day", raw); !ok || err != nil || v != "20231001" {
		t.Fatalf("day = %v %v %v", v, ok, err)
	}
	if v, _, _ := f.Processor.Mapped("amount", raw); v != 150.75 {
		t.Fatalf("amount = %v", v)
	}
	if _, ok, _ := f.Processor.Mapped("other", raw); ok {
		t.Fatal("an unmapped field was mapped")
	}
	bad := strings.Replace(doc, "sum(map(items, .qty * .price))", "sum(map(items, .qty *))", 1)
	if _, err := flows.Parse("demo.yaml", []byte(bad)); err == nil || !strings.Contains(err.Error(), "processor.map.amount") {
		t.Fatalf("bad map expression: %v", err)
	}
}
