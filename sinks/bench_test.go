package sinks_test

import (
	"context"
	"database/sql"
	"fmt"
	"math/big"
	"strings"
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
// (Parallel 1), then two (the default) and three at once; and, as the
// baseline, the loop a user would write by hand (plainSink):
//
//	go test -run x -bench Parallel -benchtime 1x ./sinks/
//
// Each run writes a table and has a consumer group of its own. Reported:
// rows a second for each, the ratios to one at a time, and the default's
// ratio to the plain loop. On these 2-core machines, which also run the
// database, the ratios tell whether the database gains from concurrent
// batches.
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
		v, err := schema.Encode(fullRecord(schema, i))
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
	var plainRate float64
	b.ResetTimer()
	for i := range b.N {
		table := fmt.Sprintf("bench_plain_%d", i)
		target, err := mysql.New(db, schema, mysql.Config{Table: table, Columns: flow.Target.Columns, Zone: flow.Target.Zone.Loc()})
		if err != nil {
			b.Fatal(err)
		}
		if err := target.CreateTable(ctx); err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		if err := plainSink(ctx, brokers, db, flow.CanonicalTopic(), fmt.Sprint(table, "_group"), table, schema, flow.Target.Columns, flow.Target.Zone.Loc(), records); err != nil {
			b.Fatal(err)
		}
		plainRate += records / time.Since(start).Seconds()
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
	b.ReportMetric(plainRate/n, "plain-rows/s")
	b.ReportMetric(rate[2]/rate[1], "ratio-2")
	b.ReportMetric(rate[3]/rate[1], "ratio-3")
	b.ReportMetric(rate[2]/plainRate, "ratio-to-plain")
}

// fullRecord is record i of schema s with every field set, as a vendor's
// refund has them: text of a dozen characters, small numbers, amounts
// with cents, stamps a millisecond apart.
func fullRecord(s *schemas.Schema, i int) map[string]any {
	rec := make(map[string]any, len(s.Fields))
	at := time.UnixMilli(1709290000000 + int64(i))
	for _, f := range s.Fields {
		switch f.Kind {
		case schemas.Long:
			rec[f.Name] = int64(i)
		case schemas.Int:
			rec[f.Name] = int32(i % 90)
		case schemas.Decimal:
			rec[f.Name] = big.NewRat(int64(i%100000), 100)
		case schemas.Timestamp:
			rec[f.Name] = at
		case schemas.String:
			rec[f.Name] = fmt.Sprintf("客户退货-%s-%d", f.Name, i)
		}
	}
	return rec
}

// plainSink is the baseline: one consumer-group reader, batches of 1000,
// each record decoded and its columns put in one multi-row INSERT ... ON
// DUPLICATE KEY UPDATE in a transaction, then the batch's offsets
// committed, on one goroutine, until it has read n records. It guards no
// version and dead-letters nothing.
func plainSink(ctx context.Context, brokers []string, db *sql.DB, topic, group, table string, s *schemas.Schema, columns []string, zone *time.Location, n int) error {
	r := kafka.NewReader(kafka.ReaderConfig{Brokers: brokers, GroupID: group, Topic: topic, MinBytes: 1, MaxBytes: 16 << 20, MaxWait: 250 * time.Millisecond})
	defer r.Close()
	quoted := make([]string, len(columns))
	updates := make([]string, len(columns))
	for i, c := range columns {
		quoted[i] = "`" + c + "`"
		updates[i] = quoted[i] + "=VALUES(" + quoted[i] + ")"
	}
	row := "(" + strings.Repeat("?,", len(columns)-1) + "?)"
	batch := make([]kafka.Message, 0, 1000)
	for read := 0; read < n; read += len(batch) {
		batch = batch[:0]
		for len(batch) < cap(batch) && read+len(batch) < n {
			m, err := r.FetchMessage(ctx)
			if err != nil {
				return err
			}
			batch = append(batch, m)
		}
		args := make([]any, 0, len(batch)*len(columns))
		for _, m := range batch {
			rec, err := s.Decode(m.Value)
			if err != nil {
				return err
			}
			for _, c := range columns {
				switch v := rec[c].(type) {
				case time.Time:
					args = append(args, v.In(zone).Format("2006-01-02 15:04:05.000"))
				case *big.Rat:
					args = append(args, v.FloatString(4))
				default:
					args = append(args, v)
				}
			}
		}
		query := "INSERT INTO `" + table + "` (" + strings.Join(quoted, ",") + ") VALUES " +
			strings.Repeat(row+",", len(batch)-1) + row + " ON DUPLICATE KEY UPDATE " + strings.Join(updates, ",")
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, query, args...); err != nil {
			tx.Rollback()
			return err
		}
		if err := tx.Commit(); err != nil {
			return err
		}
		if err := r.CommitMessages(ctx, batch...); err != nil {
			return err
		}
	}
	return nil
}
