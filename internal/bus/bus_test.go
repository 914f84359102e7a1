package bus_test

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/ferry-data/ferry/internal/bus"
)

func TestRoundTripThroughKfake(t *testing.T) {
	c, err := kfake.NewCluster(kfake.NumBrokers(1))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	brokers := c.ListenAddrs()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	if err := bus.EnsureTopics(ctx, brokers, nil, bus.Topic{Name: "t", Settings: bus.Settings{Partitions: 3}}, bus.Topic{Name: "state", Compacted: true}); err != nil {
		t.Fatal(err)
	}
	if err := bus.EnsureTopics(ctx, brokers, nil, bus.Topic{Name: "t", Settings: bus.Settings{Partitions: 3}}); err != nil {
		t.Fatalf("second EnsureTopics: %v", err)
	}
	w := bus.NewWriter(brokers, nil)
	defer w.Close()
	var msgs []kafka.Message
	for i := range 100 {
		msgs = append(msgs, kafka.Message{Topic: "t", Key: []byte{byte(i)}, Value: []byte{byte(i)}})
	}
	if err := w.WriteMessages(ctx, msgs...); err != nil {
		t.Fatal(err)
	}
	end, err := bus.EndOffsets(ctx, brokers, "t")
	if err != nil {
		t.Fatal(err)
	}
	var total int64
	for _, e := range end {
		total += e
	}
	if total != 100 {
		t.Fatalf("end offsets %v", end)
	}

	r := kafka.NewReader(kafka.ReaderConfig{Brokers: brokers, GroupID: "g", Topic: "t", StartOffset: kafka.FirstOffset, MaxWait: 50 * time.Millisecond})
	defer r.Close()
	seen := map[byte]bool{}
	for len(seen) < 100 {
		batch, err := bus.FetchBatch(ctx, r, 50, 20*time.Millisecond)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range batch {
			seen[m.Value[0]] = true
		}
		if err := r.CommitMessages(ctx, batch...); err != nil {
			t.Fatal(err)
		}
	}
	ok, err := bus.CaughtUp(ctx, brokers, "g", "t", end)
	if err != nil || !ok {
		t.Fatalf("caught up = %v, %v", ok, err)
	}
}

// TestWritersLogKafkaErrors: what kafka-go's writer reports of a failed
// attempt reaches the process's log as a warning.
func TestWritersLogKafkaErrors(t *testing.T) {
	var out strings.Builder
	log := slog.New(slog.NewTextHandler(&out, nil))
	for _, w := range []*kafka.Writer{bus.NewWriter([]string{"127.0.0.1:1"}, log), bus.NewStateWriter([]string{"127.0.0.1:1"}, log)} {
		w.ErrorLogger.Printf("error writing messages to %s (partition %d, attempt %d): %s", "raw.wdt.refunds", 3, 1, "broken pipe")
	}
	if n := strings.Count(out.String(), `level=WARN msg="kafka: error writing messages to raw.wdt.refunds (partition 3, attempt 1): broken pipe"`); n != 2 {
		t.Fatalf("log:\n%s", out.String())
	}
}
