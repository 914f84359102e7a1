package flows_test

import (
	"fmt"
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

// testVendors are the connectors of ferry's vendor table, as a binary
// hands them to the loader.
var testVendors = flows.Vendors{
	Sources:     []string{"jackyun", "jushuitan", "kingdee", "wdt"},
	Targets:     []string{"banniu"},
	APIPrefixes: map[string]string{"wdt.": "wdt", "jackyun.": "jackyun", "/jdy/": "kingdee", "/open/": "jushuitan"},
}

func TestBadFlowFiles(t *testing.T) {
	if _, err := flows.Parse("demo.yaml", []byte(good)); err != nil {
		t.Fatalf("good flow refused: %v", err)
	}
	for _, tc := range []struct {
		name, old, new, want string
	}{
		{"unknown vendor", "vendor: wdt", "vendor: nope", "demo.yaml:3: source.vendor: unknown vendor"},
		{"unknown target", "  kind: mysql", "  kind: crm\n  api: push\n  rate: 1/s", "demo.yaml:18: target.kind: unknown target \"crm\" (known: mysql, topic, banniu)"},
		{"not a vendor name", "vendor: wdt", "vendor: W D T", "demo.yaml:3: source.vendor: \"W D T\" is not a vendor name"},
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
			f, err := flows.Parse("demo.yaml", []byte(strings.Replace(good, tc.old, tc.new, 1)))
			if err == nil {
				err = f.CheckVendors(testVendors)
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want it to contain %q", err, tc.want)
			}
		})
	}
}

// seedFlow is a flow whose blocks are pasted from the seed documents as
// JSON (YAML reads JSON): seed 003's Kingdee request, with "$value$";
// seed 001's params and main_params; seed 004's limit as a string; no
// pagination; no zone.
const seedFlow = `name: pasted
source: {
  "vendor": "jushuitan",
  "api": "/open/shops/query",
  "effect": "QUERY",
  "id": "shop_id",
  "idCheck": true,
  "params": {
    "page": 1,
    "pageSize": 100
  },
  "request": [
    {"field": "page_size", "label": "每页显示条数,默认10", "type": "string", "describe": "每页显示条数,默认10", "$value$": "50"}
  ],
  "topic": "raw.pasted",
  "rate": "100/min"
}
processor:
  entity: shop
target: {
  "kind": "mysql",
  "main_sql": "REPLACE INTO shops (shop_id, shop_name) VALUES (:shop_id, :shop_name)",
  "limit": "1000",
  "main_params": {
    "field": "main_params",
    "children": [
      {"field": "shop_id", "value": "{shop_id}"},
      {"field": "shop_name", "value": "{shop_name}"}
    ]
  }
}
`

func TestSeedFormsAsWritten(t *testing.T) {
	f, err := flows.Parse("pasted.yaml", []byte(seedFlow))
	if err != nil {
		t.Fatalf("seed forms refused: %v", err)
	}
	var fields []string
	for _, r := range f.Source.Request {
		fields = append(fields, fmt.Sprintf("%s=%v", r.Field, r.Value))
	}
	if got := strings.Join(fields, " "); got != "page_size=50 page=1 pageSize=100" {
		t.Errorf("request fields %s: want $value$ read as the value, params appended", got)
	}
	if f.Source.Pagination.PageSize != 0 || f.Target.Limit != 1000 || f.Target.Mode != "replace" {
		t.Errorf("page size %d, limit %d, mode %s: want 0 (the vendor's), 1000 from \"1000\", replace from the verb",
			f.Source.Pagination.PageSize, f.Target.Limit, f.Target.Mode)
	}
	if len(f.Target.MainParams) != 2 || f.Processor.Zone.Loc().String() != "Asia/Shanghai" {
		t.Errorf("main_params %v, zone %v", f.Target.MainParams, f.Processor.Zone.Loc())
	}
	// Every translation and default is told, with its line; every seed key
	// ferry does not act on is warned of once.
	want := []string{
		"info pasted.yaml:2 source.pagination: no page size",
		"info pasted.yaml:8 source.params: read as request fields (page, pageSize)",
		"warn pasted.yaml:5 source.effect: seed key read, not acted on",
		"warn pasted.yaml:7 source.idCheck: seed key read, not acted on",
		"warn pasted.yaml:13 source.request[].label, describe: seed key read, not acted on: documentation only",
		"info pasted.yaml:19 processor: no zone: vendor times are read in Asia/Shanghai",
		"info pasted.yaml:13 source.request[0].$value$: read as the field's value",
		"info pasted.yaml:20 target: no zone: times are written in Asia/Shanghai",
		"info pasted.yaml:22 target.main_sql: REPLACE INTO: mode replace",
	}
	var got []string
	for _, n := range f.Notes {
		level := "info"
		if n.Warn {
			level = "warn"
		}
		got = append(got, fmt.Sprintf("%s pasted.yaml:%d %s: %s", level, n.Line, n.Path, n.Text))
	}
	if len(got) != len(want) {
		t.Errorf("notes:\n%s\nwant %d", strings.Join(got, "\n"), len(want))
	}
	for i := range min(len(got), len(want)) {
		if !strings.HasPrefix(got[i], want[i]) {
			t.Errorf("note %d: %s\nwant it to start %s", i, got[i], want[i])
		}
	}
}

