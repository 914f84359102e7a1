package mysql

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"math"
	"math/big"
	"net"
	"strings"
	"time"

	mysqldriver "github.com/go-sql-driver/mysql"

	"github.com/ferry-data/ferry/internal/backoff"
	"github.com/ferry-data/ferry/schemas"
	"github.com/ferry-data/ferry/sinks"
)

// maxPlaceholders is the most parameters a MySQL prepared statement takes;
// the driver prepares a statement when it cannot interpolate its arguments.
const maxPlaceholders = 65535

// timeLayout renders a timestamp as a DATETIME(3) literal.
const timeLayout = "2006-01-02 15:04:05.000"

// Config says where and how a Writer writes.
type Config struct {
	// Table is the target table, a single name in the connection's database.
	Table string
	// Columns are the columns written, in order (from the flow's main_sql).
	// Each must be a field of the schema, and they must include the key and
	// the version field.
	Columns []string
	// Replace writes with a literal REPLACE INTO instead of the version
	// guarded upsert: it deletes, then inserts, on a conflict with ANY unique
	// key, and an older record replaces a newer row. Use it only where a
	// flow asks for it.
	Replace bool
	// Zone is the zone whose wall-clock time timestamps are written in (the
	// vendor's, e.g. Asia/Shanghai); nil means UTC. The version guard
	// compares these wall-clock values, so a zone with daylight saving time
	// would misorder versions in the hour its clocks go back.
	Zone *time.Location
	// BatchRows is the most rows one statement carries; 0 means 1000.
	BatchRows int
}

// Writer writes batches of canonical records into one table. It is safe for
// concurrent use; concurrent batches that share keys may deadlock in the
// database, an error like any other that the caller answers by retrying.
type Writer struct {
	db        *sql.DB
	table     string
	cols      []*schemas.Field
	key, ver  int // indexes of the key and the version in cols
	zone      *time.Location
	batchRows int

	prefix, row, suffix string // statement parts; see statement
	full                string // the statement for BatchRows rows

	changes []string // what CreateTable changed in an existing table
}

// Changes says what CreateTable changed in an existing table: the
// columns it added, and how.
func (w *Writer) Changes() []string { return w.changes }

// New validates cfg against the schema s and returns a Writer on db.
//
// db should be opened with interpolateParams=true: the driver then sends
// each statement with its arguments in one round trip, instead of
// preparing, executing and closing it.
func New(db *sql.DB, s *schemas.Schema, cfg Config) (*Writer, error) {
	w := &Writer{db: db, table: cfg.Table, key: -1, ver: -1, zone: cfg.Zone, batchRows: cfg.BatchRows}
	if cfg.Table == "" {
		return nil, errors.New("mysql sink: no table")
	}
	if len(cfg.Columns) == 0 {
		return nil, fmt.Errorf("mysql sink %s: no columns", cfg.Table)
	}
	if err := s.CheckColumns(cfg.Columns); err != nil {
		return nil, fmt.Errorf("mysql sink %s: %w", cfg.Table, err)
	}
	for i, name := range cfg.Columns {
		w.cols = append(w.cols, s.Field(name))
		switch name {
		case s.Key:
			w.key = i
		case s.Version:
			w.ver = i
		}
	}
	if w.zone == nil {
		w.zone = time.UTC
	}
	if w.batchRows == 0 {
		w.batchRows = 1000
	}
	if w.batchRows < 0 || w.batchRows*len(w.cols) > maxPlaceholders {
		return nil, fmt.Errorf("mysql sink %s: BatchRows %d × %d columns must be positive and at most %d values",
			cfg.Table, w.batchRows, len(w.cols), maxPlaceholders)
	}

	names := make([]string, len(w.cols))
	marks := make([]string, len(w.cols))
	for i, f := range w.cols {
		names[i], marks[i] = Quote(f.Name), "?"
	}
	verb := "INSERT INTO "
	if cfg.Replace {
		verb = "REPLACE INTO "
	}
	w.prefix = verb + Quote(cfg.Table) + " (" + strings.Join(names, ", ") + ") VALUES "
	w.row = "(" + strings.Join(marks, ", ") + ")"
	if !cfg.Replace {
		var sets []string
		if w.ver < 0 { // the source keeps no version: the latest write wins
			for i, c := range names {
				if i != w.key {
					sets = append(sets, fmt.Sprintf("%s = VALUES(%s)", c, c))
				}
			}
		} else {
			v := names[w.ver]
			for i, c := range names {
				if i != w.key && i != w.ver {
					sets = append(sets, fmt.Sprintf("%s = IF(VALUES(%s) >= %s, VALUES(%s), %s)", c, v, v, c, c))
				}
			}
			sets = append(sets, fmt.Sprintf("%s = GREATEST(%s, VALUES(%s))", v, v, v))
		}
		w.suffix = " ON DUPLICATE KEY UPDATE " + strings.Join(sets, ", ")
	}
	w.full = w.statement(w.batchRows)
	return w, nil
}

