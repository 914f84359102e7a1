package sinks_test

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/twmb/avro"
	"github.com/twmb/franz-go/pkg/sr"
	"github.com/twmb/franz-go/pkg/sr/srfake"

	"github.com/ferry-data/ferry/internal/bus"
	"github.com/ferry-data/ferry/internal/registry"
	"github.com/ferry-data/ferry/sinks"
)

// TestSinkWritesEveryVersion: after a compatible schema change, the
// canonical topic holds records of both versions (the earlier one without
// provider_refund_no), each with its registry id; the sink writes them
// all, the earlier ones with the new column null.
func TestSinkWritesEveryVersion(t *testing.T) {
	e := newSinkEnv(t)
	ctx, brokers, db, flow, schema, w := e.ctx, e.brokers, e.db, e.flow, e.schema, e.w
	fake := srfake.New()
	defer fake.Close()
	reg, err := registry.New(registry.Config{URL: fake.URL()})
	if err != nil {
		t.Fatal(err)
	}

	// Version 1 of the subject: refund before provider_refund_no.
	var doc map[string]any
	if err := json.Unmarshal([]byte(schema.Text()), &doc); err != nil {
		t.Fatal(err)
	}
	fields := doc["fields"].([]any)
	doc["fields"] = fields[:len(fields)-1]
	oldText, _ := json.Marshal(doc)
	oldID, _, err := fake.RegisterSchema(registry.Subject(flow.CanonicalTopic()), sr.Schema{Schema: string(oldText), Type: sr.TypeAvro})
	if err != nil {
		t.Fatal(err)
	}
	old, err := avro.Parse(string(oldText))
	if err != nil {
		t.Fatal(err)
	}
	// Version 2, as a processor registers it at start.
	codec, err := reg.Prepare(ctx, flow.CanonicalTopic(), schema, "")
	if err != nil {
		t.Fatal(err)
	}

	var msgs []kafka.Message
	for i := range 40 {
		rec := map[string]any{"refund_id": int64(i), "refund_no": fmt.Sprint("TK", i), "modified": time.UnixMilli(1709290000000 + int64(i)),
			"provider_refund_no": fmt.Sprint("P", i)}
		var v []byte
		if i%2 == 0 {
			delete(rec, "provider_refund_no")
			body, err := old.Encode(rec)
			if err != nil {
				t.Fatal(err)
			}
			v = append(binary.BigEndian.AppendUint32([]byte{0}, uint32(oldID)), body...)
		} else if v, err = codec.Encode(rec); err != nil {
			t.Fatal(err)
		}
		msgs = append(msgs, kafka.Message{Topic: flow.CanonicalTopic(), Key: fmt.Append(nil, i), Value: v})
	}
	if err := w.WriteMessages(ctx, msgs...); err != nil {
		t.Fatal(err)
	}

	sk := &sinks.Sink{Flow: flow, Schema: schema, Codec: reg.Decoder(schema), Brokers: brokers, Target: e.target, DeadLetters: w}
	sctx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- sk.Run(sctx) }()
	end, err := bus.EndOffsets(ctx, brokers, flow.CanonicalTopic())
	if err != nil {
		t.Fatal(err)
	}
	if err := bus.WaitCaughtUp(ctx, brokers, sinks.Group(flow), flow.CanonicalTopic(), end); err != nil {
		t.Fatalf("%v (sink: %v)", err, <-done)
	}
	stop()
	<-done

	rows, err := db.QueryContext(ctx, "SELECT refund_id, COALESCE(provider_refund_no, '-') FROM "+flow.Target.Table)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var got []string
	for rows.Next() {
		var id int
		var p string
		if err := rows.Scan(&id, &p); err != nil {
			t.Fatal(err)
		}
		want := "-"
		if id%2 == 1 {
			want = fmt.Sprint("P", id)
		}
		if p != want {
			t.Errorf("refund %d: provider_refund_no %s, want %s", id, p, want)
		}
		got = append(got, fmt.Sprint(id))
	}
	if len(got) != 40 {
		slices.Sort(got)
		t.Fatalf("%d rows of 40: %v", len(got), got)
	}
}
