package mysql_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/ferry-data/ferry/internal/backoff"
	"github.com/ferry-data/ferry/internal/embedmysql"
	"github.com/ferry-data/ferry/internal/mysqltest"
	"github.com/ferry-data/ferry/schemas"
	sink "github.com/ferry-data/ferry/sinks/mysql"
)

// thing is a schema with a field of every kind.
func thing() *schemas.Schema {
	return &schemas.Schema{Name: "thing", Key: "id", Version: "modified", Fields: []schemas.Field{
		{Name: "id", Kind: schemas.Long, Doc: "the key"},
		{Name: "n", Kind: schemas.Int, Nullable: true},
		{Name: "x", Kind: schemas.Double, Nullable: true},
		{Name: "ok", Kind: schemas.Boolean, Nullable: true},
		{Name: "s", Kind: schemas.String, Nullable: true, Doc: `it's a \ doc`},
		{Name: "note", Kind: schemas.String, Nullable: true, SQLType: "TEXT"},
		{Name: "amount", Kind: schemas.Decimal, Nullable: true, Precision: 19, Scale: 4},
		{Name: "at", Kind: schemas.Timestamp, Nullable: true},
		{Name: "modified", Kind: schemas.Timestamp},
	}}
}

var thingColumns = []string{"id", "n", "x", "ok", "s", "note", "amount", "at", "modified"}

// t0 is the base version of the tests' records.
var t0 = time.Date(2023, 6, 14, 3, 13, 0, 0, time.UTC)

// rec is a thing with key id, version t0 + ms milliseconds and s.
func rec(id int64, ms int, s any) map[string]any {
	return map[string]any{"id": id, "s": s, "modified": t0.Add(time.Duration(ms) * time.Millisecond)}
}