// statement is the write statement for n rows.
func (w *Writer) statement(n int) string {
	var b strings.Builder
	b.Grow(len(w.prefix) + n*(len(w.row)+1) + len(w.suffix))
	b.WriteString(w.prefix)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(w.row)
	}
	b.WriteString(w.suffix)
	return b.String()
}

// CreateTable creates the table if it does not exist, with the Writer's
// columns typed from the schema (Long BIGINT, Int INT, Double DOUBLE,
// Boolean TINYINT(1), String VARCHAR(255), Decimal DECIMAL(p,s), Timestamp
// DATETIME(3), or the field's SQLType), the key as NOT NULL PRIMARY KEY,
// and utf8mb4 as the default charset.
//
// A failure that says nothing of the table (a lost or killed connection)
// is marked Transient.
func (w *Writer) CreateTable(ctx context.Context) error {
	return Transient(w.createTable(ctx))
}

func (w *Writer) createTable(ctx context.Context) error {
	var b strings.Builder
	b.WriteString("CREATE TABLE IF NOT EXISTS " + Quote(w.table) + " (")
	for i, f := range w.cols {
		if i > 0 {
			b.WriteString(",")
		}
		b.WriteString("\n  " + Quote(f.Name) + " " + sqlType(f))
		switch {
		case i == w.key:
			b.WriteString(" NOT NULL PRIMARY KEY")
		case f.Nullable:
			b.WriteString(" NULL")
		default:
			b.WriteString(" NOT NULL")
		}
		if f.Doc != "" {
			b.WriteString(" COMMENT " + literal(f.Doc))
		}
	}
	b.WriteString("\n) DEFAULT CHARSET=utf8mb4")
	if _, err := w.db.ExecContext(ctx, b.String()); err != nil {
		return fmt.Errorf("mysql sink %s: create table: %w", w.table, err)
	}
	if err := w.evolve(ctx); err != nil {
		return err
	}
	_, err := w.db.ExecContext(ctx, "CREATE TABLE IF NOT EXISTS "+Quote(PositionsTable)+` (
  table_name VARCHAR(64) NOT NULL COMMENT 'the table whose rows these are',
  topic VARCHAR(249) NOT NULL COMMENT 'the canonical topic the rows came from',
  kpartition INT NOT NULL COMMENT 'its partition',
  next_offset BIGINT NOT NULL COMMENT 'the offset of the next record to apply',
  PRIMARY KEY (table_name, topic, kpartition)
) DEFAULT CHARSET=utf8mb4 COMMENT 'ferry: where each table''s rows stand in their topics; written with the rows'`)
	if err != nil {
		return fmt.Errorf("mysql sink %s: create %s: %w", w.table, PositionsTable, err)
	}
	_, err = w.db.ExecContext(ctx, "CREATE TABLE IF NOT EXISTS "+Quote(ControlTable)+` (
  table_name VARCHAR(64) NOT NULL PRIMARY KEY COMMENT 'the table',
  paused TINYINT(1) NOT NULL COMMENT '1 while a rebuild swaps it: its writers wait'
) DEFAULT CHARSET=utf8mb4 COMMENT 'ferry: holds a table''s writers during a rebuild''s swap'`)
	if err != nil {
		return fmt.Errorf("mysql sink %s: create %s: %w", w.table, ControlTable, err)
	}
	return nil
}

