package sinks_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/ferry-data/ferry/internal/bus"
	"github.com/ferry-data/ferry/sinks"
	"github.com/ferry-data/ferry/sinks/mysql"
)

// TestExactlyOnceIntoMySQL: the sink writes every batch, but no offset
// commit reaches the group (as if the sink died after each database
// commit, before the offset commit). A new sink resumes from the positions
// stored with the rows, so no row is applied twice, even in a table in
// mode replace: a trigger counts every row inserted.
func TestExactlyOnceIntoMySQL(t *testing.T) {
	e := newSinkEnv(t)
	target, err := mysql.New(e.db, e.schema, mysql.Config{Table: "refund_replace", Columns: e.flow.Target.Columns,
		Zone: e.flow.Target.Zone.Loc(), Replace: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := target.CreateTable(e.ctx); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		"CREATE TABLE applied (n INT NOT NULL)",
		"INSERT INTO applied VALUES (0)",
		"CREATE TRIGGER count_applied AFTER INSERT ON refund_replace FOR EACH ROW UPDATE applied SET n = n + 1",
	} {
		if _, err := e.db.ExecContext(e.ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	applied := func() int {
		var n int
		if err := e.db.QueryRowContext(e.ctx, "SELECT n FROM applied").Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	publish := func(from, to int) {
		var msgs []kafka.Message
		for i := from; i < to; i++ {
			v, err := e.schema.Encode(map[string]any{"refund_id": int64(i % 7), "refund_no": fmt.Sprint("TK", i),
				"modified": time.UnixMilli(1709290000000 + int64(i))})
			if err != nil {
				t.Fatal(err)
			}
			msgs = append(msgs, kafka.Message{Topic: e.flow.CanonicalTopic(), Key: fmt.Append(nil, i%7), Value: v})
		}
		if err := e.w.WriteMessages(e.ctx, msgs...); err != nil {
			t.Fatal(err)
		}
	}
	// run runs a sink until its own positions reach the topic's end.
	run := func() {
		ctx, stop := context.WithCancel(e.ctx)
		done := make(chan error, 1)
		sk := &sinks.Sink{Flow: e.flow, Schema: e.schema, Brokers: e.brokers, Target: target, DeadLetters: e.w, BatchSize: 4}
		go func() { done <- sk.Run(ctx) }()
		end, err := bus.EndOffsets(e.ctx, e.brokers, e.flow.CanonicalTopic())
		if err != nil {
			t.Fatal(err)
		}
		for p, last := range end {
			for {
				at, _, err := target.Position(e.ctx, e.flow.CanonicalTopic(), p)
				if err != nil {
					t.Fatal(err)
				}
				if at >= last {
					break
				}
				select {
				case err := <-done:
					t.Fatalf("sink stopped: %v", err)
				case <-time.After(10 * time.Millisecond):
				}
			}
		}
		stop()
		<-done
	}

	// Every offset commit is refused: the group never learns what the
	// sink wrote.
	e.cluster.ControlKey(int16(kmsg.OffsetCommit), func(req kmsg.Request) (kmsg.Response, error, bool) {
		e.cluster.KeepControl()
		r := req.(*kmsg.OffsetCommitRequest)
		resp := r.ResponseKind().(*kmsg.OffsetCommitResponse)
		for _, rt := range r.Topics {
			st := kmsg.NewOffsetCommitResponseTopic()
			st.Topic = rt.Topic
			for _, rp := range rt.Partitions {
				sp := kmsg.NewOffsetCommitResponseTopicPartition()
				sp.Partition, sp.ErrorCode = rp.Partition, kerr.RebalanceInProgress.Code
				st.Partitions = append(st.Partitions, sp)
			}
			resp.Topics = append(resp.Topics, st)
		}
		return resp, nil, true
	})
	publish(0, 40)
	run()
	first := applied()
	if committed, err := bus.CommittedOffsets(e.ctx, e.brokers, sinks.Group(e.flow), e.flow.CanonicalTopic(), []int{0, 1, 2, 3, 4, 5}); err != nil || len(committed) != 0 {
		t.Fatalf("the group committed %v (%v)", committed, err)
	}
	// A new sink, nothing committed in the group: it resumes from the
	// table's positions and applies only what came since.
	publish(40, 45)
	run()
	if got := applied(); got > first+5 || got == first {
		t.Fatalf("rows inserted: %d in the first run, %d after the second, which had 5 new records: rows applied twice", first, got)
	}
	var n int
	if err := e.db.QueryRowContext(e.ctx, "SELECT COUNT(*) FROM refund_replace").Scan(&n); err != nil || n != 7 {
		t.Fatalf("%d rows, want 7 (%v)", n, err)
	}
}
