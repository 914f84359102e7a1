package sinks_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/ferry-data/ferry/flows"
	"github.com/ferry-data/ferry/internal/bus"
	"github.com/ferry-data/ferry/internal/mysqltest"
	"github.com/ferry-data/ferry/schemas"
	"github.com/ferry-data/ferry/sinks"
	"github.com/ferry-data/ferry/sinks/mysql"
)

// BenchmarkParallel has one sink write 60k canonical refunds from a
// six-partition topic into MariaDB, one partition's batch at a time
// (Parallel 1), then two (the default) and three at once:
//
//	go test -run x -bench Parallel -benchtime 1x ./sinks/
//
// Each run writes a table and has a consumer group of its own. Reported:
// rows a second for each, and the ratios to one at a time. On these
// 2-core machines, which also run the database, the ratios tell whether
// the database gains from concurrent batches.
func BenchmarkParallel(b *testing.B) {
	const records = 60_000
	cluster, err := kfake.NewCluster(kfake.NumBrokers(1))
	if err != nil {
		b.Fatal(err)
	}
	defer cluster.Close()
	b.Cleanup(kafka.DefaultTransport.(*kafka.Transport).CloseIdleConnections)
	brokers := cluster.ListenAddrs()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	db, _ := mysqltest.New(b)
	flow, err := flows.Named("wdt_refunds")
	if err != nil {
		b.Fatal(err)
	}
	schema, err := schemas.Load("refund")
	if err != nil {
		b.Fatal(err)
	}
	settings := bus.Settings{Partitions: 6}
	if err := bus.EnsureTopics(ctx, brokers, nil, bus.Canonical(flow.CanonicalTopic(), settings)); err != nil {
		b.Fatal(err)
	}
	w := bus.NewWriter(brokers, nil)
	defer w.Close()
	var msgs []kafka.Message
	for i := range records {
		v, err := schema.Encode(map[string]any{"refund_id": int64(i), "refund_no": fmt.Sprint("TK", i), "status": int64(i % 90),
			"remark": "客户退货", "modified": time.UnixMilli(1709290000000 + int64(i))})
		if err != nil {
			b.Fatal(err)
		}
		msgs = append(msgs, kafka.Message{Topic: flow.CanonicalTopic(), Key: fmt.Append(nil, i), Value: v})
		if len(msgs) == 1000 {
			if err := w.WriteMessages(ctx, msgs...); err != nil {
				b.Fatal(err)
			}
			msgs = msgs[:0]
		}
	}
	end, err := bus.EndOffsets(ctx, brokers, flow.CanonicalTopic())
	if err != nil {
		b.Fatal(err)
	}
	rate := map[int]float64{}
	b.ResetTimer()
	for i := range b.N {
		for _, parallel := range []int{1, 2, 3} {
			f := *flow
			f.Name = fmt.Sprintf("bench_%d_%d", i, parallel)
			target, err := mysql.New(db, schema, mysql.Config{Table: "bench_" + f.Name, Columns: flow.Target.Columns, Zone: flow.Target.Zone.Loc(), BatchRows: 1000})
			if err != nil {
				b.Fatal(err)
			}
			if err := target.CreateTable(ctx); err != nil {
				b.Fatal(err)
			}
			start := time.Now()
			sctx, stop := context.WithCancel(ctx)
			done := make(chan error, 1)
			sk := &sinks.Sink{Flow: &f, Schema: schema, Brokers: brokers, Topics: settings, Target: target, DeadLetters: w, Parallel: parallel}
			go func() { done <- sk.Run(sctx) }()
			if err := bus.WaitCaughtUp(ctx, brokers, sinks.Group(&f), f.CanonicalTopic(), end); err != nil {
				b.Fatal(err)
			}
			rate[parallel] += records / time.Since(start).Seconds()
			stop()
			<-done
		}
	}
	n := float64(b.N)
	for _, p := range []int{1, 2, 3} {
		b.ReportMetric(rate[p]/n, fmt.Sprintf("parallel-%d-rows/s", p))
	}
	b.ReportMetric(rate[2]/rate[1], "ratio-2")
	b.ReportMetric(rate[3]/rate[1], "ratio-3")
}
