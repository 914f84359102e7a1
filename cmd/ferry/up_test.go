package main

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestUpOnceOnEmbeddedDefaults runs the README's first command in-process:
// ferry up --once with no settings starts kfake, go-mysql-server and the
// five vendor sandboxes, syncs every shipped flow and prints the summary.
func TestUpOnceOnEmbeddedDefaults(t *testing.T) {
	cfg, err := parse([]string{"up", "--once", "--timeout", "3m"}, func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	var out bytes.Buffer
	progress := &syncBuffer{}
	cfg.Progress = progress // as if stderr were a terminal
	if err := run(ctx, cfg, &out, newTestLog(t, slog.LevelError)); err != nil {
		t.Fatal(err)
	}
	// The live progress line ends on the final count: every window
	// planned is done.
	last := progress.String()
	if i := strings.LastIndex(last, "\r"); i >= 0 {
		last = last[i+1:]
	}
	var done, planned int
	if _, err := fmt.Sscanf(last, "windows %d/%d", &done, &planned); err != nil || done != planned || done == 0 || !strings.HasSuffix(last, "\x1b[K\n") {
		t.Errorf("last progress line %q", last)
	}
	t.Logf("summary:\n%s", &out)
	// flow fetched published canonical duplicates filtered written deferred dead-lettered elapsed
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 6 || !strings.HasPrefix(strings.TrimSpace(lines[0]), "flow") {
		t.Fatalf("summary:\n%s", &out)
	}
	for _, l := range lines[1:] {
		f := strings.Fields(l)
		canonical, _ := strconv.Atoi(f[3])
		written, _ := strconv.Atoi(f[6])
		switch f[0] {
		case "wdt_refunds", "jst_shops", "jackyun_trades_banniu":
			if written == 0 {
				t.Errorf("%s wrote nothing: %s", f[0], l)
			}
		case "jst_orders", "kingdee_customers":
			if canonical == 0 {
				t.Errorf("%s published no canonical record: %s", f[0], l)
			}
		default:
			t.Errorf("unexpected flow: %s", l)
		}
	}
}