// evolve brings an existing table to the writer's columns before any row
// is written: a column the table lacks (a field added to the schema) is
// added online, ALGORITHM=INSTANT where the server can, else INPLACE
// without locking; a column whose type differs from the schema's, or a
// changed key, is refused with the table, the column and the change, and
// nothing is altered.
func (w *Writer) evolve(ctx context.Context) error {
	rows, err := w.db.QueryContext(ctx, "SELECT COLUMN_NAME, COLUMN_TYPE, COLUMN_KEY FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ?", w.table)
	if err != nil {
		return fmt.Errorf("mysql sink %s: read its columns: %w", w.table, err)
	}
	defer rows.Close()
	have := map[string]string{}
	var key string
	for rows.Next() {
		var name, typ, ckey string
		if err := rows.Scan(&name, &typ, &ckey); err != nil {
			return fmt.Errorf("mysql sink %s: read its columns: %w", w.table, err)
		}
		have[strings.ToLower(name)] = typ
		if ckey == "PRI" {
			key = name
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("mysql sink %s: read its columns: %w", w.table, err)
	}
	if want := w.cols[w.key].Name; !strings.EqualFold(key, want) {
		return fmt.Errorf("mysql sink %s: the table's key is %q, the schema's is %q: a changed key needs a rebuild; nothing was altered", w.table, key, want)
	}
	var missing []*schemas.Field
	for _, f := range w.cols {
		typ, ok := have[strings.ToLower(f.Name)]
		if !ok {
			missing = append(missing, f)
			continue
		}
		if got, want := normalType(typ), normalType(sqlType(f)); got != want {
			return fmt.Errorf("mysql sink %s: column %s is %s, the schema wants %s: ferry does not change a column's type (alter it, or rebuild the table); nothing was altered", w.table, f.Name, got, want)
		}
	}
	for _, f := range missing {
		null := " NULL"
		if !f.Nullable {
			null = " NOT NULL"
		}
		add := "ALTER TABLE " + Quote(w.table) + " ADD COLUMN " + Quote(f.Name) + " " + sqlType(f) + null
		if f.Doc != "" {
			add += " COMMENT " + literal(f.Doc)
		}
		how := "ALGORITHM=INSTANT"
		if _, err := w.db.ExecContext(ctx, add+", "+how); err != nil {
			how = "ALGORITHM=INPLACE, LOCK=NONE"
			if _, err2 := w.db.ExecContext(ctx, add+", "+how); err2 != nil {
				return fmt.Errorf("mysql sink %s: add column %s: %w (INSTANT: %v)", w.table, f.Name, err2, err)
			}
		}
		w.changes = append(w.changes, fmt.Sprintf("added column %s %s (%s)", f.Name, sqlType(f), how))
	}
	return nil
}

// normalType writes a column type the way both servers compare: lower
// case, without the display widths of integers.
func normalType(t string) string {
	t = strings.ToLower(strings.TrimSpace(t))
	for _, i := range []string{"bigint", "int", "tinyint(1)"} {
		if strings.HasPrefix(t, i) {
			if i == "tinyint(1)" {
				return i
			}
			if rest := strings.TrimPrefix(t, i); rest == "" || strings.HasPrefix(rest, "(") {
				return i
			}
		}
	}
	return t
}

func sqlType(f *schemas.Field) string {
	if f.SQLType != "" {
		return f.SQLType
	}
	switch f.Kind {
	case schemas.Long:
		return "BIGINT"
	case schemas.Int:
		return "INT"
	case schemas.Double:
		return "DOUBLE"
	case schemas.Boolean:
		return "TINYINT(1)"
	case schemas.Decimal:
		return fmt.Sprintf("DECIMAL(%d,%d)", f.Precision, f.Scale)
	case schemas.Timestamp:
		return "DATETIME(3)"
	}
	return "VARCHAR(255)"
}

// Write stores recs in one transaction, in statements of up to BatchRows
// rows, and returns only after the transaction committed. Of records
// sharing a key only the one with the newest version is written (of equal
// versions, the later one). On error nothing is written.
func (w *Writer) Write(ctx context.Context, recs []map[string]any) error {
	if len(recs) == 0 {
		return nil
	}
	if err := w.write(ctx, recs); err != nil {
		return Transient(fmt.Errorf("mysql sink %s: %w", w.table, err))
	}
	return nil
}

// transientErrors are the server's error numbers that say nothing about
// the rows: the statement or its connection was cut short, and the same
// statement can succeed a moment later. A row sent to the dead-letter
// topic for one of these would be lost to the table for no reason.
var transientErrors = map[uint16]string{
	1040: "too many connections",
	1053: "server shutdown in progress",
	1158: "network read error",
	1159: "network read timeout",
	1160: "network write error",
	1161: "network write timeout",
	1205: "lock wait timeout",
	1213: "deadlock",
	1290: "server running read-only (a failover)",
	1317: "query interrupted",
	1792: "read-only transaction (a failover)",
	1927: "connection killed (MariaDB)",
	2006: "server gone away",
	2013: "connection lost during query",
}

// Transient marks the database's transient failures as worth retrying
// (backoff.Retry): lost, killed or interrupted connections, network
// errors, deadlocks, lock waits, too many connections, a shutdown or a
// failover, and a table paused for a rebuild's swap. Other errors are the
// database refusing the rows.
func Transient(err error) error {
	if err == nil {
		return nil
	}
	var me *mysqldriver.MySQLError
	var ne net.Error
	switch {
	case errors.As(err, &me):
		if _, ok := transientErrors[me.Number]; !ok {
			return err
		}
	case errors.Is(err, sinks.ErrPaused), errors.Is(err, driver.ErrBadConn), errors.Is(err, mysqldriver.ErrInvalidConn),
		errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.As(err, &ne):
	default:
		return err
	}
	return &backoff.Retry{Err: err}
}

func (w *Writer) write(ctx context.Context, recs []map[string]any) error {
	tx, err := w.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback() // a no-op after Commit
	if err := w.upsert(ctx, tx, recs); err != nil {
		return err
	}
	return tx.Commit()
}

// ControlTable holds, per table, whether its writers are paused (a
// rebuild swapping it).
const ControlTable = "ferry_sink_control"

// Pause holds (or, paused false, releases) every writer of a table: once
// Pause returns, the commits in flight have ended and no other begins
// until the release.
func Pause(ctx context.Context, db *sql.DB, table string, paused bool) error {
	_, err := db.ExecContext(ctx, "INSERT INTO "+Quote(ControlTable)+" (table_name, paused) VALUES (?, ?) ON DUPLICATE KEY UPDATE paused = VALUES(paused)", table, paused)
	if err != nil {
		return fmt.Errorf("mysql sink %s: pause %v: %w", table, paused, err)
	}
	return nil
}

// PositionsTable is where a sink keeps, per table, topic and partition,
// the offset its table's rows reach, written in the transaction of the
// rows themselves.
const PositionsTable = "ferry_sink_positions"

// Commit applies a batch in one transaction: its rows, its deletions and
// the position it ends at, so that a sink resuming from Position applies
// each record exactly once. The stored position is read and locked first:
// what it already covers is skipped, so two writers of a partition (one
// that lost it and does not know yet, or a rebuild) never apply a record
// twice, nor move the position back.
func (w *Writer) Commit(ctx context.Context, b sinks.Batch) error {
	return Transient(w.commit(ctx, b))
}

func (w *Writer) commit(ctx context.Context, b sinks.Batch) error {
	tx, err := w.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("mysql sink %s: %w", w.table, err)
	}
	defer tx.Rollback()
	// A rebuild pauses the table's writers while it swaps tables: the
	// shared lock makes its pause wait for the commits in flight.
	var paused bool
	err = tx.QueryRowContext(ctx, "SELECT paused FROM "+Quote(ControlTable)+" WHERE table_name = ? LOCK IN SHARE MODE", w.table).Scan(&paused)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("mysql sink %s: control: %w", w.table, err)
	}
	if paused {
		return fmt.Errorf("mysql sink %s: %w", w.table, sinks.ErrPaused)
	}
	stored := int64(-1)
	err = tx.QueryRowContext(ctx, "SELECT next_offset FROM "+Quote(PositionsTable)+" WHERE table_name = ? AND topic = ? AND kpartition = ? FOR UPDATE",
		w.table, b.At.Topic, b.At.Partition).Scan(&stored)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("mysql sink %s: position: %w", w.table, err)
	}
	if stored >= b.At.Next {
		return nil // applied already
	}
	recs, deletes := b.Recs, b.Deletes
	if stored > 0 {
		recs, deletes = nil, nil
		for i, r := range b.Recs {
			if b.Offsets[i] >= stored {
				recs = append(recs, r)
			}
		}
		for i, k := range b.Deletes {
			if b.DeleteOffsets[i] >= stored {
				deletes = append(deletes, k)
			}
		}
	}
	if err := w.upsert(ctx, tx, recs); err != nil {
		return fmt.Errorf("mysql sink %s: %w", w.table, err)
	}
	if err := w.delete(ctx, tx, deletes); err != nil {
		return err
	}
	at := b.At
	q := "INSERT INTO " + Quote(PositionsTable) + " (table_name, topic, kpartition, next_offset) VALUES (?, ?, ?, ?) " +
		"ON DUPLICATE KEY UPDATE next_offset = VALUES(next_offset)"
	if _, err := tx.ExecContext(ctx, q, w.table, at.Topic, at.Partition, at.Next); err != nil {
		return fmt.Errorf("mysql sink %s: position: %w", w.table, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("mysql sink %s: %w", w.table, err)
	}
	return nil
}

