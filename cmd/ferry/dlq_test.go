package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/ferry-data/ferry/internal/bus"
)

// TestDeadLetterReplay: a flow whose map expression fails on every refund
// dead-letters them; ferry dlq list groups them by reason; after the flow
// is fixed, ferry dlq replay sends them back to the raw topic, and the
// processor and the sink put them in the table. A second replay sends
// nothing and changes nothing.
func TestDeadLetterReplay(t *testing.T) {
	r := newFlowRun(t, "wdt_refunds", nil, [2]string{"  zone: Asia/Shanghai\n\ntarget:", "  zone: Asia/Shanghai\n  map:\n    note_count: refund_no * 2\n\ntarget:"})
	ctx, brokers, db, f := r.ctx, r.brokers, r.db, r.flow
	ferry, drain := r.ferry, r.drain

	// The golden sample's refunds in the raw topic, as the producer
	// publishes them.
	if err := bus.EnsureTopics(ctx, brokers, nil, bus.Topic{Name: f.Source.Topic}); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join("..", "..", "processors", "testdata", "wdt_refunds.raw.json"))
	if err != nil {
		t.Fatal(err)
	}
	var samples []json.RawMessage
	if err := json.Unmarshal(data, &samples); err != nil {
		t.Fatal(err)
	}
	w := bus.NewWriter(brokers, nil)
	defer w.Close()
	var ids []string
	for _, raw := range samples {
		var refund struct {
			RefundID json.Number `json:"refund_id"`
		}
		if err := json.Unmarshal(raw, &refund); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, refund.RefundID.String())
		if err := w.WriteMessages(ctx, kafka.Message{Topic: f.Source.Topic, Key: []byte(refund.RefundID), Value: raw}); err != nil {
			t.Fatal(err)
		}
	}

	rows := func() string {
		t.Helper()
		var n int
		var sum string
		if err := db.QueryRowContext(ctx, "SELECT COUNT(*), COALESCE(SUM(refund_id), 0) FROM "+f.Target.Table).Scan(&n, &sum); err != nil &&
			!strings.Contains(err.Error(), "doesn't exist") {
			t.Fatal(err)
		}
		return fmt.Sprintf("%d rows, ids summing to %s", n, sum)
	}

	drain()
	if got := rows(); !strings.HasPrefix(got, "0 rows") {
		t.Fatalf("the broken flow wrote %s", got)
	}
	list := ferry("dlq", "list")
	if !strings.Contains(list, fmt.Sprintf("%d      %d    processor", len(ids), len(ids))) || !strings.Contains(list, "map note_count: invalid operation") {
		t.Fatalf("ferry dlq list:\n%s", list)
	}
	show := ferry("dlq", "show", "--key", ids[0])
	if strings.Count(show, "\n") != 1 || !strings.Contains(show, `"schema":"json"`) || !strings.Contains(show, `"refund_id":`+ids[0]) {
		t.Fatalf("ferry dlq show --key %s:\n%s", ids[0], show)
	}

	// The fix, then the replay.
	shipped, err := os.ReadFile(filepath.Join("..", "..", "flows", "wdt_refunds.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	r.write(shipped)
	replay := ferry("dlq", "replay")
	if !strings.Contains(replay, fmt.Sprintf("sent %d of %d selected dead letters; 0 were replayed before", len(ids), len(ids))) {
		t.Fatalf("ferry dlq replay:\n%s", replay)
	}
	drain()
	want := rows()
	if !strings.HasPrefix(want, fmt.Sprintf("%d rows", len(ids))) {
		t.Fatalf("after the replay the table holds %s", want)
	}
	canonical, err := bus.EndOffsets(ctx, brokers, f.CanonicalTopic())
	if err != nil {
		t.Fatal(err)
	}

	// Replaying again is harmless: nothing is sent, nothing changes.
	again := ferry("dlq", "replay")
	if !strings.Contains(again, fmt.Sprintf("sent 0 of %d selected dead letters; %d were replayed before", len(ids), len(ids))) {
		t.Fatalf("a second ferry dlq replay:\n%s", again)
	}
	drain()
	if got := rows(); got != want {
		t.Fatalf("after a second replay the table holds %s, want %s", got, want)
	}
	if now, _ := bus.EndOffsets(ctx, brokers, f.CanonicalTopic()); fmt.Sprint(now) != fmt.Sprint(canonical) {
		t.Fatalf("the canonical topic moved from %v to %v", canonical, now)
	}
	if list := ferry("dlq", "list"); !strings.Contains(list, fmt.Sprintf("%d      0    processor", len(ids))) {
		t.Fatalf("ferry dlq list after the replays:\n%s", list)
	}
}

// waitTopic waits until the topic exists (a role creates it as it starts).
func waitTopic(ctx context.Context, brokers []string, topic string) error {
	for {
		if _, err := bus.EndOffsets(ctx, brokers, topic); err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("topic %s never appeared", topic)
		case <-time.After(20 * time.Millisecond): // polling the broker's metadata
		}
	}
}
