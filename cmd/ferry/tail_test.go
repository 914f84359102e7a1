package main

import (
	"bytes"
	"context"
	"flag"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/sr/srfake"

	"github.com/ferry-data/ferry/internal/bus"
	"github.com/ferry-data/ferry/internal/registry"
	"github.com/ferry-data/ferry/schemas"
)

var updateGolden = flag.Bool("tail.update", false, "TestTailGolden: rewrite the golden files")

// TestTailGolden publishes raw, canonical (single-object, registry wire
// format and a tombstone) and dead-letter records, and compares what ferry
// tail prints with golden files.
func TestTailGolden(t *testing.T) {
	cluster, err := kfake.NewCluster(kfake.NumBrokers(1))
	if err != nil {
		t.Fatal(err)
	}
	defer cluster.Close()
	t.Cleanup(kafka.DefaultTransport.(*kafka.Transport).CloseIdleConnections)
	brokers := cluster.ListenAddrs()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	fake := srfake.New()
	defer fake.Close()
	reg, err := registry.New(registry.Config{URL: fake.URL()})
	if err != nil {
		t.Fatal(err)
	}
	s, err := schemas.Load("refund")
	if err != nil {
		t.Fatal(err)
	}
	wire, err := reg.Prepare(ctx, "canonical.refund.v1", s, "")
	if err != nil {
		t.Fatal(err)
	}
	two := bus.Settings{Partitions: 2}
	if err := bus.EnsureTopics(ctx, brokers, nil, bus.Topic{Name: "raw.wdt.refunds", Settings: two},
		bus.Canonical("canonical.refund.v1", two), bus.Topic{Name: "dlq.wdt_refunds", Settings: two}); err != nil {
		t.Fatal(err)
	}
	at := time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)
	rec := func(id int64, no string) map[string]any {
		return map[string]any{"refund_id": id, "refund_no": no, "actual_refund_amount": schemas.Rat("12.5"), "modified": at}
	}
	soe, err := s.Encode(rec(1, "TK1"))
	if err != nil {
		t.Fatal(err)
	}
	byID, err := wire.Encode(rec(2, "TK2"))
	if err != nil {
		t.Fatal(err)
	}
	w := bus.NewWriter(brokers, nil)
	defer w.Close()
	h := func(kv ...string) (out []kafka.Header) {
		for i := 0; i < len(kv); i += 2 {
			out = append(out, kafka.Header{Key: kv[i], Value: []byte(kv[i+1])})
		}
		return out
	}
	if err := w.WriteMessages(ctx,
		kafka.Message{Topic: "raw.wdt.refunds", Key: []byte("1"), Value: []byte(`{"refund_id":1,"refund_no":"TK1"}`), Time: at,
			Headers: h(bus.HeaderFlow, "wdt_refunds", bus.HeaderWindow, "2024-03-01T00:00:00Z/2024-03-01T12:00:00Z")},
		kafka.Message{Topic: "raw.wdt.refunds", Key: []byte("2"), Value: []byte(`{"refund_id":2,"refund_no":"TK2"}`), Time: at},
		kafka.Message{Topic: "canonical.refund.v1", Key: []byte("1"), Value: soe, Time: at, Headers: h(bus.HeaderSchema, "refund")},
		kafka.Message{Topic: "canonical.refund.v1", Key: []byte("2"), Value: byID, Time: at},
		kafka.Message{Topic: "canonical.refund.v1", Key: []byte("3"), Time: at},
		kafka.Message{Topic: "dlq.wdt_refunds", Key: []byte("4"), Value: []byte(`{"refund_id":4,"modified":"soon"}`), Time: at,
			Headers: h(bus.HeaderError, `field modified: "soon" is not a time`, bus.HeaderSource, "raw.wdt.refunds/0@7")},
		kafka.Message{Topic: "dlq.wdt_refunds", Key: []byte("5"), Value: []byte{0xff, 0x00}, Time: at},
	); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name     string
		args     []string
		registry bool
	}{
		{"raw", []string{"raw.wdt.refunds", "--from-beginning"}, true},
		{"canonical", []string{"canonical.refund.v1", "--from-beginning", "--limit", "0"}, true},
		{"canonical_key", []string{"--key", "2", "canonical.refund.v1", "--from-beginning"}, true},
		{"canonical_without_registry", []string{"canonical.refund.v1", "--from-beginning"}, false},
		{"dlq_last", []string{"dlq.wdt_refunds", "--limit", "1"}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := map[string]string{"FERRY_KAFKA_BROKERS": strings.Join(brokers, ",")}
			if tc.registry {
				env["FERRY_SCHEMA_REGISTRY_URL"] = fake.URL()
			}
			cfg, err := parse(append([]string{"tail"}, tc.args...), func(k string) string { return env[k] })
			if err != nil {
				t.Fatal(err)
			}
			var out bytes.Buffer
			if err := run(ctx, cfg, &out, slog.New(slog.DiscardHandler)); err != nil {
				t.Fatal(err)
			}
			checkGolden(t, filepath.Join("testdata", "tail", tc.name+".golden"), out.String(), *updateGolden, "-tail.update")
		})
	}
}

func TestSchemasExport(t *testing.T) {
	dir := t.TempDir()
	cfg, err := parse([]string{"schemas", "export", dir}, func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := run(context.Background(), cfg, &out, slog.New(slog.DiscardHandler)); err != nil {
		t.Fatal(err)
	}
	for _, name := range schemas.Names() {
		s, _ := schemas.Load(name)
		got, err := os.ReadFile(filepath.Join(dir, name+".avsc"))
		if err != nil || string(got) != s.Text() {
			t.Errorf("%s.avsc: %v", name, err)
		}
		for i, text := range s.Earlier() {
			got, err := os.ReadFile(filepath.Join(dir, name+".v"+string(rune('1'+i))+".avsc"))
			if err != nil || string(got) != text {
				t.Errorf("%s version %d: %v", name, i+1, err)
			}
		}
	}
	if !strings.Contains(out.String(), "refund.avsc\tfingerprint c34893e41c3319ad\t0 earlier versions") {
		t.Errorf("report:\n%s", &out)
	}
}

// checkGolden compares what a command printed with its golden file,
// which it rewrites first when update is set (the test's flag named
// flag).
func checkGolden(t *testing.T, path, got string, update bool, flag string) {
	t.Helper()
	if update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if got != string(want) {
		t.Errorf("printed:\n%s\nwant (%s; %s rewrites it):\n%s", got, path, flag, want)
	}
}
