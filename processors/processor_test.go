package processors_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/ferry-data/ferry/flows"
	"github.com/ferry-data/ferry/internal/bus"
	"github.com/ferry-data/ferry/internal/stats"
	"github.com/ferry-data/ferry/processors"
	"github.com/ferry-data/ferry/schemas"
)

func refund(id int, modified int64, status int) kafka.Message {
	return kafka.Message{
		Key:   []byte(fmt.Sprint(id)),
		Value: []byte(fmt.Sprintf(`{"refund_id":%d,"modified":%d,"status":%d,"actual_refund_amount":"9.90"}`, id, modified, status)),
	}
}

// TestDedupeAndDeadLetters feeds repeated pages, an older version and a
// malformed record through the processor, then restarts it: each version
// is published once, the older one never, the malformed record goes to the
// dead-letter topic, and the dedupe state survives the restart.
func TestDedupeAndDeadLetters(t *testing.T) {
	cluster, err := kfake.NewCluster(kfake.NumBrokers(1))
	if err != nil {
		t.Fatal(err)
	}
	defer cluster.Close()
	brokers := cluster.ListenAddrs()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	flow, err := flows.Named("wdt_refunds")
	if err != nil {
		t.Fatal(err)
	}
	schema, err := schemas.Load(flow.Processor.Entity)
	if err != nil {
		t.Fatal(err)
	}
	w := bus.NewWriter(brokers, nil)
	defer w.Close()
	if err := bus.EnsureTopics(ctx, brokers, nil, bus.Topic{Name: flow.Source.Topic}); err != nil {
		t.Fatal(err)
	}
	publish := func(msgs ...kafka.Message) {
		for i := range msgs {
			msgs[i].Topic = flow.Source.Topic
		}
		if err := w.WriteMessages(ctx, msgs...); err != nil {
			t.Fatal(err)
		}
	}
	st := &stats.Flow{}
	// run processes everything published so far with a fresh processor.
	run := func() {
		pctx, stop := context.WithCancel(ctx)
		wctx, dead := context.WithCancel(ctx)
		done := make(chan error, 1)
		p := &processors.Processor{Flow: flow, Schema: schema, Brokers: brokers, Writer: w, Stats: st}
		go func() { done <- p.Run(pctx); dead() }()
		end, err := bus.EndOffsets(ctx, brokers, flow.Source.Topic)
		if err != nil {
			t.Fatal(err)
		}
		if err := bus.WaitCaughtUp(wctx, brokers, processors.Group(flow), flow.Source.Topic, end); err != nil {
			t.Fatalf("%v (processor: %v)", err, <-done)
		}
		stop()
		if err := <-done; err != context.Canceled {
			t.Fatalf("processor: %v", err)
		}
	}

	publish(refund(1, 1000, 20), refund(2, 1000, 20), refund(1, 1000, 20)) // page 0
	publish(refund(1, 1000, 20), refund(1, 2000, 30))                      // page 0 again, then a newer version
	publish(refund(1, 1000, 20))                                           // an overlapping window brings the old one back
	publish(kafka.Message{Key: []byte("3"), Value: []byte(`{"refund_id":3,"modified":"soon"}`)})
	run()
	publish(refund(1, 2000, 30), refund(2, 1000, 20), refund(2, 3000, 40)) // after a restart
	run()

	// Each key's records, in the order of its partition.
	got := map[string][]string{}
	if err := bus.ReadAll(ctx, brokers, flow.CanonicalTopic(), func(m kafka.Message) {
		rec, err := schema.Decode(m.Value)
		if err != nil {
			t.Fatal(err)
		}
		got[string(m.Key)] = append(got[string(m.Key)], fmt.Sprintf("%d:%d", rec["modified"].(time.Time).UnixMilli(), rec["status"]))
	}); err != nil {
		t.Fatal(err)
	}
	// Each key's versions only grow, none twice, up to the newest. A
	// version superseded within the batch it came in is not published, so
	// 1000:20 of key 1 shows only when the two came in separate batches.
	want := map[string][]string{"1": {"1000:20", "2000:30"}, "2": {"1000:20", "3000:40"}}
	if got["1"][0] == "2000:30" {
		want["1"] = want["1"][1:]
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("canonical topic holds %v, want %v", got, want)
	}
	var dead []string
	if err := bus.ReadAll(ctx, brokers, flow.DeadLetterTopic(), func(m kafka.Message) {
		dead = append(dead, string(m.Key)+": "+bus.Header(m, bus.HeaderError))
	}); err != nil {
		t.Fatal(err)
	}
	if len(dead) != 1 || dead[0] != `3: field modified: "soon" is not a time` {
		t.Fatalf("dead letters %q", dead)
	}
	if c, d := st.Canonical.Load(), st.Duplicates.Load(); c+d != 9 || c != int64(len(got["1"])+len(got["2"])) {
		t.Fatalf("%d published and %d duplicates dropped of 9 mapped records", c, d)
	}
}
