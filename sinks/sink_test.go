package sinks_test

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/ferry-data/ferry/flows"
	"github.com/ferry-data/ferry/internal/bus"
	"github.com/ferry-data/ferry/internal/mysqltest"
	"github.com/ferry-data/ferry/internal/stats"
	"github.com/ferry-data/ferry/schemas"
	"github.com/ferry-data/ferry/sinks"
	"github.com/ferry-data/ferry/sinks/mysql"
)

// TestRefusedRowsAreDeadLettered: in a batch holding a row MariaDB refuses
// (a refund_no longer than its column) and a message that is not a
// canonical record, both go to the dead-letter topic with the reason, the
// other rows land, and the batch's offsets are committed.
// sinkEnv is what a sink test runs on: a broker with the refund flow's
// canonical topic, MariaDB with its table, and a writer.
type sinkEnv struct {
	ctx     context.Context
	cluster *kfake.Cluster
	brokers []string
	db      *sql.DB
	flow    *flows.Flow
	schema  *schemas.Schema
	target  *mysql.Writer
	w       *kafka.Writer
}

func newSinkEnv(t *testing.T) *sinkEnv {
	t.Helper()
	cluster, err := kfake.NewCluster(kfake.NumBrokers(1))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cluster.Close)
	t.Cleanup(kafka.DefaultTransport.(*kafka.Transport).CloseIdleConnections)
	e := &sinkEnv{cluster: cluster, brokers: cluster.ListenAddrs()}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	e.ctx = ctx
	e.db, _ = mysqltest.New(t)
	if e.flow, err = flows.Named("wdt_refunds"); err != nil {
		t.Fatal(err)
	}
	if e.schema, err = schemas.Load("refund"); err != nil {
		t.Fatal(err)
	}
	e.target, err = mysql.New(e.db, e.schema, mysql.Config{Table: e.flow.Target.Table, Columns: e.flow.Target.Columns, Zone: e.flow.Target.Zone.Loc()})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.target.CreateTable(ctx); err != nil {
		t.Fatal(err)
	}
	e.w = bus.NewWriter(e.brokers, nil)
	t.Cleanup(func() { e.w.Close() })
	if err := bus.EnsureTopics(ctx, e.brokers, nil, bus.Canonical(e.flow.CanonicalTopic(), bus.Settings{})); err != nil {
		t.Fatal(err)
	}
	return e
}

func TestRefusedRowsAreDeadLettered(t *testing.T) {
	e := newSinkEnv(t)
	ctx, brokers, db, flow, schema, target, w := e.ctx, e.brokers, e.db, e.flow, e.schema, e.target, e.w
	var msgs []kafka.Message
	for id, no := range []string{"TK1", strings.Repeat("长", 300), "TK3"} {
		v, err := schema.Encode(map[string]any{"refund_id": int64(id + 1), "refund_no": no, "modified": time.UnixMilli(1709290000000)})
		if err != nil {
			t.Fatal(err)
		}
		msgs = append(msgs, kafka.Message{Topic: flow.CanonicalTopic(), Key: []byte(fmt.Sprint(id + 1)), Value: v})
	}
	msgs = append(msgs, kafka.Message{Topic: flow.CanonicalTopic(), Key: []byte("4"), Value: []byte("not avro")})
	if err := w.WriteMessages(ctx, msgs...); err != nil {
		t.Fatal(err)
	}

	st := &stats.Flow{}
	sink := &sinks.Sink{Flow: flow, Schema: schema, Brokers: brokers, Target: target, DeadLetters: w, Stats: st}
	sctx, stop := context.WithCancel(ctx)
	wctx, stopped := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- sink.Run(sctx); stopped() }()
	end, err := bus.EndOffsets(ctx, brokers, flow.CanonicalTopic())
	if err != nil {
		t.Fatal(err)
	}
	if err := bus.WaitCaughtUp(wctx, brokers, sinks.Group(flow), flow.CanonicalTopic(), end); err != nil {
		t.Fatalf("%v (sink: %v)", err, <-done)
	}
	stop()
	if err := <-done; err != context.Canceled {
		t.Fatal(err)
	}

	var ids []int
	rows, err := db.QueryContext(ctx, "SELECT refund_id FROM "+flow.Target.Table+" ORDER BY refund_id")
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id int
		rows.Scan(&id)
		ids = append(ids, id)
	}
	if fmt.Sprint(ids) != "[1 3]" {
		t.Fatalf("table holds %v, want [1 3]", ids)
	}
	var dead []string
	if err := bus.ReadAll(ctx, brokers, flow.DeadLetterTopic(), func(m kafka.Message) {
		dead = append(dead, string(m.Key)+": "+bus.Header(m, bus.HeaderError))
	}); err != nil {
		t.Fatal(err)
	}
	slices.Sort(dead) // they come from two partitions
	if len(dead) != 2 || !strings.HasPrefix(dead[1], "4: decode refund") || !strings.Contains(dead[0], "Data too long for column 'refund_no'") {
		t.Fatalf("dead letters %q", dead)
	}
	if st.Written.Load() != 2 || st.DeadLettered.Load() != 2 {
		t.Fatalf("written %d, dead-lettered %d", st.Written.Load(), st.DeadLettered.Load())
	}
}
