package main

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"

	"github.com/ferry-data/ferry/flows"
	"github.com/ferry-data/ferry/internal/deadletter"
	"github.com/ferry-data/ferry/sinks"
)

// TestTopicsListsEveryTopic: ferry topics lists each topic every shipped
// flow uses, and ferry's own, once, with the settings ferry creates it
// with.
func TestTopicsListsEveryTopic(t *testing.T) {
	cfg, err := parse([]string{"topics", "--partitions", "12", "--replication-factor", "3"}, func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := run(context.Background(), cfg, &out, newTestLog(t, slog.LevelError)); err != nil {
		t.Fatal(err)
	}
	rows := map[string]string{}
	for _, l := range strings.Split(strings.TrimSpace(out.String()), "\n")[1:] {
		name, rest, _ := strings.Cut(l, " ")
		if _, dup := rows[name]; dup {
			t.Errorf("%s listed twice", name)
		}
		rows[name] = strings.Join(strings.Fields(rest), " ")
	}
	fs, err := flows.Shipped()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"ferry.leases":      "1 3",
		"ferry.checkpoints": "12 3 cleanup.policy=compact",
		"ferry.reconcile":   "1 3 cleanup.policy=compact",
	}
	for _, f := range fs {
		want[f.Source.Topic] = "12 3"
		want[f.CanonicalTopic()] = "12 3 cleanup.policy=compact delete.retention.ms=604800000"
		want[f.DeadLetterTopic()] = "12 3"
		want[f.DedupeTopic()] = "12 3 cleanup.policy=compact"
		want[deadletter.ReplayTopic(f)] = "1 3 cleanup.policy=compact"
		if f.Target.Vendor() {
			want[sinks.RetryTopic(f)] = "12 3"
		}
	}
	for name, w := range want {
		if rows[name] != w {
			t.Errorf("%s: %q, want %q", name, rows[name], w)
		}
	}
	if len(rows) != len(want) {
		t.Errorf("%d topics listed, want %d:\n%s", len(rows), len(want), &out)
	}
}
