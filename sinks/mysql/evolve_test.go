package mysql_test

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/ferry-data/ferry/internal/bus"
	"github.com/ferry-data/ferry/internal/mysqltest"
	"github.com/ferry-data/ferry/schemas"
	"github.com/ferry-data/ferry/sinks"
	sink "github.com/ferry-data/ferry/sinks/mysql"
)

func testSchema(t *testing.T, file string) *schemas.Schema {
	t.Helper()
	text, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	s, err := schemas.Parse(text)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func allColumns(s *schemas.Schema) []string {
	var cols []string
	for _, f := range s.Fields {
		cols = append(cols, f.Name)
	}
	return cols
}

// TestAddedFieldBecomesAColumn: a field added to the schema is added to
// the existing table online before the first record carrying it is
// written; older rows read null.
func TestAddedFieldBecomesAColumn(t *testing.T) {
	ctx := context.Background()
	db, _ := mysqltest.New(t)
	old, err := schemas.Load("refund")
	if err != nil {
		t.Fatal(err)
	}
	w, err := sink.New(db, old, sink.Config{Table: "refunds", Columns: allColumns(old)})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.CreateTable(ctx); err != nil {
		t.Fatal(err)
	}
	at := time.UnixMilli(1709290000000)
	if err := w.Write(ctx, []map[string]any{{"refund_id": int64(1), "modified": at}}); err != nil {
		t.Fatal(err)
	}

	added := testSchema(t, "testdata/refund_added_field.avsc")
	w2, err := sink.New(db, added, sink.Config{Table: "refunds", Columns: allColumns(added)})
	if err != nil {
		t.Fatal(err)
	}
	if err := w2.CreateTable(ctx); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(w2.Changes(), "; "); !strings.HasPrefix(got, "added column refund_channel VARCHAR(255) (ALGORITHM=") {
		t.Fatalf("changes %q", got)
	}
	if err := w2.Write(ctx, []map[string]any{{"refund_id": int64(2), "refund_channel": "app", "modified": at}}); err != nil {
		t.Fatal(err)
	}
	rows, err := db.QueryContext(ctx, "SELECT refund_id, COALESCE(refund_channel, '-') FROM refunds ORDER BY refund_id")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var got []string
	for rows.Next() {
		var id, ch string
		if err := rows.Scan(&id, &ch); err != nil {
			t.Fatal(err)
		}
		got = append(got, id+":"+ch)
	}
	if strings.Join(got, " ") != "1:- 2:app" {
		t.Fatalf("rows %v", got)
	}
	if w3, _ := sink.New(db, added, sink.Config{Table: "refunds", Columns: allColumns(added)}); w3.CreateTable(ctx) != nil || len(w3.Changes()) != 0 {
		t.Fatal("a table already evolved changed again")
	}
}

// TestChangedTypeStopsTheSink: a column whose type the schema changes is
// refused with the table, the column and the change, and the table is
// left as it was.
func TestChangedTypeStopsTheSink(t *testing.T) {
	ctx := context.Background()
	db, _ := mysqltest.New(t)
	old, _ := schemas.Load("refund")
	w, err := sink.New(db, old, sink.Config{Table: "refunds", Columns: allColumns(old)})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.CreateTable(ctx); err != nil {
		t.Fatal(err)
	}
	changed := testSchema(t, "testdata/refund_changed_type.avsc")
	w2, err := sink.New(db, changed, sink.Config{Table: "refunds", Columns: allColumns(changed)})
	if err != nil {
		t.Fatal(err)
	}
	err = w2.CreateTable(ctx)
	if err == nil || !strings.Contains(err.Error(), "mysql sink refunds: column refund_no is varchar(255), the schema wants bigint") {
		t.Fatalf("create: %v", err)
	}
	var typ string
	if err := db.QueryRowContext(ctx, "SELECT COLUMN_TYPE FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'refunds' AND COLUMN_NAME = 'refund_no'").Scan(&typ); err != nil || typ != "varchar(255)" {
		t.Fatalf("refund_no is now %q (%v)", typ, err)
	}
}

// TestCommitSkipsWhatThePositionCovers: a batch whose records the stored
// position already covers is skipped whole or in part, and the position
// never goes back: a sink that lost its partition cannot apply a record
// twice.
func TestCommitSkipsWhatThePositionCovers(t *testing.T) {
	ctx := context.Background()
	db, _ := mysqltest.New(t)
	s, _ := schemas.Load("refund")
	w, err := sink.New(db, s, sink.Config{Table: "refunds", Columns: allColumns(s), Replace: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.CreateTable(ctx); err != nil {
		t.Fatal(err)
	}
	at := time.UnixMilli(1709290000000)
	batch := func(from, to int64, no string) sinks.Batch {
		b := sinks.Batch{At: bus.Position{Topic: "canonical.refund.v1", Partition: 2, Next: to}}
		for o := from; o < to; o++ {
			b.Recs = append(b.Recs, map[string]any{"refund_id": o, "refund_no": no, "modified": at})
			b.Offsets = append(b.Offsets, o)
		}
		return b
	}
	rows := func() string {
		r, err := db.QueryContext(ctx, "SELECT refund_id, refund_no FROM refunds ORDER BY refund_id")
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		var out []string
		for r.Next() {
			var id, no string
			r.Scan(&id, &no)
			out = append(out, id+no)
		}
		return strings.Join(out, " ")
	}
	for _, step := range []struct {
		b    sinks.Batch
		rows string
		next int64
	}{
		{batch(0, 3, "a"), "0a 1a 2a", 3},
		{batch(0, 3, "b"), "0a 1a 2a", 3},       // applied already
		{batch(1, 5, "c"), "0a 1a 2a 3c 4c", 5}, // in part
		{batch(0, 2, "d"), "0a 1a 2a 3c 4c", 5}, // stale: nothing, position stays
		{batch(5, 6, "e"), "0a 1a 2a 3c 4c 5e", 6},
	} {
		if err := w.Commit(ctx, step.b); err != nil {
			t.Fatal(err)
		}
		next, ok, err := w.Position(ctx, "canonical.refund.v1", 2)
		if got := rows(); got != step.rows || !ok || err != nil || next != step.next {
			t.Fatalf("after offsets %v: rows %q position %d, want %q and %d", step.b.Offsets, got, next, step.rows, step.next)
		}
	}
}
