package deadletter_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/ferry-data/ferry/flows"
	"github.com/ferry-data/ferry/internal/bus"
	"github.com/ferry-data/ferry/internal/deadletter"
	"github.com/ferry-data/ferry/schemas"
)

func TestShape(t *testing.T) {
	for reason, want := range map[string]string{
		`field status: "abc" is not an integer`:                            `field status: "…" is not an integer`,
		`field direct_refund_amount: 12345678901234567890.5 has 24 digits`: `field direct_refund_amount: … has … digits`,
		`field created: "2024-03-01 10:00" is not a time`:                  `field created: "…" is not a time`,
		`not a JSON object: jsontext: invalid character`:                   `not a JSON object: jsontext: invalid character`,
	} {
		if got := deadletter.Shape(reason); got != want {
			t.Errorf("Shape(%q) = %q, want %q", reason, got, want)
		}
	}
}

// TestReplay dead-letters two raw records and a canonical one, groups
// them, replays them (the raw ones to the raw topic past dedupe, the
// canonical one to the canonical topic), and replays again: nothing more
// is sent, and the groups tell them replayed.
func TestReplay(t *testing.T) {
	cluster, err := kfake.NewCluster(kfake.NumBrokers(1))
	if err != nil {
		t.Fatal(err)
	}
	defer cluster.Close()
	brokers := cluster.ListenAddrs()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	f, err := flows.Named("wdt_refunds")
	if err != nil {
		t.Fatal(err)
	}
	s, err := schemas.Load(f.Processor.Entity)
	if err != nil {
		t.Fatal(err)
	}
	settings := bus.Settings{Partitions: 3}
	if err := bus.EnsureTopics(ctx, brokers, nil, bus.Topic{Name: f.Source.Topic, Settings: settings},
		bus.Topic{Name: f.CanonicalTopic(), Settings: settings}, bus.Topic{Name: f.DeadLetterTopic(), Settings: settings}); err != nil {
		t.Fatal(err)
	}
	w := bus.NewWriter(brokers, nil)
	defer w.Close()
	canonical, err := s.Encode(map[string]any{"refund_id": int64(7), "modified": time.UnixMilli(1709290000000)})
	if err != nil {
		t.Fatal(err)
	}
	raw := func(key, value string, offset int64) kafka.Message {
		return kafka.Message{Topic: f.Source.Topic, Partition: 1, Offset: offset, Key: []byte(key), Value: []byte(value),
			Headers: []kafka.Header{{Key: bus.HeaderWindow, Value: []byte("w")}}}
	}
	letters := []kafka.Message{
		bus.DeadLetter(raw("5", `{"refund_id":5,"status":"x"}`, 10), f.DeadLetterTopic(), errors.New(`field status: "x" is not an integer`)),
		bus.DeadLetter(raw("6", `{"refund_id":6,"status":"y"}`, 11), f.DeadLetterTopic(), errors.New(`field status: "y" is not an integer`)),
		bus.DeadLetter(kafka.Message{Topic: f.CanonicalTopic(), Partition: 2, Offset: 3, Key: []byte("7"), Value: canonical},
			f.DeadLetterTopic(), errors.New("Error 1406: Data too long for column 'remark'")),
	}
	if err := w.WriteMessages(ctx, letters...); err != nil {
		t.Fatal(err)
	}

	read := func() []deadletter.Letter {
		ls, err := deadletter.Read(ctx, brokers, f, deadletter.Filter{})
		if err != nil {
			t.Fatal(err)
		}
		return ls
	}
	got := read()
	groups := deadletter.Groups(f, got)
	if len(got) != 3 || len(groups) != 2 || groups[0].Count != 2 || groups[0].New != 2 || groups[0].Stage != "processor" ||
		groups[1].Stage != "sink" || groups[0].Reason != `field status: "…" is not an integer` {
		t.Fatalf("letters %d, groups %+v", len(got), groups)
	}

	r := &deadletter.Replayer{Flow: f, Brokers: brokers, Codec: s, Writer: w, Topics: settings}
	sent, err := r.Replay(ctx, got)
	if err != nil {
		t.Fatal(err)
	}
	if len(sent) != 3 {
		t.Fatalf("sent %+v", sent)
	}
	var replayed []kafka.Message
	for _, topic := range []string{f.Source.Topic, f.CanonicalTopic()} {
		if err := bus.ReadAll(ctx, brokers, topic, func(m kafka.Message) { replayed = append(replayed, m) }); err != nil {
			t.Fatal(err)
		}
	}
	if len(replayed) != 3 {
		t.Fatalf("%d records replayed", len(replayed))
	}
	for _, m := range replayed {
		repair, of := bus.Header(m, bus.HeaderRepair), bus.Header(m, deadletter.HeaderReplayOf)
		switch {
		case of == "" || bus.Header(m, bus.HeaderError) != "":
			t.Errorf("%s %s: headers %v", m.Topic, m.Key, m.Headers)
		case m.Topic == f.Source.Topic && (repair == "" || bus.Header(m, bus.HeaderWindow) != "w"):
			t.Errorf("raw %s is not marked past dedupe, or lost its window: %v", m.Key, m.Headers)
		case m.Topic == f.CanonicalTopic():
			if rec, err := s.Decode(m.Value); err != nil || rec["refund_id"] != int64(7) {
				t.Errorf("canonical %s: %v %v", m.Key, rec, err)
			}
		}
	}

	again, err := r.Replay(ctx, read())
	if err != nil || len(again) != 0 {
		t.Fatalf("a second replay sent %+v (%v)", again, err)
	}
	for _, g := range deadletter.Groups(f, read()) {
		if g.New != 0 {
			t.Errorf("group %q: %d new after the replay", g.Reason, g.New)
		}
	}
}