// newWriter opens a Writer on a fresh table t of the thing schema.
func newWriter(t *testing.T, db *sql.DB, table string, cfg sink.Config) *sink.Writer {
	t.Helper()
	cfg.Table = table
	if cfg.Columns == nil {
		cfg.Columns = thingColumns
	}
	w, err := sink.New(db, thing(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.CreateTable(context.Background()); err != nil {
		t.Fatal(err)
	}
	return w
}

// dump returns the table's rows ordered by the first column, each as its
// columns' text joined by "|", NULL as "NULL".
func dump(t *testing.T, db *sql.DB, table string, cols ...string) []string {
	t.Helper()
	return query(t, db, "SELECT `"+strings.Join(cols, "`, `")+"` FROM `"+table+"` ORDER BY `"+cols[0]+"`")
}

// query returns the rows of q, each as its columns' text joined by "|",
// NULL as "NULL".
func query(t *testing.T, db *sql.DB, q string, args ...any) []string {
	t.Helper()
	rows, err := db.QueryContext(context.Background(), q, args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for rows.Next() {
		vals := make([]sql.NullString, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		texts := make([]string, len(cols))
		for i, v := range vals {
			texts[i] = "NULL"
			if v.Valid {
				texts[i] = v.String
			}
		}
		out = append(out, strings.Join(texts, "|"))
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func equal(t *testing.T, got, want []string) {
	t.Helper()
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("rows:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// backends are the databases the upsert must work on.
var backends = []struct {
	name string
	open func(t *testing.T) *sql.DB
}{
	{"mariadb", func(t *testing.T) *sql.DB {
		db, _ := mysqltest.New(t)
		return db
	}},
	{"go-mysql-server", func(t *testing.T) *sql.DB {
		dsn, stop, err := embedmysql.Start(context.Background(), "ferry")
		if err != nil {
			t.Fatal(err)
		}
		db, err := sql.Open("mysql", dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			db.Close()
			if err := stop(); err != nil {
				t.Error(err)
			}
		})
		return db
	}},
}

func TestUpsert(t *testing.T) {
	cases := []struct {
		name    string
		replace bool
		writes  [][]map[string]any
		want    []string // id|s|modified
	}{
		{
			name:   "inserts",
			writes: [][]map[string]any{{rec(1, 0, "a"), rec(2, 0, "b")}},
			want:   []string{"1|a|2023-06-14 03:13:00.000", "2|b|2023-06-14 03:13:00.000"},
		},
		{
			name:   "newer replaces",
			writes: [][]map[string]any{{rec(1, 0, "a")}, {rec(1, 1, "b")}},
			want:   []string{"1|b|2023-06-14 03:13:00.001"},
		},
		{
			name:   "older does not overwrite",
			writes: [][]map[string]any{{rec(1, 1, "b")}, {rec(1, 0, "a")}},
			want:   []string{"1|b|2023-06-14 03:13:00.001"},
		},
		{
			name:   "equal version is idempotent",
			writes: [][]map[string]any{{rec(1, 5, "a"), rec(2, 5, "b")}, {rec(1, 5, "a"), rec(2, 5, "b")}},
			want:   []string{"1|a|2023-06-14 03:13:00.005", "2|b|2023-06-14 03:13:00.005"},
		},
		{
			name:   "equal version updates",
			writes: [][]map[string]any{{rec(1, 5, "a")}, {rec(1, 5, "c")}},
			want:   []string{"1|c|2023-06-14 03:13:00.005"},
		},
		{
			name:   "same key twice in a batch keeps the newest",
			writes: [][]map[string]any{{rec(1, 2, "new"), rec(2, 0, "x"), rec(1, 1, "old")}},
			want:   []string{"1|new|2023-06-14 03:13:00.002", "2|x|2023-06-14 03:13:00.000"},
		},
		{
			name:   "same key and version twice in a batch keeps the later",
			writes: [][]map[string]any{{rec(1, 1, "first"), rec(1, 2, "newest"), rec(1, 2, "later")}},
			want:   []string{"1|later|2023-06-14 03:13:00.002"},
		},
		{
			name:   "batch dedupe against an older row",
			writes: [][]map[string]any{{rec(1, 3, "row")}, {rec(1, 2, "a"), rec(1, 4, "b"), rec(1, 1, "c")}},
			want:   []string{"1|b|2023-06-14 03:13:00.004"},
		},
		{
			name:   "nulls",
			writes: [][]map[string]any{{rec(1, 0, "a"), rec(2, 0, nil)}, {rec(1, 1, nil)}},
			want:   []string{"1|NULL|2023-06-14 03:13:00.001", "2|NULL|2023-06-14 03:13:00.000"},
		},
		{
			name:    "replace mode has no version guard",
			replace: true,
			writes:  [][]map[string]any{{rec(1, 1, "b"), rec(2, 0, "x")}, {rec(1, 0, "a")}},
			want:    []string{"1|a|2023-06-14 03:13:00.000", "2|x|2023-06-14 03:13:00.000"},
		},
		{
			name:    "replace mode keeps the newest of a batch",
			replace: true,
			writes:  [][]map[string]any{{rec(1, 1, "b"), rec(1, 0, "a")}},
			want:    []string{"1|b|2023-06-14 03:13:00.001"},
		},
	}
	for _, be := range backends {
		t.Run(be.name, func(t *testing.T) {
			db := be.open(t)
			for i, c := range cases {
				t.Run(c.name, func(t *testing.T) {
					table := fmt.Sprint("t", i)
					w := newWriter(t, db, table, sink.Config{Replace: c.replace})
					for _, batch := range c.writes {
						if err := w.Write(context.Background(), batch); err != nil {
							t.Fatal(err)
						}
					}
					want := c.want
					if be.name == "go-mysql-server" { // it drops trailing zeros of fractional seconds
						want = make([]string, len(c.want))
						for i, row := range c.want {
							want[i] = strings.TrimRight(strings.TrimRight(row, "0"), ".")
						}
					}
					equal(t, dump(t, db, table, "id", "s", "modified"), want)
				})
			}
		})
	}
}

func TestCreateTable(t *testing.T) {
	db, _ := mysqltest.New(t)
	w := newWriter(t, db, "things", sink.Config{})
	if err := w.CreateTable(context.Background()); err != nil { // exists: a no-op
		t.Fatal(err)
	}
	equal(t, query(t, db, `SELECT column_name, column_type, is_nullable, column_key, column_comment
		FROM information_schema.columns WHERE table_schema = DATABASE() AND table_name = 'things'
		ORDER BY ordinal_position`), []string{
		"id|bigint(20)|NO|PRI|the key",
		"n|int(11)|YES||",
		"x|double|YES||",
		"ok|tinyint(1)|YES||",
		`s|varchar(255)|YES||it's a \ doc`,
		"note|text|YES||",
		"amount|decimal(19,4)|YES||",
		"at|datetime(3)|YES||",
		"modified|datetime(3)|NO||",
	})
	equal(t, query(t, db, `SELECT c.character_set_name FROM information_schema.tables t
		JOIN information_schema.collation_character_set_applicability c ON c.collation_name = t.table_collation
		WHERE t.table_schema = DATABASE() AND t.table_name = 'things'`), []string{"utf8mb4"})
}

func TestValues(t *testing.T) {
	db, _ := mysqltest.New(t)
	w := newWriter(t, db, "things", sink.Config{Zone: shanghai(t)})
	recs := []map[string]any{
		{
			"id": int64(1), "n": int32(-7), "x": 1.5, "ok": true, "s": "退货 'quoted' \\ back",
			"note": strings.Repeat("七天无理由退货", 100), "amount": schemas.Rat("12345678901234.5678"),
			"at": t0, "modified": t0.Add(1500 * time.Millisecond),
		},
		{
			"id": int64(2), "n": int32(0), "x": -0.1, "ok": false, "s": "",
			"amount": schemas.Rat("-0.0001"), "at": time.Date(2023, 12, 31, 23, 59, 59, 999e6, time.FixedZone("x", -3600)),
			"modified": t0,
		},
		{"id": int64(3), "amount": schemas.Rat("999999999999999.9999"), "modified": t0}, // beyond int64 when scaled
		{"id": int64(4), "amount": schemas.Rat("-922337203685477.5808"), "modified": t0},
		{"id": int64(5), "amount": schemas.Rat("7/4"), "modified": t0},
		{"id": int64(-6), "amount": new(big.Rat), "modified": t0},
	}
	if err := w.Write(context.Background(), recs); err != nil {
		t.Fatal(err)
	}
	equal(t, dump(t, db, "things", "id", "n", "x", "ok", "s", "amount", "at", "modified"), []string{
		"-6|NULL|NULL|NULL|NULL|0.0000|NULL|2023-06-14 11:13:00.000",
		"1|-7|1.5|1|退货 'quoted' \\ back|12345678901234.5678|2023-06-14 11:13:00.000|2023-06-14 11:13:01.500",
		"2|0|-0.1|0||-0.0001|2024-01-01 08:59:59.999|2023-06-14 11:13:00.000",
		"3|NULL|NULL|NULL|NULL|999999999999999.9999|NULL|2023-06-14 11:13:00.000",
		"4|NULL|NULL|NULL|NULL|-922337203685477.5808|NULL|2023-06-14 11:13:00.000",
		"5|NULL|NULL|NULL|NULL|1.7500|NULL|2023-06-14 11:13:00.000",
	})
	equal(t, query(t, db, "SELECT note = ? FROM things WHERE id = 1", recs[0]["note"]), []string{"1"})
}

func TestZoneDefaultsToUTC(t *testing.T) {
	db, _ := mysqltest.New(t)
	w := newWriter(t, db, "things", sink.Config{Columns: []string{"id", "modified"}})
	if err := w.Write(context.Background(), []map[string]any{rec(1, 0, "ignored")}); err != nil {
		t.Fatal(err)
	}
	equal(t, dump(t, db, "things", "id", "modified"), []string{"1|2023-06-14 03:13:00.000"})
}

func TestRefund(t *testing.T) {
	ctx := context.Background()
	s, err := schemas.Load("refund")
	if err != nil {
		t.Fatal(err)
	}
	cols := make([]string, len(s.Fields))
	for i, f := range s.Fields {
		cols[i] = f.Name
	}
	db, _ := mysqltest.New(t)
	w, err := sink.New(db, s, sink.Config{Table: "aftersales_refund_refund_search", Columns: cols, Zone: shanghai(t)})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.CreateTable(ctx); err != nil {
		t.Fatal(err)
	}
	recs := refunds(3, 7)
	recs[1]["created"] = time.Date(2023, 6, 14, 3, 13, 0, 0, time.UTC)
	recs[1]["return_goods_amount"] = schemas.Rat("129.9")
	recs[2]["remark"] = nil
	if err := w.Write(ctx, recs); err != nil {
		t.Fatal(err)
	}
	equal(t, query(t, db, "SELECT refund_id, created, return_goods_amount, remark IS NULL FROM aftersales_refund_refund_search ORDER BY refund_id"), []string{
		"1|" + recs[0]["created"].(time.Time).In(shanghai(t)).Format("2006-01-02 15:04:05.000") + "|" +
			recs[0]["return_goods_amount"].(*big.Rat).FloatString(4) + "|0",
		"2|2023-06-14 11:13:00.000|129.9000|0",
		"3|" + recs[2]["created"].(time.Time).In(shanghai(t)).Format("2006-01-02 15:04:05.000") + "|" +
			recs[2]["return_goods_amount"].(*big.Rat).FloatString(4) + "|1",
	})
}

func TestManyRowsInOneTransaction(t *testing.T) {
	ctx := context.Background()
	db, _ := mysqltest.New(t)
	w := newWriter(t, db, "things", sink.Config{}) // BatchRows 1000: three statements
	recs := make([]map[string]any, 2500)
	for i := range recs {
		recs[i] = rec(int64(i+1), i, fmt.Sprint("row ", i+1))
	}

	recs[2400]["s"] = strings.Repeat("x", 256) // too long for VARCHAR(255): the third statement fails
	err := w.Write(ctx, recs)
	if err == nil || !strings.Contains(err.Error(), "things") {
		t.Fatalf("Write of a bad row: %v, want an error naming the table", err)
	}
	equal(t, query(t, db, "SELECT COUNT(*) FROM things"), []string{"0"}) // the first two were rolled back

	recs[2400]["s"] = "row 2401"
	if err := w.Write(ctx, recs); err != nil {
		t.Fatal(err)
	}
	equal(t, query(t, db, "SELECT COUNT(*), MIN(id), MAX(id), MAX(modified) FROM things"),
		[]string{"2500|1|2500|2023-06-14 03:13:02.499"})
	equal(t, dump(t, db, "things", "id", "s")[2400:2401], []string{"2401|row 2401"})
}

func TestNewValidates(t *testing.T) {
	cases := []struct {
		name string
		cfg  sink.Config
		want string
	}{
		{"no table", sink.Config{Columns: thingColumns}, "no table"},
		{"no columns", sink.Config{Table: "t"}, "no columns"},
		{"unknown column", sink.Config{Table: "t", Columns: []string{"id", "modified", "nope"}}, `"nope" is not a field`},
		{"duplicate column", sink.Config{Table: "t", Columns: []string{"id", "s", "modified", "s"}}, `"s" listed twice`},
		{"no key", sink.Config{Table: "t", Columns: []string{"s", "modified"}}, `lack the key "id"`},
		{"no version", sink.Config{Table: "t", Columns: []string{"id", "s"}}, `lack the version "modified"`},
		{"negative batch", sink.Config{Table: "t", Columns: thingColumns, BatchRows: -1}, "BatchRows"},
		{"batch too large", sink.Config{Table: "t", Columns: thingColumns, BatchRows: 10000}, "at most 65535"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := sink.New(nil, thing(), c.cfg)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("New: %v, want an error containing %q", err, c.want)
			}
		})
	}
}

func TestWriteRejects(t *testing.T) {
	db, _ := mysqltest.New(t)
	w := newWriter(t, db, "things", sink.Config{})
	with := func(k string, v any) map[string]any {
		r := rec(1, 0, "a")
		r[k] = v
		return r
	}
	cases := []struct {
		name string
		rec  map[string]any
		want string
	}{
		{"null key", with("id", nil), "id is required"},
		{"no version", with("modified", nil), "version modified is <nil>, want time.Time"},
		{"wrong key type", with("id", 1), "id is int, want long"},
		{"int for int32", with("n", 1), "n is int, want int"},
		{"string for decimal", with("amount", "1.5"), "amount is string, want decimal"},
		{"nil rat", with("amount", (*big.Rat)(nil)), "amount is *big.Rat, want decimal"},
		{"too many decimal places", with("amount", schemas.Rat("1.00005")), "more than 4 decimal places"},
		{"a third", with("amount", big.NewRat(1, 3)), "more than 4 decimal places"},
		{"too large", with("amount", schemas.Rat("1000000000000000")), "does not fit DECIMAL(19,4)"},
		{"instant as string", with("at", "2023-06-14"), "at is string, want timestamp"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := w.Write(context.Background(), []map[string]any{rec(2, 0, "fine"), c.rec})
			if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "things") {
				t.Errorf("Write: %v, want an error containing %q and the table", err, c.want)
			}
		})
	}
	equal(t, query(t, db, "SELECT COUNT(*) FROM things"), []string{"0"})
}

func TestWriteNothing(t *testing.T) {
	w, err := sink.New(nil, thing(), sink.Config{Table: "t", Columns: thingColumns})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(context.Background(), nil); err != nil { // no records: no transaction either
		t.Fatal(err)
	}
}

// TestQuoteHoldsOnMariaDB: an identifier quoted by Quote is one name to
// the server, whatever it holds; flow files only give plain names, and
// Quote is the second fence.
func TestQuoteHoldsOnMariaDB(t *testing.T) {
	db, _ := mysqltest.New(t)
	ctx := context.Background()
	for _, name := range []string{"we`ird", "t; DROP TABLE users; --", "x` (id INT); DROP TABLE y; --"} {
		if _, err := db.ExecContext(ctx, "CREATE TABLE "+sink.Quote(name)+" ("+sink.Quote("a`b")+" INT)"); err != nil {
			t.Fatalf("%q: %v", name, err)
		}
		var got string
		if err := db.QueryRowContext(ctx, "SELECT table_name FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name = ?", name).Scan(&got); err != nil || got != name {
			t.Fatalf("table %q: %q, %v", name, got, err)
		}
	}
}

// TestKilledWriteIsRetried: a write whose statement or connection the
// server kills (an operator's KILL, a failover) is a transient failure
// that the sink retries, never rows the database refused (which the sink
// would dead-letter). The write waits on a row lock, so the kill finds it
// mid-statement.
func TestKilledWriteIsRetried(t *testing.T) {
	for _, kill := range []string{"KILL QUERY", "KILL CONNECTION"} {
		t.Run(kill, func(t *testing.T) {
			db, _ := mysqltest.New(t)
			w := newWriter(t, db, "things", sink.Config{})
			ctx := context.Background()
			if err := w.Write(ctx, []map[string]any{rec(1, 0, "a")}); err != nil {
				t.Fatal(err)
			}
			lock, err := db.BeginTx(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer lock.Rollback()
			if _, err := lock.ExecContext(ctx, "SELECT id FROM things WHERE id = 1 FOR UPDATE"); err != nil {
				t.Fatal(err)
			}
			errc := make(chan error, 1)
			go func() { errc <- w.Write(ctx, []map[string]any{rec(1, 5, "b")}) }()
			id := waitingWrite(t, db)
			if _, err := db.ExecContext(ctx, fmt.Sprintf("%s %d", kill, id)); err != nil {
				t.Fatal(err)
			}
			err = <-errc
			if _, ok := backoff.Retryable(err); !ok {
				t.Fatalf("after %s: %v, want a transient error", kill, err)
			}
			lock.Rollback()
			if err := w.Write(ctx, []map[string]any{rec(1, 5, "b")}); err != nil {
				t.Fatal(err)
			}
			equal(t, query(t, db, "SELECT s FROM things"), []string{"b"})
		})
	}
}

// waitingWrite returns the id of the connection whose write to things
// waits on a lock.
func waitingWrite(t *testing.T, db *sql.DB) int64 {
	deadline := time.After(10 * time.Second)
	for {
		var id int64
		err := db.QueryRow("SELECT ID FROM information_schema.PROCESSLIST WHERE INFO LIKE 'INSERT INTO%things%' LIMIT 1").Scan(&id)
		if err == nil {
			return id
		}
		if !errors.Is(err, sql.ErrNoRows) {
			t.Fatal(err)
		}
		select {
		case <-deadline:
			t.Fatal("the write never reached the server")
		case <-time.After(10 * time.Millisecond): // polling the server's process list
		}
	}
}
