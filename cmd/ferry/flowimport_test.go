package main

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ferry-data/ferry/flows"
)

// TestFlowImport imports seed 000 as a new user would, and finds a flow
// file that loads, and a report with the import's changes, the loader's
// notes and the Jushuitan rules ferry follows over the seed's metadata.
func TestFlowImport(t *testing.T) {
	out := filepath.Join(t.TempDir(), "orders.yaml")
	cfg, err := parse([]string{"flow", "import", "../../flows/testdata/seeds/000_jst_orders.json", "-o", out}, func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	var report bytes.Buffer
	if err := run(context.Background(), cfg, &report, slog.New(slog.DiscardHandler)); err != nil {
		t.Fatalf("%v\n%s", err, &report)
	}
	f, err := flows.Load(out)
	if err != nil {
		t.Fatal(err)
	}
	if f.Name != "jst_orders" || f.Processor.Entity != "order" {
		t.Errorf("flow %s of %s", f.Name, f.Processor.Entity)
	}
	for _, want := range []string{
		"flow jst_orders from ../../flows/testdata/seeds/000_jst_orders.json, written to " + out,
		"what the import added or changed:\n  line 8: source.vendor: jushuitan",
		"what the loader notes:\n",
		"source.idCheck: seed key read, not acted on",
		"the vendor's rules ferry follows at start:\n",
		`msg="flow asks for larger pages than Jushuitan serves; using Jushuitan's maximum" flow=jst_orders flow_page_size=100 page_size=50`,
		"path=/open/orders/out/simple/query",
	} {
		if !strings.Contains(report.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, &report)
		}
	}
}

// A scheme whose windows are longer than its vendor accepts is written,
// and the report says why it does not load.
func TestFlowImportVendorRefuses(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "orders.yaml")
	seed := `source:
  api: /open/orders/out/simple/query
  id: o_id
  request:
    - {field: modified_begin, value: "{{LAST_SYNC_TIME|datetime}}"}
  window: {max: 720h}
target: {}
`
	if err := os.WriteFile(in, []byte(seed), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "flow.yaml")
	var report bytes.Buffer
	err := importFlow(Config{Import: in, ImportOut: out}, &report)
	if !errors.Is(err, errNotLoading) {
		t.Fatalf("err %v\n%s", err, &report)
	}
	if !strings.Contains(report.String(), "source.window.max 720h0m0s exceeds the 168h0m0s Jushuitan accepts") {
		t.Errorf("report:\n%s", &report)
	}
	if _, err := os.Stat(out); err != nil {
		t.Errorf("the flow file was not written: %v", err)
	}
}
