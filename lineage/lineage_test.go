package lineage_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/ferry-data/ferry/flows"
	"github.com/ferry-data/ferry/internal/bus"
	"github.com/ferry-data/ferry/lineage"
	"github.com/ferry-data/ferry/processors"
	"github.com/ferry-data/ferry/schemas"
	"github.com/ferry-data/ferry/sinks"
)

// traced is a flow's topics on kfake holding one record, fetched once,
// processed and published: what the verdict tests trace.
type traced struct {
	ctx     context.Context
	brokers []string
	flow    *flows.Flow
	schema  *schemas.Schema
	key     string
	version time.Time // of the canonical record
}

func newTraced(t *testing.T, flow string) *traced {
	t.Helper()
	cluster, err := kfake.NewCluster(kfake.NumBrokers(1))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cluster.Close)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	tr := &traced{ctx: ctx, brokers: cluster.ListenAddrs()}
	if tr.flow, err = flows.Named(flow); err != nil {
		t.Fatal(err)
	}
	f := tr.flow
	if tr.schema, err = schemas.Load(f.Processor.Entity); err != nil {
		t.Fatal(err)
	}
	one := bus.Settings{Partitions: 1}
	if err := bus.EnsureTopics(ctx, tr.brokers, nil, append(processors.Topics(f, one), bus.Topic{Name: sinks.RetryTopic(f), Settings: one})...); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join("..", "processors", "testdata", f.Name+".raw.json"))
	if err != nil {
		t.Fatal(err)
	}
	var samples []json.RawMessage
	if err := json.Unmarshal(data, &samples); err != nil {
		t.Fatal(err)
	}
	// The first sample the flow keeps, fetched, and published.
	for _, raw := range samples {
		rec, keep, err := processors.Map(tr.schema, &f.Processor, raw)
		if err != nil || !keep {
			continue
		}
		value, err := tr.schema.Encode(rec)
		if err != nil {
			t.Fatal(err)
		}
		tr.key = keyText(rec[tr.schema.Key])
		tr.version = rec[tr.schema.Version].(time.Time)
		w := bus.NewWriter(tr.brokers, nil)
		defer w.Close()
		if err := w.WriteMessages(ctx, kafka.Message{Topic: f.Source.Topic, Key: []byte(tr.key), Value: raw},
			kafka.Message{Topic: f.CanonicalTopic(), Key: []byte(tr.key), Value: value}); err != nil {
			t.Fatal(err)
		}
		break
	}
	if tr.key == "" {
		t.Fatalf("no sample of %s passes its filter", f.Name)
	}
	// The processor's group has handled the fetch.
	client := &kafka.Client{Addr: kafka.TCP(tr.brokers...)}
	if _, err := client.OffsetCommit(ctx, &kafka.OffsetCommitRequest{GroupID: processors.Group(f), GenerationID: -1,
		Topics: map[string][]kafka.OffsetCommit{f.Source.Topic: {{Partition: 0, Offset: 1}}}}); err != nil {
		t.Fatal(err)
	}
	return tr
}

func keyText(v any) string {
	b, _ := json.Marshal(v)
	return strings.Trim(string(b), `"`)
}

// trace runs a trace of the record, the sink standing at sinkAt in the
// canonical topic.
func (tr *traced) trace(t *testing.T, sinkAt int64, row func(context.Context, string) (time.Time, bool, error)) *lineage.Trace {
	t.Helper()
	c := lineage.Config{Flow: tr.flow, Schema: tr.schema, Codec: tr.schema, Brokers: tr.brokers, Row: row,
		SinkAt: func(context.Context, int) (int64, error) { return sinkAt, nil }}
	got, err := lineage.Run(tr.ctx, c, tr.key)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Fetches) != 1 || !strings.HasPrefix(got.Fetches[0].Decision, "published as ") {
		t.Fatalf("fetches %+v", got.Fetches)
	}
	return got
}

// TestVerdictsOfAnAPITarget: a record for 班牛 that the sink has not
// reached, one parked in the retry topic, and one sent.
func TestVerdictsOfAnAPITarget(t *testing.T) {
	tr := newTraced(t, "jackyun_trades_banniu")
	if v := tr.trace(t, 0, nil).Verdict; !strings.HasPrefix(v, "not sent yet: it is waiting in canonical.trade_status.v1 partition 0 behind 0 records") {
		t.Errorf("before the sink: %q", v)
	}
	if v := tr.trace(t, 1, nil).Verdict; !strings.HasPrefix(v, "sent to banniu at the newest version") {
		t.Errorf("after the sink: %q", v)
	}
	w := bus.NewWriter(tr.brokers, nil)
	defer w.Close()
	if err := w.WriteMessages(tr.ctx, kafka.Message{Topic: sinks.RetryTopic(tr.flow), Key: []byte(tr.key), Value: []byte("x"), Headers: []kafka.Header{
		{Key: sinks.HeaderTries, Value: []byte("2")}, {Key: sinks.HeaderNextTry, Value: []byte("2024-03-01T12:01:00Z")},
		{Key: bus.HeaderError, Value: []byte("no task holds the trade yet")}}}); err != nil {
		t.Fatal(err)
	}
	got := tr.trace(t, 1, nil)
	want := "parked in retry.jackyun_trades_banniu/0@0, try 2 next at 2024-03-01T12:01:00Z: no task holds the trade yet"
	if got.Verdict != "waiting to be tried again: "+want || len(got.Target) != 1 || got.Target[0] != want {
		t.Errorf("parked: verdict %q, target %q", got.Verdict, got.Target)
	}
}

// TestVerdictsOfATable: the row at the newest version, an older row with
// the newer record waiting for the sink, and no row yet.
func TestVerdictsOfATable(t *testing.T) {
	tr := newTraced(t, "wdt_refunds")
	row := func(v time.Time, ok bool) func(context.Context, string) (time.Time, bool, error) {
		return func(context.Context, string) (time.Time, bool, error) { return v, ok, nil }
	}
	for _, c := range []struct {
		name   string
		sinkAt int64
		row    func(context.Context, string) (time.Time, bool, error)
		want   string
	}{
		{"written", 1, row(tr.version, true), "in the table at the newest version"},
		{"older", 0, row(tr.version.Add(-time.Minute), true), "older version in the table: the newer one is waiting in canonical.refund.v1 partition 0 behind 0 records"},
		{"not yet", 0, row(time.Time{}, false), "not in the table yet: it is waiting in canonical.refund.v1 partition 0 behind 0 records"},
	} {
		if got := tr.trace(t, c.sinkAt, c.row).Verdict; got != c.want {
			t.Errorf("%s: %q, want %q", c.name, got, c.want)
		}
	}
}