// Position returns the offset the table's rows reach in a topic
// partition, if a batch of it was ever committed.
func (w *Writer) Position(ctx context.Context, topic string, partition int) (int64, bool, error) {
	var next int64
	err := w.db.QueryRowContext(ctx, "SELECT next_offset FROM "+Quote(PositionsTable)+" WHERE table_name = ? AND topic = ? AND kpartition = ?",
		w.table, topic, partition).Scan(&next)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("mysql sink %s: position: %w", w.table, err)
	}
	return next, true, nil
}

// upsert writes recs in statements of up to BatchRows rows within tx.
func (w *Writer) upsert(ctx context.Context, tx *sql.Tx, recs []map[string]any) error {
	if len(recs) == 0 {
		return nil
	}
	keep, err := w.newest(recs)
	if err != nil {
		return err
	}
	nc := len(w.cols)
	args := make([]any, 0, len(keep)*nc)
	for _, i := range keep {
		for _, f := range w.cols {
			v, err := w.value(f, recs[i][f.Name])
			if err != nil {
				return fmt.Errorf("record %d: %w", i, err)
			}
			args = append(args, v)
		}
	}

	for off := 0; off < len(keep); off += w.batchRows {
		n := min(w.batchRows, len(keep)-off)
		q := w.full
		if n != w.batchRows {
			q = w.statement(n)
		}
		if _, err := tx.ExecContext(ctx, q, args[off*nc:(off+n)*nc]...); err != nil {
			return err
		}
	}
	return nil
}

