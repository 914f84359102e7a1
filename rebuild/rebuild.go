// Package rebuild rebuilds a flow's MySQL table from its canonical topic
// while the live sink keeps writing the live table, and swaps the two
// without readers noticing.
//
// A rebuild writes the shadow table <table>__rebuild with a sink of its
// own (group ferry-sink-<flow>_rebuild), from the topic's beginning or
// from a time, keeping its positions in ferry_sink_positions like any
// MySQL sink. Once it has caught up with the live table's positions, it
// pauses the live table's writers (ferry_sink_control: the commits in
// flight end first, later ones wait), catches up to exactly where they
// stopped, compares the two tables (rows, and a checksum of keys and
// versions), swaps them with one RENAME TABLE, moves the shadow's
// positions to the live table and releases the writers. They go on from
// their own positions; a commit covering what the shadow already applied
// is skipped, so nothing is applied twice and no write is lost.
//
// An interrupted rebuild resumes where its positions stand when run
// again, or is abandoned (Abandon drops the shadow); either way the live
// table is untouched until the swap. A rebuild interrupted after the
// swap's RENAME finishes the swap when run again.
package rebuild

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/ferry-data/ferry/flows"
	"github.com/ferry-data/ferry/internal/bus"
	"github.com/ferry-data/ferry/schemas"
	"github.com/ferry-data/ferry/sinks"
	"github.com/ferry-data/ferry/sinks/mysql"
)

// Config is one rebuild.
type Config struct {
	Flow    *flows.Flow
	Schema  *schemas.Schema
	Codec   schemas.Codec
	DB      *sql.DB
	Brokers []string
	Topics  bus.Settings
	Session time.Duration
	// From starts the rebuild at the records written since; zero for the
	// topic's beginning.
	From time.Time
	// Keep keeps the old table under a dated name; otherwise it is dropped.
	Keep bool
	// Abandon drops an interrupted rebuild's shadow table instead.
	Abandon bool
	// Progress receives the report lines; Every is how often progress is
	// reported (default 5s).
	Progress io.Writer
	Every    time.Duration
	Log      *slog.Logger
	Now      func() time.Time
}

// Shadow is the name of a table's shadow during a rebuild.
func Shadow(table string) string { return table + "__rebuild" }

