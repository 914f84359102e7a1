package flows_test

import (
	"strings"
	"testing"
	"time"

	"github.com/ferry-data/ferry/flows"
)

func TestShippedFlows(t *testing.T) {
	fs, err := flows.Shipped()
	if err != nil {
		t.Fatal(err)
	}
	if len(fs) == 0 {
		t.Fatal("no shipped flows")
	}
	var f *flows.Flow
	for _, x := range fs {
		if x.Name == "wdt_refunds" {
			f = x
		}
	}
	if f == nil {
		t.Fatal("wdt_refunds not shipped")
	}
	if f.Source.API != "wdt.aftersales.refund.refund.search" || f.Source.ID != "refund_id" || f.Source.Pagination.PageSize != 50 {
		t.Fatalf("source: %+v", f.Source)
	}
	if f.Target.Table != "aftersales_refund_refund_search" || len(f.Target.Columns) != 39 || f.Target.Limit != 1000 {
		t.Fatalf("target: %s %d columns, limit %d", f.Target.Table, len(f.Target.Columns), f.Target.Limit)
	}
	if f.Target.Columns[0] != "refund_id" || f.Target.Columns[38] != "provider_refund_no" {
		t.Fatalf("columns %v", f.Target.Columns)
	}
	if f.Source.Window.Max.D() != 30*24*time.Hour {
		t.Fatalf("window max %v", f.Source.Window.Max.D())
	}
}

func TestRequestTemplates(t *testing.T) {
	cst := time.FixedZone("CST", 8*3600)
	v := flows.Vars{
		LastSync: time.Date(2024, 1, 1, 0, 0, 0, 0, cst),
		Current:  time.Date(2024, 1, 2, 12, 30, 0, 0, cst),
		Zone:     cst,
	}
	for _, tc := range []struct{ in, want string }{
		{"{{LAST_SYNC_TIME|datetime}}", "2024-01-01 00:00:00"},
		{"{{CURRENT_TIME|datetime}}", "2024-01-02 12:30:00"},
		{"{{ CURRENT_TIME | date }}", "2024-01-02"},
		{"{LAST_SYNC_TIME}", "1704038400"},
		{"{{LAST_SYNC_TIME|millis}}", "1704038400000"},
		{"Confirmed", "Confirmed"},
		{"from {LAST_SYNC_TIME} on", "from 1704038400 on"},
	} {
		tmpl, err := flows.ParseTemplate(tc.in)
		if err != nil {
			t.Fatalf("%q: %v", tc.in, err)
		}
		if got := tmpl.Render(v); got != tc.want {
			t.Errorf("%q rendered %q, want %q", tc.in, got, tc.want)
		}
	}
}

const good = `name: demo
source:
  vendor: wdt
  api: wdt.aftersales.refund.refund.search
  id: refund_id
  pagination:
    pageSize: 50
  request:
    - field: modified_from
      value: "{{LAST_SYNC_TIME|datetime}}"
  window:
    max: 720h
  topic: raw.demo
  rate: 1/s
processor:
  entity: refund
target:
  kind: mysql
  main_sql: REPLACE INTO t (refund_id, modified) VALUES (?, ?)
`

func TestBadFlowFiles(t *testing.T) {
	if _, err := flows.Parse("demo.yaml", []byte(good)); err != nil {
		t.Fatalf("good flow refused: %v", err)
	}
	for _, tc := range []struct {
		name, old, new, want string
	}{
		{"unknown vendor", "vendor: wdt", "vendor: nope", "demo.yaml:3: source.vendor: unknown vendor"},
		{"bad template", "{{LAST_SYNC_TIME|datetime}}", "{{LAST_SYNC|datetime}}", "demo.yaml:10: source.request[0].value: unknown variable LAST_SYNC"},
		{"bad filter", "{{LAST_SYNC_TIME|datetime}}", "{{LAST_SYNC_TIME|weekday}}", "demo.yaml:10: source.request[0].value: unknown filter"},
		{"bad duration", "max: 720h", "max: month", "demo.yaml: line 12"},
		{"bad rate", "rate: 1/s", "rate: fast", "demo.yaml: line 14"},
		{"unknown key", "  id: refund_id", "  idd: refund_id", "demo.yaml: line 5: field idd not found"},
		{"bad main_sql", "main_sql: REPLACE INTO", "main_sql: DELETE FROM", "demo.yaml:19: target.main_sql: want INSERT or REPLACE"},
		{"bad topic", "topic: raw.demo", "topic: raw demo", "demo.yaml:13: source.topic"},
		{"not yaml", "name: demo", "name: [demo", "demo.yaml: "},
		{"bad deletes", "  kind: mysql", "  kind: mysql\n  deletes: erase", "demo.yaml:19: target.deletes: \"erase\": want report or tombstone"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := flows.Parse("demo.yaml", []byte(strings.Replace(good, tc.old, tc.new, 1)))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want it to contain %q", err, tc.want)
			}
		})
	}
}