// newest returns the indexes of the records to write: per key the one with
// the newest version, the later one of equal versions, at the place of the
// key's first record.
func (w *Writer) newest(recs []map[string]any) ([]int, error) {
	kf := w.cols[w.key]
	keep := make([]int, 0, len(recs))
	vers := make([]time.Time, 0, len(recs))
	at := make(map[any]int, len(recs)) // key value → index into keep
	for i, r := range recs {
		k, err := w.value(kf, r[kf.Name])
		if err != nil {
			return nil, fmt.Errorf("record %d: %w", i, err)
		}
		if k == nil {
			return nil, fmt.Errorf("record %d: key %s is null", i, kf.Name)
		}
		var v time.Time // without a version column, the later record wins
		if w.ver >= 0 {
			vf := w.cols[w.ver]
			var ok bool
			if v, ok = r[vf.Name].(time.Time); !ok {
				return nil, fmt.Errorf("record %d: version %s is %T, want time.Time", i, vf.Name, r[vf.Name])
			}
		}
		j, dup := at[k]
		switch {
		case !dup:
			at[k] = len(keep)
			keep, vers = append(keep, i), append(vers, v)
		case !v.Before(vers[j]):
			keep[j], vers[j] = i, v
		}
	}
	return keep, nil
}

// value converts a plain record value of the field f to a statement
// argument: int64, float64, bool, string or nil.
func (w *Writer) value(f *schemas.Field, v any) (any, error) {
	if v == nil {
		if !f.Nullable {
			return nil, fmt.Errorf("%s is required", f.Name)
		}
		return nil, nil
	}
	var ok bool
	switch f.Kind {
	case schemas.Long:
		_, ok = v.(int64)
	case schemas.Int:
		var i int32
		if i, ok = v.(int32); ok {
			return int64(i), nil
		}
	case schemas.Double:
		_, ok = v.(float64)
	case schemas.Boolean:
		_, ok = v.(bool)
	case schemas.String:
		_, ok = v.(string)
	case schemas.Decimal:
		if r, _ := v.(*big.Rat); r != nil {
			return decimal(f, r)
		}
	case schemas.Timestamp:
		var t time.Time
		if t, ok = v.(time.Time); ok {
			return t.In(w.zone).Format(timeLayout), nil
		}
	}
	if !ok {
		return nil, fmt.Errorf("%s is %T, want %s", f.Name, v, f.Kind)
	}
	return v, nil
}