// Run rebuilds the flow's table.
func Run(ctx context.Context, c Config) error {
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
	if c.Progress == nil {
		c.Progress = io.Discard
	}
	if c.Every <= 0 {
		c.Every = 5 * time.Second
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	live, shadow := c.Flow.Target.Table, Shadow(c.Flow.Target.Table)
	topic := c.Flow.CanonicalTopic()
	if c.Abandon {
		if _, err := c.DB.ExecContext(ctx, "DROP TABLE IF EXISTS "+mysql.Quote(shadow)); err != nil {
			return fmt.Errorf("rebuild %s: %w", live, err)
		}
		if _, err := c.DB.ExecContext(ctx, "DELETE FROM "+mysql.Quote(mysql.PositionsTable)+" WHERE table_name = ?", shadow); err != nil {
			return fmt.Errorf("rebuild %s: %w", live, err)
		}
		fmt.Fprintf(c.Progress, "rebuild of %s abandoned: %s dropped; %s untouched\n", live, shadow, live)
		return nil
	}
	exists, err := tableExists(ctx, c.DB, shadow)
	if err != nil {
		return err
	}
	if !exists && c.paused(ctx, live) {
		// Interrupted after the swap's RENAME: finish it.
		return c.finish(ctx, live, shadow)
	}
	w, err := mysql.New(c.DB, c.Schema, mysql.Config{Table: shadow, Columns: c.Flow.Target.Columns,
		Replace: c.Flow.Target.Mode == "replace", Zone: c.Flow.Target.Zone.Loc(), BatchRows: int(c.Flow.Target.Limit)})
	if err != nil {
		return fmt.Errorf("rebuild %s: %w", live, err)
	}
	if err := w.CreateTable(ctx); err != nil {
		return fmt.Errorf("rebuild %s: %w", live, err)
	}
	if !exists && !c.From.IsZero() {
		if err := c.startAt(ctx, shadow, topic); err != nil {
			return err
		}
	}
	fmt.Fprintf(c.Progress, "rebuilding %s into %s from %s\n", live, shadow, from(c.From, exists))

	// The shadow's sink, in a group of its own.
	f := *c.Flow
	f.Name += "_rebuild"
	sctx, stop := context.WithCancel(ctx)
	defer stop()
	done := make(chan error, 1)
	sk := &sinks.Sink{Flow: &f, Schema: c.Schema, Codec: c.Codec, Brokers: c.Brokers, Topics: c.Topics, Session: c.Session,
		Target: w, DeadLetters: bus.NewWriter(c.Brokers, c.Log), Log: c.Log}
	go func() { done <- sk.Run(sctx) }()
	stopSink := func() error {
		stop()
		if err := <-done; err != nil && sctx.Err() == nil {
			return err
		}
		return sk.DeadLetters.Close()
	}

	start, err := positions(ctx, c.DB, shadow, topic)
	if err != nil {
		return err
	}
	// Catch up with the live table, then pause it and catch up exactly.
	if err := c.catchUp(ctx, done, live, shadow, topic, start); err != nil {
		stopSink()
		return err
	}
	if err := mysql.Pause(ctx, c.DB, live, true); err != nil {
		stopSink()
		return err
	}
	if err := c.catchUp(ctx, done, live, shadow, topic, start); err != nil {
		stopSink()
		mysql.Pause(context.WithoutCancel(ctx), c.DB, live, false)
		return err
	}
	if err := stopSink(); err != nil {
		mysql.Pause(context.WithoutCancel(ctx), c.DB, live, false)
		return fmt.Errorf("rebuild %s: %w", live, err)
	}
	if err := c.compare(ctx, live, shadow, topic); err != nil {
		mysql.Pause(context.WithoutCancel(ctx), c.DB, live, false)
		return err
	}
	old := fmt.Sprintf("%s__%s", live, c.Now().UTC().Format("20060102150405"))
	if _, err := c.DB.ExecContext(ctx, "RENAME TABLE "+mysql.Quote(live)+" TO "+mysql.Quote(old)+", "+mysql.Quote(shadow)+" TO "+mysql.Quote(live)); err != nil {
		mysql.Pause(context.WithoutCancel(ctx), c.DB, live, false)
		return fmt.Errorf("rebuild %s: swap: %w", live, err)
	}
	fmt.Fprintf(c.Progress, "swapped: %s is the rebuilt table\n", live)
	if err := c.finish(ctx, live, shadow); err != nil {
		return err
	}
	if c.Keep {
		fmt.Fprintf(c.Progress, "the old table is kept as %s\n", old)
		return nil
	}
	if _, err := c.DB.ExecContext(ctx, "DROP TABLE "+mysql.Quote(old)); err != nil {
		return fmt.Errorf("rebuild %s: drop the old table %s: %w", live, old, err)
	}
	return nil
}

// finish moves the shadow's positions to the live table, which now holds
// its rows, and releases the live table's writers.
func (c Config) finish(ctx context.Context, live, shadow string) error {
	tx, err := c.DB.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("rebuild %s: %w", live, err)
	}
	defer tx.Rollback()
	var n int
	if err := tx.QueryRowContext(ctx, "SELECT COUNT(*) FROM "+mysql.Quote(mysql.PositionsTable)+" WHERE table_name = ?", shadow).Scan(&n); err != nil {
		return fmt.Errorf("rebuild %s: %w", live, err)
	}
	if n > 0 {
		for _, q := range []string{
			"DELETE FROM " + mysql.Quote(mysql.PositionsTable) + " WHERE table_name = ?",
			"UPDATE " + mysql.Quote(mysql.PositionsTable) + " SET table_name = ? WHERE table_name = ?",
		} {
			args := []any{live}
			if strings.HasPrefix(q, "UPDATE") {
				args = append(args, shadow)
			}
			if _, err := tx.ExecContext(ctx, q, args...); err != nil {
				return fmt.Errorf("rebuild %s: move positions: %w", live, err)
			}
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("rebuild %s: move positions: %w", live, err)
	}
	return mysql.Pause(ctx, c.DB, live, false)
}

// catchUp waits until the shadow's positions reach the live table's in
// every partition, reporting progress.
func (c Config) catchUp(ctx context.Context, done <-chan error, live, shadow, topic string, start map[int]int64) error {
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	began, last := c.Now(), c.Now()
	for {
		target, err := c.livePositions(ctx, live, topic)
		if err != nil {
			return err
		}
		at, err := positions(ctx, c.DB, shadow, topic)
		if err != nil {
			return err
		}
		var doneN, total int64
		caught := true
		for p, t := range target {
			s0 := start[p]
			doneN += max(at[p]-s0, 0)
			total += max(t-s0, 0)
			if at[p] < t {
				caught = false
			}
		}
		if caught {
			return nil
		}
		if now := c.Now(); now.Sub(last) >= c.Every {
			last = now
			rate := float64(doneN) / now.Sub(began).Seconds()
			left := "unknown"
			if rate > 0 {
				left = (time.Duration(float64(total-doneN)/rate) * time.Second).Round(time.Second).String()
			}
			fmt.Fprintf(c.Progress, "%d records done, %d to go, %.0f/s, about %s left\n", doneN, total-doneN, rate, left)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case err := <-done:
			return fmt.Errorf("rebuild %s: the shadow's sink stopped: %w", live, err)
		case <-tick.C:
		}
	}
}

// livePositions are where the live table stands in each partition of the
// topic: its stored positions, or the live sink group's offsets for a
// table written before positions were kept.
func (c Config) livePositions(ctx context.Context, live, topic string) (map[int]int64, error) {
	end, err := bus.EndOffsets(ctx, c.Brokers, topic)
	if err != nil {
		return nil, err
	}
	at, err := positions(ctx, c.DB, live, topic)
	if err != nil {
		return nil, err
	}
	var parts []int
	for p := range end {
		parts = append(parts, p)
	}
	committed, err := bus.CommittedOffsets(ctx, c.Brokers, sinks.Group(c.Flow), topic, parts)
	if err != nil {
		return nil, err
	}
	out := map[int]int64{}
	for p := range end {
		if v, ok := at[p]; ok {
			out[p] = v
		} else {
			out[p] = committed[p]
		}
	}
	return out, nil
}

// startAt stores, as the shadow's positions, the first offset of each
// partition at or after c.From.
func (c Config) startAt(ctx context.Context, shadow, topic string) error {
	end, err := bus.EndOffsets(ctx, c.Brokers, topic)
	if err != nil {
		return err
	}
	var reqs []kafka.OffsetRequest
	for p := range end {
		reqs = append(reqs, kafka.TimeOffsetOf(p, c.From))
	}
	client := &kafka.Client{Addr: kafka.TCP(c.Brokers...), Timeout: 30 * time.Second}
	res, err := client.ListOffsets(ctx, &kafka.ListOffsetsRequest{Topics: map[string][]kafka.OffsetRequest{topic: reqs}})
	if err != nil {
		return fmt.Errorf("rebuild: offsets at %s: %w", c.From, err)
	}
	for _, po := range res.Topics[topic] {
		at := end[po.Partition] // no record since: start at the end
		for o := range po.Offsets {
			if o >= 0 {
				at = o
			}
		}
		if po.Error != nil {
			return fmt.Errorf("rebuild: offsets at %s: %w", c.From, po.Error)
		}
		_, err := c.DB.ExecContext(ctx, "INSERT INTO "+mysql.Quote(mysql.PositionsTable)+" (table_name, topic, kpartition, next_offset) VALUES (?, ?, ?, ?)",
			shadow, topic, po.Partition, at)
		if err != nil {
			return fmt.Errorf("rebuild: %w", err)
		}
	}
	return nil
}

// compare reports both tables' row counts and a checksum of their keys
// and versions, and how far the rebuilt table is ahead of the paused live
// one (its sink did not stop exactly where the live one had).
func (c Config) compare(ctx context.Context, live, shadow, topic string) error {
	lp, err := c.livePositions(ctx, live, topic)
	if err != nil {
		return err
	}
	sp, err := positions(ctx, c.DB, shadow, topic)
	if err != nil {
		return err
	}
	var ahead int64
	for p, at := range sp {
		ahead += max(at-lp[p], 0)
	}
	key := mysql.Quote(c.Schema.Key)
	ver := "''"
	if c.Schema.Version != "" {
		ver = mysql.Quote(c.Schema.Version)
	}
	sum := func(table string) (int64, int64, error) {
		var n, s sql.NullInt64
		err := c.DB.QueryRowContext(ctx, "SELECT COUNT(*), SUM(CRC32(CONCAT_WS('|', "+key+", "+ver+"))) FROM "+mysql.Quote(table)).Scan(&n, &s)
		return n.Int64, s.Int64, err
	}
	ln, ls, err := sum(live)
	if err != nil {
		return fmt.Errorf("rebuild %s: compare: %w", live, err)
	}
	sn, ss, err := sum(shadow)
	if err != nil {
		return fmt.Errorf("rebuild %s: compare: %w", live, err)
	}
	same := "the same"
	switch {
	case ahead > 0 && (ln != sn || ls != ss):
		same = fmt.Sprintf("they differ by the %d records the rebuilt table is ahead (the live sink skips them when it goes on)", ahead)
	case ln != sn || ls != ss:
		same = "different: the live table lacks or holds rows its topic does not say; the rebuilt one is what the topic says"
	}
	fmt.Fprintf(c.Progress, "compared: %s has %d rows (checksum %d), %s %d rows (checksum %d): %s\n", live, ln, ls, shadow, sn, ss, same)
	return nil
}

func (c Config) paused(ctx context.Context, table string) bool {
	var p bool
	err := c.DB.QueryRowContext(ctx, "SELECT paused FROM "+mysql.Quote(mysql.ControlTable)+" WHERE table_name = ?", table).Scan(&p)
	return err == nil && p
}

// positions are a table's stored positions in a topic, by partition.
func positions(ctx context.Context, db *sql.DB, table, topic string) (map[int]int64, error) {
	rows, err := db.QueryContext(ctx, "SELECT kpartition, next_offset FROM "+mysql.Quote(mysql.PositionsTable)+" WHERE table_name = ? AND topic = ?", table, topic)
	if err != nil {
		return nil, fmt.Errorf("rebuild: positions of %s: %w", table, err)
	}
	defer rows.Close()
	out := map[int]int64{}
	for rows.Next() {
		var p int
		var at int64
		if err := rows.Scan(&p, &at); err != nil {
			return nil, err
		}
		out[p] = at
	}
	return out, rows.Err()
}

func tableExists(ctx context.Context, db *sql.DB, table string) (bool, error) {
	var n int
	err := db.QueryRowContext(ctx, "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ?", table).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("rebuild: %w", err)
	}
	return n > 0, nil
}

func from(t time.Time, resumed bool) string {
	switch {
	case resumed:
		return "where the interrupted rebuild stopped"
	case t.IsZero():
		return "the topic's beginning"
	}
	return "records written since " + t.UTC().Format(time.RFC3339)
}
