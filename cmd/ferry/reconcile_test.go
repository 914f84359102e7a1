package main

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/ferry-data/ferry/internal/sandbox"
	"github.com/ferry-data/ferry/producers/wdt/wdtsandbox"
)

// TestReconcileReportsAndRepairs deletes rows from the refunds table,
// rolls others back and adds one the vendor never had, then runs ferry
// reconcile: it reports exactly those rows and exits non-zero; with
// --repair (and the flow set to tombstone deletes) it re-polls the windows
// that differ, deletes the row gone upstream, and the table equals the
// vendor again.
func TestReconcileReportsAndRepairs(t *testing.T) {
	h, sb := newWDT(t, wdtsandbox.Config{Records: 400, Settings: sandbox.Settings{Seed: 12}})
	h.startConsumers()
	h.settle(0, sb)
	assertRefunds(h, sb)

	ids := func(q string) []string {
		rows, err := h.db.QueryContext(h.ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var out []string
		for rows.Next() {
			var id string
			rows.Scan(&id)
			out = append(out, id)
		}
		return out
	}
	gone := ids("SELECT refund_id FROM aftersales_refund_refund_search ORDER BY refund_id LIMIT 3")
	stale := ids("SELECT refund_id FROM aftersales_refund_refund_search ORDER BY refund_id DESC LIMIT 2")
	for _, q := range []string{
		"DELETE FROM aftersales_refund_refund_search WHERE refund_id IN (" + strings.Join(gone, ",") + ")",
		"UPDATE aftersales_refund_refund_search SET modified = modified - INTERVAL 1 DAY, status = 0 WHERE refund_id IN (" + strings.Join(stale, ",") + ")",
		"INSERT INTO aftersales_refund_refund_search (refund_id, modified) VALUES (999999999, '2024-02-29 12:00:00')",
	} {
		if _, err := h.db.ExecContext(h.ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	slices.Sort(gone)
	slices.Sort(stale)

	h.pipe.cfg.Command, h.pipe.cfg.From, h.pipe.cfg.To = "reconcile", "2024-02-27 00:00:00", "0s"
	var out bytes.Buffer
	if err := reconcileFlows(h.ctx, h.pipe, &out); !errors.Is(err, errDifferences) {
		t.Fatalf("reconcile = %v, want differences:\n%s", err, &out)
	}
	report := out.String()
	for _, want := range []string{fmt.Sprintf("missing: %v", gone), fmt.Sprintf("stale: %v", stale), "gone upstream: [999999999]"} {
		if !strings.Contains(report, want) {
			t.Fatalf("report lacks %q:\n%s", want, report)
		}
	}
	if strings.Count(report, "missing:")+strings.Count(report, "stale:")+strings.Count(report, "gone upstream:") != 3 {
		t.Fatalf("report names more than the changed rows:\n%s", report)
	}

	h.pipe.cfg.Repair = true
	h.flow.Target.Deletes = "tombstone"
	out.Reset()
	if err := reconcileFlows(h.ctx, h.pipe, &out); err != nil {
		t.Fatalf("reconcile --repair = %v:\n%s", err, &out)
	}
	if !strings.HasSuffix(strings.TrimSpace(out.String()), "clean") {
		t.Fatalf("after repair:\n%s", &out)
	}
	assertRefunds(h, sb)
}