// decimal renders r exactly with f.Scale decimal places, or fails if that
// would round it or it does not fit DECIMAL(f.Precision, f.Scale).
func decimal(f *schemas.Field, r *big.Rat) (string, error) {
	s, ok := fixed(r, f.Scale)
	if !ok {
		if !exact(r, f.Scale) {
			return "", fmt.Errorf("%s %s has more than %d decimal places", f.Name, r.RatString(), f.Scale)
		}
		s = r.FloatString(f.Scale)
	}
	whole, _, _ := strings.Cut(strings.TrimPrefix(s, "-"), ".")
	if whole != "0" && len(whole) > f.Precision-f.Scale {
		return "", fmt.Errorf("%s %s does not fit DECIMAL(%d,%d)", f.Name, s, f.Precision, f.Scale)
	}
	return s, nil
}

// fixed is r.FloatString(scale) in int64 arithmetic, for an r that has at
// most scale decimal places and whose scaled value fits an int64; ok is
// false for any other r. It is several times faster than FloatString.
func fixed(r *big.Rat, scale int) (s string, ok bool) {
	num, den := r.Num(), r.Denom()
	if scale > 18 || !num.IsInt64() || !den.IsUint64() {
		return "", false
	}
	p := uint64(1)
	for range scale {
		p *= 10
	}
	d := den.Uint64()
	if p%d != 0 {
		return "", false
	}
	m, n := p/d, num.Int64()
	if n < -math.MaxInt64/int64(m) || n > math.MaxInt64/int64(m) {
		return "", false
	}
	n *= int64(m)
	u := uint64(n)
	if n < 0 {
		u = uint64(-n)
	}
	var buf [40]byte // a sign, 19 digits, a point and up to 18 zeros
	i := len(buf)
	for range scale {
		i--
		buf[i] = byte('0' + u%10)
		u /= 10
	}
	if scale > 0 {
		i--
		buf[i] = '.'
	}
	for {
		i--
		buf[i] = byte('0' + u%10)
		if u /= 10; u == 0 {
			break
		}
	}
	if n < 0 {
		i--
		buf[i] = '-'
	}
	return string(buf[i:]), true
}

// exact reports whether r has at most scale decimal places, that is whether
// its denominator divides 10^scale.
func exact(r *big.Rat, scale int) bool {
	p := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(scale)), nil)
	return p.Mod(p, r.Denom()).Sign() == 0
}

// Quote quotes an identifier with backticks, for MySQL and MariaDB.
func Quote(name string) string {
	return "`" + strings.ReplaceAll(name, "`", "``") + "`"
}

// literal quotes a string literal.
func literal(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `''`).Replace(s) + "'"
}

// Delete removes the rows of the given keys (plain values of the key's
// kind) in one transaction.
func (w *Writer) Delete(ctx context.Context, keys []any) error {
	return Transient(w.deleteKeys(ctx, keys))
}

func (w *Writer) deleteKeys(ctx context.Context, keys []any) error {
	if len(keys) == 0 {
		return nil
	}
	tx, err := w.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("mysql sink %s: %w", w.table, err)
	}
	defer tx.Rollback()
	if err := w.delete(ctx, tx, keys); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("mysql sink %s: delete: %w", w.table, err)
	}
	return nil
}

// delete removes the rows of keys within tx.
func (w *Writer) delete(ctx context.Context, tx *sql.Tx, keys []any) error {
	kf := w.cols[w.key]
	for start := 0; start < len(keys); start += w.batchRows {
		chunk := keys[start:min(start+w.batchRows, len(keys))]
		args := make([]any, len(chunk))
		for i, k := range chunk {
			v, err := w.value(kf, k)
			if err != nil {
				return fmt.Errorf("mysql sink %s: delete: %w", w.table, err)
			}
			args[i] = v
		}
		q := "DELETE FROM " + Quote(w.table) + " WHERE " + Quote(kf.Name) + " IN (" + strings.TrimSuffix(strings.Repeat("?,", len(chunk)), ",") + ")"
		if _, err := tx.ExecContext(ctx, q, args...); err != nil {
			return fmt.Errorf("mysql sink %s: delete: %w", w.table, err)
		}
	}
	return nil
}
