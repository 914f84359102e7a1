package reconcile

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/ferry-data/ferry/internal/bus"
	"github.com/ferry-data/ferry/schemas"
	"github.com/ferry-data/ferry/sinks/mysql"
)

// Table is a flow's MySQL table as a reconcile target. Versions are read
// back from the wall-clock DATETIME the sink wrote in Zone.
type Table struct {
	DB     *sql.DB
	Name   string
	Schema *schemas.Schema
	Zone   *time.Location
}

const timeLayout = "2006-01-02 15:04:05.000"

// Versions implements Target.
func (t Table) Versions(ctx context.Context, keys []string) (map[string]time.Time, error) {
	out := map[string]time.Time{}
	for start := 0; start < len(keys); start += 500 {
		chunk := keys[start:min(start+500, len(keys))]
		args := make([]any, len(chunk))
		for i, k := range chunk {
			args[i] = k
		}
		q := fmt.Sprintf("SELECT %s, %s FROM %s WHERE %s IN (%s)", mysql.Quote(t.Schema.Key), t.version(), mysql.Quote(t.Name),
			mysql.Quote(t.Schema.Key), strings.TrimSuffix(strings.Repeat("?,", len(chunk)), ","))
		if err := t.scan(ctx, out, q, args...); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// Between implements Target.
func (t Table) Between(ctx context.Context, from, to time.Time) (map[string]time.Time, error) {
	out := map[string]time.Time{}
	q := fmt.Sprintf("SELECT %s, %s FROM %s", mysql.Quote(t.Schema.Key), t.version(), mysql.Quote(t.Name))
	if t.Schema.Version == "" {
		return out, t.scan(ctx, out, q)
	}
	q += fmt.Sprintf(" WHERE %s BETWEEN ? AND ?", mysql.Quote(t.Schema.Version))
	return out, t.scan(ctx, out, q, from.In(t.Zone).Format(timeLayout), to.In(t.Zone).Format(timeLayout))
}

func (t Table) version() string {
	if t.Schema.Version == "" {
		return "NULL"
	}
	return fmt.Sprintf("DATE_FORMAT(%s, '%%Y-%%m-%%d %%H:%%i:%%s.%%f')", mysql.Quote(t.Schema.Version))
}

func (t Table) scan(ctx context.Context, out map[string]time.Time, q string, args ...any) error {
	rows, err := t.DB.QueryContext(ctx, q, args...)
	if err != nil {
		return fmt.Errorf("table %s: %w", t.Name, err)
	}
	defer rows.Close()
	for rows.Next() {
		var key string
		var ver sql.NullString
		if err := rows.Scan(&key, &ver); err != nil {
			return fmt.Errorf("table %s: %w", t.Name, err)
		}
		var v time.Time
		if ver.Valid {
			if v, err = time.ParseInLocation(timeLayout, ver.String[:min(len(ver.String), len(timeLayout))], t.Zone); err != nil {
				return fmt.Errorf("table %s: version %q: %w", t.Name, ver.String, err)
			}
		}
		out[key] = v
	}
	return rows.Err()
}

// Topic is a flow's canonical topic as a reconcile target: the latest
// record of each key, read from the beginning.
type Topic struct {
	latest map[string]time.Time
}

// ReadTopic reads a canonical topic to its end.
func ReadTopic(ctx context.Context, brokers []string, topic string, s *schemas.Schema, codec schemas.Codec) (*Topic, error) {
	t := &Topic{latest: map[string]time.Time{}}
	var bad error
	err := bus.ReadAll(ctx, brokers, topic, func(m kafka.Message) {
		if m.Value == nil {
			delete(t.latest, string(m.Key)) // a tombstone
			return
		}
		rec, err := codec.Decode(m.Value)
		if err != nil {
			bad = fmt.Errorf("%s@%d: %w", topic, m.Offset, err)
			return
		}
		v, _ := rec[s.Version].(time.Time)
		t.latest[keyText(rec[s.Key])] = v
	})
	if err == nil {
		err = bad
	}
	if err != nil {
		return nil, err
	}
	return t, nil
}

// Versions implements Target.
func (t *Topic) Versions(_ context.Context, keys []string) (map[string]time.Time, error) {
	out := map[string]time.Time{}
	for _, k := range keys {
		if v, ok := t.latest[k]; ok {
			out[k] = v
		}
	}
	return out, nil
}

// Between implements Target.
func (t *Topic) Between(_ context.Context, from, to time.Time) (map[string]time.Time, error) {
	out := map[string]time.Time{}
	for k, v := range t.latest {
		if !v.Before(from) && !v.After(to) {
			out[k] = v
		}
	}
	return out, nil
}
