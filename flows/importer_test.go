package flows_test

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/ferry-data/ferry/flows"
)

// essence is what a flow does, without its names, documentation and the
// way it was written.
func essence(f *flows.Flow) map[string]any {
	var req func([]flows.RequestField) []string
	req = func(rs []flows.RequestField) []string {
		var out []string
		for _, r := range rs {
			out = append(out, fmt.Sprintf("%s=%v parser=%v %v", r.Field, r.Value, r.Parser, req(r.Children)))
		}
		return out
	}
	s, p, t := f.Source, f.Processor, f.Target
	return map[string]any{
		"source": fmt.Sprintf("%s %s %s id=%s page=%d window=%+v topic=%s rate=%v",
			s.Vendor, s.API, s.Method, s.ID, s.Pagination.PageSize, s.Window, s.Topic, s.Rate.Limit),
		"request":   req(s.Request),
		"processor": fmt.Sprintf("%s zone=%v filter=%q map=%v", p.Entity, p.Zone.Loc(), p.Filter, p.Map),
		"target": fmt.Sprintf("%s table=%s mode=%s zone=%v limit=%d columns=%v main_params=%v api=%s rate=%v giveUp=%v deletes=%s",
			t.Kind, t.Table, t.Mode, t.Zone.Loc(), t.Limit, t.Columns, req(t.MainParams), t.API, t.Rate.Limit, t.GiveUp, t.Deletes),
		"target.request": req(t.Request),
	}
}

// TestImportSeeds imports the metadata blocks of the five seed documents
// and finds flows that do what the shipped flows do.
func TestImportSeeds(t *testing.T) {
	for _, tc := range []struct {
		file, shipped string
		changes       []string // each a change the import must report
	}{
		{"000_jst_orders.json", "jst_orders", []string{
			"source.vendor: jushuitan, as the shipped flow jst_orders",
			"source.window: ferry's windows",
			"target.kind: topic",
			"processor: ferry's mapping of orders.out.simple.query to canonical order",
		}},
		{"001_jst_shops.json", "jst_shops", []string{
			"source.vendor: jushuitan, from the form",
			"source.id: shop_id",
			"source.pagination: from the request's paging fields (page_size 100, page_index 1)",
			"target.kind: mysql",
		}},
		{"002_jackyun_trades_banniu.json", "jackyun_trades_banniu", []string{
			`source.params: set aside modified_begin: "2023-09-01 00:00:00"`,
			`source.params: set aside modified_end: "2023-09-07 23:59:59"`,
			`source.params: set aside tradeNo: "123456,789012"`,
			"source.pagination: from the request's paging fields (pageSize 100, pageIndex 0)",
			"target.kind: banniu: the target api task.update",
			"target.giveUp: 24h",
		}},
		{"003_kingdee_customers.json", "kingdee_customers", []string{
			"source.pagination: from the request's paging fields (page_size 50, page 1)",
			"target.kind: topic: the seed's target writes nothing (写入空操作)",
		}},
		{"004_wdt_refunds.yaml", "wdt_refunds", []string{
			"source.id: refund_id",
			"target.main_sql: the seed elides the column list",
			"target.mode: upsert, from the shipped flow wdt_refunds instead of main_sql's REPLACE INTO",
		}},
	} {
		t.Run(tc.shipped, func(t *testing.T) {
			im, _ := importSeed(t, filepath.Join("testdata", "seeds", tc.file))
			if im.Err != nil {
				t.Fatalf("the imported flow does not load: %v\n%s", im.Err, im.YAML)
			}
			want, err := flows.Named(tc.shipped)
			if err != nil {
				t.Fatal(err)
			}
			got, exp := essence(im.Flow), essence(want)
			for k := range exp {
				if !reflect.DeepEqual(got[k], exp[k]) {
					t.Errorf("%s differs from the shipped flow:\n got  %v\n want %v", k, got[k], exp[k])
				}
			}
			var report []string
			for _, c := range im.Changes {
				if c.Line == 0 {
					t.Errorf("change without a line: %+v", c)
				}
				report = append(report, c.Path+": "+c.Text)
			}
			all := strings.Join(report, "\n")
			for _, w := range tc.changes {
				if !strings.Contains(all, w) {
					t.Errorf("no change %q in:\n%s", w, all)
				}
			}
			if t.Failed() {
				t.Logf("flow file:\n%s", im.YAML)
			}
		})
	}
}

// TestImportKeepsEveryKey checks that each key of a seed's blocks is in
// the flow file, except the values an example set aside, which are kept
// as a comment.
func TestImportKeepsEveryKey(t *testing.T) {
	paths, _ := filepath.Glob(filepath.Join("testdata", "seeds", "*"))
	for _, path := range paths {
		im, data := importSeed(t, path)
		for _, key := range seedKeys(t, data) {
			if !strings.Contains(string(im.YAML), key) {
				t.Errorf("%s: key %q is not in the flow file:\n%s", path, key, im.YAML)
			}
		}
	}
}

func importSeed(t *testing.T, path string) (*flows.Imported, []byte) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	im, err := flows.Import(path, "imported.yaml", data, testVendors)
	if err != nil {
		t.Fatal(err)
	}
	return im, data
}

func seedKeys(t *testing.T, data []byte) []string {
	t.Helper()
	var v any
	if err := yamlUnmarshal(data, &v); err != nil {
		t.Fatal(err)
	}
	var keys []string
	var walk func(any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, x := range v {
				keys = append(keys, k)
				walk(x)
			}
		case []any:
			for _, x := range v {
				walk(x)
			}
		}
	}
	walk(v)
	return keys
}

func TestImportRefuses(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"no source", `{"target": {}}`, "no source block"},
		{"unknown block", "source: {api: wdt.x}\nsinks: {}", "x.json:2: sinks: unknown block"},
		{"unknown vendor", `{"source": {"api": "youzan.trades.sold.get"}}`, `cannot tell its vendor`},
		{"unknown target", `{"source": {"api": "wdt.aftersales.refund.refund.search"}, "target": {"api": "crm.push"}}`, `target.api "crm.push": ferry has no writer for it`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := flows.Import("x.json", "x.yaml", []byte(tc.in), testVendors)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want %q", err, tc.want)
			}
		})
	}
}

// An API ferry has no flow of yet imports with the vendor's settings, and
// the flow says what is left to write.
func TestImportNewAPI(t *testing.T) {
	in := `{"source": {"api": "wdt.trade.query", "method": "POST", "id": "trade_id",
	  "request": [{"field": "start_time", "value": "{{LAST_SYNC_TIME|datetime}}"}, {"field": "page_size", "value": "100"}]},
	  "target": {"api": "写入空操作"}}`
	im, err := flows.Import("trades.json", "trades.yaml", []byte(in), testVendors)
	if err != nil {
		t.Fatal(err)
	}
	if im.Name != "trades" {
		t.Errorf("name %q", im.Name)
	}
	y := string(im.YAML)
	for _, w := range []string{"topic: raw.wdt.trade_query", "entity: trade_query", "rate: 1/s", "max: 720h", "pageSize: 100"} {
		if !strings.Contains(y, w) {
			t.Errorf("no %q in:\n%s", w, y)
		}
	}
	if im.Err != nil {
		t.Fatalf("does not load: %v\n%s", im.Err, y)
	}
}

func yamlUnmarshal(data []byte, v any) error { return yaml.Unmarshal(data, v) }
