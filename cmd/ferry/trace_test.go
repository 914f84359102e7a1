package main

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/sr/srfake"

	"github.com/ferry-data/ferry/internal/bus"
	"github.com/ferry-data/ferry/internal/checkpoint"
	"github.com/ferry-data/ferry/internal/sandbox"
	"github.com/ferry-data/ferry/internal/vendortest"
	"github.com/ferry-data/ferry/producers/wdt/wdtsandbox"
)

var updateTrace = flag.Bool("trace.update", false, "TestTraceGolden: rewrite the golden files")

// TestTraceGolden follows five refunds of a WDT flow that filters out
// status 5, through a processor and a sink run over them, and compares
// what ferry trace prints with golden files: one that went through (two
// versions), one fetched twice at the same version (dropped as a
// duplicate), one filtered, one dead-lettered (a stamp that is no time)
// and one never fetched. The canonical records are in single-object
// encoding; TestTraceGoldenWithARegistry has them in a registry's wire
// format, and the same traces.
func TestTraceGolden(t *testing.T) { traceGolden(t, false) }

func TestTraceGoldenWithARegistry(t *testing.T) { traceGolden(t, true) }

func traceGolden(t *testing.T, withRegistry bool) {
	env := map[string]string{}
	if withRegistry {
		fake := srfake.New()
		defer fake.Close()
		env["FERRY_SCHEMA_REGISTRY_URL"] = fake.URL()
	}
	r := newFlowRun(t, "wdt_refunds", env, [2]string{"  zone: Asia/Shanghai\n\ntarget:", "  zone: Asia/Shanghai\n  filter: status != 5\n\ntarget:"})
	ctx, brokers, f := r.ctx, r.brokers, r.flow
	if err := bus.EnsureTopics(ctx, brokers, nil, bus.Topic{Name: f.Source.Topic}); err != nil {
		t.Fatal(err)
	}

	// The fetches, as the producer would have published them.
	data, err := os.ReadFile(filepath.Join("..", "..", "processors", "testdata", "wdt_refunds.raw.json"))
	if err != nil {
		t.Fatal(err)
	}
	var samples []map[string]any
	if err := json.Unmarshal(data, &samples); err != nil {
		t.Fatal(err)
	}
	fetch := func(id int, status int, modified any) kafka.Message {
		r := samples[0]
		r["refund_id"], r["status"], r["modified"] = id, status, modified
		v, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		return kafka.Message{Topic: f.Source.Topic, Key: []byte(json.Number(strings.TrimSpace(string(mustJSON(t, id))))), Value: v, Headers: []kafka.Header{
			{Key: bus.HeaderFlow, Value: []byte(f.Name)},
			{Key: bus.HeaderWindow, Value: []byte("2024-03-01T00:00:00Z/2024-03-01T12:00:00Z")},
			{Key: bus.HeaderPage, Value: []byte("0")},
			{Key: bus.HeaderFetchedAt, Value: []byte("2024-03-01T12:00:05Z")},
		}}
	}
	w := bus.NewWriter(brokers, nil)
	defer w.Close()
	publish := func(ms ...kafka.Message) {
		for _, m := range ms {
			if err := w.WriteMessages(ctx, m); err != nil {
				t.Fatal(err)
			}
		}
	}
	publish(
		fetch(101, 20, 1709290000000),                                // through
		fetch(102, 20, 1709290000000), fetch(102, 20, 1709290000000), // the same version twice
		fetch(103, 5, 1709290000000),          // filtered
		fetch(104, 20, "yesterday afternoon"), // dead-lettered
	)
	cps, err := checkpoint.Open(ctx, brokers, bus.Settings{})
	if err != nil {
		t.Fatal(err)
	}
	defer cps.Close()
	if err := cps.Commit(ctx, f.Name, time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)); err != nil {
		t.Fatal(err)
	}

	r.drain()
	publish(fetch(101, 30, 1709290060000)) // its next version, in a batch of its own
	r.drain()
	for name, id := range map[string]string{"through": "101", "duplicate": "102", "filtered": "103", "dead-lettered": "104", "never-fetched": "105"} {
		t.Run(name, func(t *testing.T) {
			checkGolden(t, filepath.Join("testdata", "trace", name+".txt"), r.ferry("trace", id), *updateTrace && !withRegistry, "-trace.update")
		})
	}
}

func mustJSON(t *testing.T, v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestTraceAsksTheVendor: ferry trace --source makes one call to the
// vendor and says whether ferry has fetched the record's current version:
// after a sync it has; after the vendor changes the record, it has not.
func TestTraceAsksTheVendor(t *testing.T) {
	reg := srfake.New()
	defer reg.Close()
	sb := wdtsandbox.New(wdtsandbox.Config{Records: 20, Settings: sandbox.Settings{Seed: 3, Since: time.Now().Add(-2 * time.Hour)}})
	vendor := vendortest.Serve(t, sb)
	env := map[string]string{"FERRY_SCHEMA_REGISTRY_URL": reg.URL(), "FERRY_WDT_URL": vendor.URL + "/openapi", "FERRY_SINCE": "3h"}
	for k, v := range sb.Account() {
		env["FERRY_WDT_"+k] = v
	}
	r := newFlowRun(t, "wdt_refunds", env, [2]string{"lag: 2m", "lag: 1s"})
	r.ferry("up", "--once")

	id := num(sb.Truth()[0]["refund_id"])
	if got := r.ferry("trace", "--source", id); !strings.Contains(got, "vendor (one call):\n  the vendor's current version: ") ||
		!strings.Contains(got, ", the one ferry fetched last\n") || !strings.Contains(got, "verdict: in the table at the newest version") {
		t.Fatalf("ferry trace --source %s after a sync:\n%s", id, got)
	}
	at := time.Now().Add(-2 * time.Second).Truncate(time.Second)
	sb.MutateAt(at, 1000) // every refund, stamped two seconds ago
	want := "vendor (one call):\n  the vendor's current version: " + at.UTC().Format(time.RFC3339Nano) + ", not fetched yet\n"
	if got := r.ferry("trace", "--source", id); !strings.Contains(got, want) {
		t.Fatalf("ferry trace --source %s after the vendor changed it: want %q in\n%s", id, want, got)
	}
}
