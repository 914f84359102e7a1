package lineage_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/ferry-data/ferry/flows"
	"github.com/ferry-data/ferry/internal/bus"
	"github.com/ferry-data/ferry/lineage"
	"github.com/ferry-data/ferry/processors"
	"github.com/ferry-data/ferry/schemas"
)

// BenchmarkTrace traces one refund of a raw topic of a million records
// (six partitions, small refunds) and a canonical topic of as many:
//
//	go test -run x -bench Trace -benchtime 3x ./lineage/
//
// The baseline is what one would do by hand to find a key's records:
// read the raw topic whole with kafka-go's reader, partition by partition,
// keeping those of the key. (With the reader's default queue and wait it
// takes half a minute; it is given the trace's batch sizes.)
// Reported: seconds a trace, seconds the plain scan, and their ratio.
func BenchmarkTrace(b *testing.B) {
	const records = 1_000_000
	cluster, err := kfake.NewCluster(kfake.NumBrokers(1))
	if err != nil {
		b.Fatal(err)
	}
	defer cluster.Close()
	brokers := cluster.ListenAddrs()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	f, err := flows.Named("wdt_refunds")
	if err != nil {
		b.Fatal(err)
	}
	s, err := schemas.Load(f.Processor.Entity)
	if err != nil {
		b.Fatal(err)
	}
	if err := bus.EnsureTopics(ctx, brokers, nil, processors.Topics(f, bus.Settings{})...); err != nil {
		b.Fatal(err)
	}
	w := bus.NewWriter(brokers, nil)
	defer w.Close()
	var raw, canon []kafka.Message
	for i := range records {
		key := []byte(fmt.Sprint(1_000_000 + i%100_000)) // ten fetches a refund
		stamp := 1709290000000 + int64(i)
		raw = append(raw, kafka.Message{Topic: f.Source.Topic, Key: key,
			Value: fmt.Appendf(nil, `{"refund_id":%s,"refund_no":"TK%d","status":20,"modified":%d}`, key, i, stamp)})
		v, err := s.Encode(map[string]any{"refund_id": int64(1_000_000 + i%100_000), "refund_no": fmt.Sprint("TK", i), "modified": time.UnixMilli(stamp)})
		if err != nil {
			b.Fatal(err)
		}
		canon = append(canon, kafka.Message{Topic: f.CanonicalTopic(), Key: key, Value: v})
		if len(raw) == 5000 || i == records-1 {
			if err := w.WriteMessages(ctx, append(raw, canon...)...); err != nil {
				b.Fatal(err)
			}
			raw, canon = raw[:0], canon[:0]
		}
	}
	key := "1012345"
	c := lineage.Config{Flow: f, Schema: s, Codec: s, Brokers: brokers}
	var traceTime, plainTime time.Duration
	b.ResetTimer()
	for range b.N {
		start := time.Now()
		t, err := lineage.Run(ctx, c, key)
		if err != nil {
			b.Fatal(err)
		}
		traceTime += time.Since(start)
		if len(t.Fetches) != 10 {
			b.Fatalf("%d fetches traced, want 10", len(t.Fetches))
		}

		start = time.Now()
		found := 0
		for p := range bus.DefaultPartitions {
			r := kafka.NewReader(kafka.ReaderConfig{Brokers: brokers, Topic: f.Source.Topic, Partition: p, MinBytes: 1, MaxBytes: 16 << 20,
				MaxWait: 250 * time.Millisecond, QueueCapacity: 10_000})
			end, err := r.ReadLag(ctx)
			if err != nil {
				b.Fatal(err)
			}
			for n := int64(0); n < end; n++ {
				m, err := r.ReadMessage(ctx)
				if err != nil {
					b.Fatal(err)
				}
				if string(m.Key) == key {
					found++
				}
			}
			r.Close()
		}
		plainTime += time.Since(start)
		if found != 10 {
			b.Fatalf("the plain scan found %d records, want 10", found)
		}
	}
	n := float64(b.N)
	b.ReportMetric(traceTime.Seconds()/n, "trace-s")
	b.ReportMetric(plainTime.Seconds()/n, "plain-scan-s")
	b.ReportMetric(plainTime.Seconds()/traceTime.Seconds(), "ratio")
}