func TestMainSQLRules(t *testing.T) {
	for _, tc := range []struct {
		name, old, new string
		mode, err      string // the mode chosen, or the error's start
	}{
		{"REPLACE means replace", "", "", "replace", ""},
		{"INSERT means upsert", "REPLACE INTO", "INSERT INTO", "upsert", ""},
		{"mode wins", "  kind: mysql", "  kind: mysql\n  mode: upsert", "upsert", ""},
		{"no VALUES", " VALUES (?, ?)", "", "replace", ""},
		{"named VALUES", "VALUES (?, ?)", "VALUES (:refund_id, :modified);", "replace", ""},
		{"VALUES shorter than the columns", "VALUES (?, ?)", "VALUES (?)", "",
			"demo.yaml:19: target.main_sql: VALUES has 1 values for 2 columns"},
		{"VALUES computing a column", "VALUES (?, ?)", "VALUES (?, NOW())", "",
			"demo.yaml:19: target.main_sql: VALUES writes NOW() into column modified"},
		{"VALUES swapping columns", "VALUES (?, ?)", "VALUES (:modified, :refund_id)", "",
			"demo.yaml:19: target.main_sql: VALUES writes :modified into column refund_id"},
		{"a column the schema lacks", "(refund_id, modified) VALUES (?, ?)", "(refund_id, modified, colour)", "",
			`demo.yaml:19: target.main_sql: column "colour" is not a field of refund`},
		{"no key column", "(refund_id, modified) VALUES (?, ?)", "(modified)", "",
			`demo.yaml:19: target.main_sql: the columns lack the key "refund_id"`},
		{"main_params renaming a column", "  kind: mysql", "  kind: mysql\n  main_params:\n    - {field: modified, value: '{created}'}", "",
			"demo.yaml:20: target.main_params.children[0].value: modified is written from the canonical field modified"},
		{"main_params in request", "  kind: mysql", "  kind: mysql\n  request:\n    - field: main_params\n      children: [{field: colour, value: '{colour}'}]", "",
			"demo.yaml:21: target.request[0].children[0]: column colour is not in main_sql's column list"},
		{"limit as a string", "  kind: mysql", "  kind: mysql\n  limit: \"500\"", "replace", ""},
		{"limit not a number", "  kind: mysql", "  kind: mysql\n  limit: \"lots\"", "", `demo.yaml: line 19: "lots" is not a whole number`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, err := flows.Parse("demo.yaml", []byte(strings.Replace(good, tc.old, tc.new, 1)))
			switch {
			case tc.err != "" && (err == nil || !strings.HasPrefix(err.Error(), tc.err)):
				t.Fatalf("error %v, want it to start %q", err, tc.err)
			case tc.err == "" && err != nil:
				t.Fatal(err)
			case tc.err == "" && f.Target.Mode != tc.mode:
				t.Fatalf("mode %s, want %s", f.Target.Mode, tc.mode)
			}
		})
	}
}

func TestZones(t *testing.T) {
	for _, tc := range []struct{ zone, want string }{
		{"", "Asia/Shanghai"},
		{"processor:\n  zone: UTC\n", "UTC"},
		{"processor:\n  zone: Asia/Tokyo\n", "Asia/Tokyo"},
	} {
		text := strings.Replace(good, "processor:\n", tc.zone+"  entity: refund\n#", 1)
		if tc.zone == "" {
			text = good
		}
		f, err := flows.Parse("demo.yaml", []byte(text))
		if err != nil {
			t.Fatalf("%q: %v", tc.zone, err)
		}
		if got := f.Processor.Zone.Loc().String(); got != tc.want {
			t.Errorf("zone %q: runs in %s, want %s", tc.zone, got, tc.want)
		}
	}
}

func TestTopicSettings(t *testing.T) {
	f, err := flows.Parse("demo.yaml", []byte(good+"topics:\n  partitions: \"12\"\n  replicationFactor: 3\n  minInsyncReplicas: 2\n"))
	if err != nil {
		t.Fatal(err)
	}
	if f.Topics.Partitions != 12 || f.Topics.ReplicationFactor != 3 || f.Topics.MinInsyncReplicas != 2 {
		t.Errorf("topics %+v", f.Topics)
	}
	if _, err := flows.Parse("demo.yaml", []byte(good+"topics:\n  partitions: -1\n")); err == nil || !strings.Contains(err.Error(), "must not be negative") {
		t.Errorf("negative partitions: %v", err)
	}
}

// TestInjectionShapedNamesRefused: names from a flow file that reach SQL
// or Kafka (the table, the columns, the flow, the topic) are refused at
// load, with file, line and why, when they are anything but names.
func TestInjectionShapedNamesRefused(t *testing.T) {
	for _, tc := range []struct {
		name, old, new, want string
	}{
		{"table with a statement", "  kind: mysql", "  kind: mysql\n  table: \"t; DROP TABLE users\"", `demo.yaml:19: target.table: "t; DROP TABLE users" is not a table name`},
		{"table with a backtick", "  kind: mysql", "  kind: mysql\n  table: \"t`\"", "is not a table name"},
		{"table too long", "  kind: mysql", "  kind: mysql\n  table: " + strings.Repeat("t", 65), "is not a table name"},
		{"main_sql table quoted open", "REPLACE INTO t (", "REPLACE INTO `t; DROP TABLE users; -- (", "demo.yaml:19: target.main_sql: want INSERT or REPLACE"},
		{"column closing its quote", "(refund_id, modified)", "(refund_id, `modified`; DROP TABLE t; --`)", `demo.yaml:19: target.main_sql: "modified` + "`" + `; DROP TABLE t; --" is not a column name`},
		{"column with a comment", "(refund_id, modified)", "(refund_id, modified/**/)", `"modified/**/" is not a column name`},
		{"flow name with a quote", "name: demo", "name: \"demo'; --\"", "demo.yaml:1: name"},
		{"topic with a space", "topic: raw.demo", "topic: \"raw.demo; rm -rf\"", "demo.yaml:13: source.topic"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := flows.Parse("demo.yaml", []byte(strings.Replace(good, tc.old, tc.new, 1)))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want it to contain %q", err, tc.want)
			}
		})
	}
}
