package main

import (
	"bytes"
	"context"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/ferry-data/ferry/internal/sandbox"
	"github.com/ferry-data/ferry/producers/wdt/wdtsandbox"
)

// TestRebuildWhileLive rebuilds the WDT refunds table from its canonical
// topic while the producer keeps polling, the sandbox keeps changing
// records and the live sink keeps writing. A reader counts the table's
// rows without pause the whole time: it never sees an error or fewer rows
// than before the rebuild. After the swap the table equals the sandbox's
// truth, and with --keep the old table is there.
func TestRebuildWhileLive(t *testing.T) {
	h, sb := newWDT(t, wdtsandbox.Config{Records: 1200, Settings: sandbox.Settings{Seed: 23, MutationsPerSecond: churning.mutations, CreationsPerSecond: churning.creations, MutationsPerCall: churning.perCall}})
	h.startConsumers()
	h.churn(2, 45*time.Second)
	if err := drained(h.ctx, h.pipe.cfg.Brokers, h.flow); err != nil {
		t.Fatal(err)
	}
	table := h.flow.Target.Table
	count := func() (int, error) {
		var n int
		err := h.db.QueryRowContext(h.ctx, "SELECT COUNT(*) FROM "+table).Scan(&n)
		return n, err
	}
	before, err := count()
	if err != nil || before == 0 {
		t.Fatalf("%d rows before the rebuild (%v)", before, err)
	}

	stop, read := make(chan struct{}), make(chan error, 1)
	least, reads := before, 0
	go func() {
		for {
			select {
			case <-stop:
				read <- nil
				return
			default:
			}
			n, err := count()
			if err != nil {
				read <- err
				return
			}
			reads++
			least = min(least, n)
		}
	}()

	cfg := h.pipe.cfg
	cfg.RebuildKeep = true
	rp := &pipeline{cfg: cfg, flows: h.pipe.flows, log: h.pipe.log}
	t.Cleanup(rp.close)
	var out bytes.Buffer
	done := make(chan error, 1)
	// The rebuild begins in the middle of a producer pass, which goes on,
	// as does the live sink.
	at := h.calls.Load() + 2
	h.whenCalled(func(n int64) {
		if n == at {
			go func() { done <- rebuildFlow(h.ctx, rp, &out) }()
		}
	})
	h.churn(3, 45*time.Second)
	h.whenCalled(nil)
	if err := <-done; err != nil {
		t.Fatalf("rebuild: %v\n%s", err, &out)
	}
	close(stop)
	if err := <-read; err != nil {
		t.Fatalf("a reader saw an error during the rebuild: %v", err)
	}
	if least < before {
		t.Fatalf("a reader saw %d rows during the rebuild, fewer than the %d before", least, before)
	}
	t.Logf("rebuild report:\n%s(%d reads during the rebuild, never fewer than %d rows)", &out, reads, before)
	if !strings.Contains(out.String(), "swapped: "+table+" is the rebuilt table") {
		t.Fatalf("report:\n%s", &out)
	}

	h.settle(0, sb)
	assertRefunds(h, sb)
	var kept int
	if err := h.db.QueryRowContext(h.ctx, "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME LIKE ?",
		table+`\_\_2%`).Scan(&kept); err != nil || kept != 1 {
		t.Fatalf("kept old tables: %d (%v)", kept, err)
	}
	if err := h.db.QueryRowContext(context.Background(), "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ?",
		table+"__rebuild").Scan(&kept); err != nil || kept != 0 {
		t.Fatalf("the shadow table is still there (%v)", err)
	}
}

// cancelOnWrite cancels a context at the first line written to it.
type cancelOnWrite struct {
	cancel context.CancelFunc
	out    *bytes.Buffer
}

func (w cancelOnWrite) Write(b []byte) (int, error) {
	w.out.Write(b)
	w.cancel()
	return len(b), nil
}

// TestRebuildResumeAndAbandon interrupts a rebuild once its shadow table
// exists: abandoning it drops the shadow and leaves the live table as it
// was; an interrupted rebuild run again resumes and swaps.
func TestRebuildResumeAndAbandon(t *testing.T) {
	h, sb := newWDT(t, wdtsandbox.Config{Records: 400, Settings: sandbox.Settings{Seed: 29}})
	h.startConsumers()
	h.churn(1, 45*time.Second)
	if err := drained(h.ctx, h.pipe.cfg.Brokers, h.flow); err != nil {
		t.Fatal(err)
	}
	table := h.flow.Target.Table
	exists := func(name string) bool {
		var n int
		if err := h.db.QueryRowContext(h.ctx, "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ?", name).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n == 1
	}
	rebuildWith := func(abandon, interrupt bool) string {
		cfg := h.pipe.cfg
		cfg.RebuildAbandon = abandon
		rp := &pipeline{cfg: cfg, flows: h.pipe.flows, log: h.pipe.log}
		defer rp.close()
		ctx, cancel := context.WithCancel(h.ctx)
		defer cancel()
		var out bytes.Buffer
		w := io.Writer(&out)
		if interrupt {
			w = cancelOnWrite{cancel, &out}
		}
		err := rebuildFlow(ctx, rp, w)
		if interrupt != (err != nil) {
			t.Fatalf("rebuild (interrupted %v): %v\n%s", interrupt, err, &out)
		}
		return out.String()
	}
	var before int
	h.db.QueryRowContext(h.ctx, "SELECT COUNT(*) FROM "+table).Scan(&before)

	rebuildWith(false, true)
	if !exists(table + "__rebuild") {
		t.Fatal("no shadow table after the interrupted rebuild")
	}
	if out := rebuildWith(true, false); !strings.Contains(out, "abandoned") || exists(table+"__rebuild") {
		t.Fatalf("abandon: %s", out)
	}
	var after int
	if h.db.QueryRowContext(h.ctx, "SELECT COUNT(*) FROM "+table).Scan(&after); after != before {
		t.Fatalf("the live table went from %d to %d rows", before, after)
	}

	rebuildWith(false, true)
	out := rebuildWith(false, false)
	if !strings.Contains(out, "from where the interrupted rebuild stopped") || !strings.Contains(out, "swapped") {
		t.Fatalf("resume:\n%s", out)
	}
	h.settle(0, sb)
	assertRefunds(h, sb)
}
