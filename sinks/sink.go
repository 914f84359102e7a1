package sinks

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/ferry-data/ferry/flows"
	"github.com/ferry-data/ferry/internal/backoff"
	"github.com/ferry-data/ferry/internal/bus"
	"github.com/ferry-data/ferry/internal/stats"
	"github.com/ferry-data/ferry/schemas"
)

// Writer lands a batch of plain canonical records in a target, durably,
// before it returns.
type Writer interface {
	Write(ctx context.Context, recs []map[string]any) error
}

// Sink drains one flow's canonical topic into a target.
type Sink struct {
	Flow   *flows.Flow
	Schema *schemas.Schema
	// Codec reads canonical records; default Schema (single-object
	// encoding only).
	Codec   schemas.Codec
	Brokers []string
	// Topics are the settings of the topics the sink creates.
	Topics bus.Settings
	// Session is the group's session timeout; default bus.DefaultSession.
	Session time.Duration
	Target  Writer
	// DeadLetters publishes refused records.
	DeadLetters *kafka.Writer
	// BatchSize bounds a batch; default the flow's target limit.
	BatchSize int
	// Linger is how long a batch waits to fill; default 50ms.
	Linger time.Duration
	// Parallel is how many of the replica's partitions write a batch at
	// once; default 2 (BenchmarkParallel: MariaDB on two cores takes
	// 1.5-1.6x the rows with two, 1.6-1.7x with three). Each partition's
	// batches stay in order.
	Parallel int
	// Backoff shapes retry waits; default 200ms growing to 30s.
	Backoff backoff.Policy
	Log     *slog.Logger
	Stats   *stats.Flow
	// Consumers, if set, learns the partitions this replica owns, with
	// their lag, for the metrics and liveness.
	Consumers *stats.Consumers
}

// Group is the consumer group of a flow's sinks.
func Group(f *flows.Flow) string { return "ferry-sink-" + f.Name }

func (s *Sink) defaults() {
	if s.BatchSize <= 0 {
		s.BatchSize = int(s.Flow.Target.Limit)
	}
	if s.Linger <= 0 {
		s.Linger = 50 * time.Millisecond
	}
	if s.Parallel <= 0 {
		s.Parallel = 2
	}
	if s.Backoff.Base <= 0 {
		s.Backoff.Base = 200 * time.Millisecond
	}
	if s.Log == nil {
		s.Log = slog.New(slog.DiscardHandler)
	}
	if s.Stats == nil {
		s.Stats = &stats.Flow{}
	}
	if s.Codec == nil {
		s.Codec = s.Schema
	}
}

// Run drains the topic until ctx ends. The sink writes the partitions of
// the canonical topic the flow's group assigns it; a key stays in one
// partition, so its rows are written in order.
func (s *Sink) Run(ctx context.Context) error {
	s.defaults()
	if err := bus.EnsureTopics(ctx, s.Brokers, s.Log, bus.Canonical(s.Flow.CanonicalTopic(), s.Topics), bus.Topic{Name: s.Flow.DeadLetterTopic(), Settings: s.Topics}); err != nil {
		return fmt.Errorf("sink %s: %w", s.Flow.Name, err)
	}
	c := &bus.Consumer{Flow: s.Flow.Name, Brokers: s.Brokers, Group: Group(s.Flow), Topic: s.Flow.CanonicalTopic(), Stats: s.Consumers,
		BatchSize: s.BatchSize, Linger: s.Linger, Parallel: s.Parallel, Session: s.Session, Log: s.Log,
		Open: func(context.Context, int) (bus.Handler, error) { return s.handle, nil }}
	if p, ok := s.Target.(Positioned); ok {
		c.Start = func(ctx context.Context, partition int) (int64, bool, error) {
			return p.Position(ctx, s.Flow.CanonicalTopic(), partition)
		}
	}
	if err := c.Run(ctx); err != nil && ctx.Err() == nil {
		return fmt.Errorf("sink %s: %w", s.Flow.Name, err)
	}
	return ctx.Err()
}

func (s *Sink) handle(ctx context.Context, batch []kafka.Message) error {
	defer s.Stats.Batch.Since(time.Now())
	recs := make([]map[string]any, 0, len(batch))
	origin := make([]kafka.Message, 0, len(batch))
	var dead []kafka.Message
	// A tombstone (a key without a value) deletes the key's row, unless
	// a record of the key follows it in the batch: deleted holds the
	// tombstone's offset, or -1.
	deleted := map[string]int64{}
	for _, m := range batch {
		deleted[string(m.Key)] = -1
		if m.Value == nil {
			deleted[string(m.Key)] = m.Offset
		}
	}
	for _, m := range batch {
		if m.Value == nil || deleted[string(m.Key)] >= 0 {
			continue
		}
		rec, err := s.Codec.Decode(m.Value)
		if err != nil {
			dead = append(dead, s.deadLetter(m, err))
			continue
		}
		recs = append(recs, rec)
		origin = append(origin, m)
	}
	keys, keyOffsets, err := s.deletedKeys(deleted)
	if err != nil {
		return err
	}
	// A Positioned target takes the batch's rows, deletions and end
	// position in one transaction.
	positioned, exact := s.Target.(Positioned)
	last := batch[len(batch)-1]
	at := bus.Position{Topic: last.Topic, Partition: last.Partition, Next: last.Offset + 1}
	commit := func(recs []map[string]any, offsets []int64) error {
		b := Batch{Recs: recs, Offsets: offsets, Deletes: keys, DeleteOffsets: keyOffsets, At: at}
		return s.retry(ctx, "write", func() error { return positioned.Commit(ctx, b) })
	}
	if exact {
		offsets := make([]int64, len(origin))
		for i, m := range origin {
			offsets[i] = m.Offset
		}
		err = commit(recs, offsets)
	} else {
		err = s.write(ctx, recs)
	}
	var refused *permanentError
	if errors.As(err, &refused) && len(recs) > 0 {
		s.Log.Warn("target refused a batch, writing it row by row", "flow", s.Flow.Name, "rows", len(recs), "err", refused.err)
		for i := range recs {
			err := s.write(ctx, recs[i:i+1])
			if errors.As(err, &refused) {
				dead = append(dead, s.deadLetter(origin[i], refused.err))
				continue
			}
			if err != nil {
				return err
			}
			s.Stats.Written.Add(1)
		}
		if exact {
			// The deletions and the position, once every row was tried:
			// a crash before this applies the batch again, as a whole.
			if err := commit(nil, nil); err != nil {
				return err
			}
		}
	} else if err != nil {
		return err
	} else {
		s.Stats.Written.Add(int64(len(recs)))
	}
	if exact {
		s.Stats.Deleted.Add(int64(len(keys)))
	} else if err := s.delete(ctx, keys); err != nil {
		return err
	}
	if len(dead) > 0 {
		if err := s.DeadLetters.WriteMessages(ctx, dead...); err != nil {
			return fmt.Errorf("dead letters: %w", err)
		}
		s.Stats.DeadLettered.Add(int64(len(dead)))
	}
	return nil
}

// Deleter is a Writer that can also remove rows, for tombstones.
type Deleter interface {
	Delete(ctx context.Context, keys []any) error
}

// ErrPaused is a target that holds its writes for a while (a rebuild
// swapping the table): the writer wraps it in a backoff.Retry, and the
// sink waits and tries again.
var ErrPaused = errors.New("the table is paused for a rebuild's swap")

// Batch is what a Positioned target applies in one transaction: records
// and deletions (keys of the schema's key kind), each with the offset it
// came from, and the position the batch ends at.
type Batch struct {
	Recs          []map[string]any
	Offsets       []int64
	Deletes       []any
	DeleteOffsets []int64
	At            bus.Position
}

// Positioned is a Writer that applies a batch (its rows, its deletions and
// the position it ends at in its topic) in one transaction, and tells the
// position back: a sink then resumes from the target's own positions, and
// applies each record exactly once, even in a table that REPLACEs.
type Positioned interface {
	Commit(ctx context.Context, b Batch) error
	Position(ctx context.Context, topic string, partition int) (next int64, ok bool, err error)
}

// deletedKeys are the batch's tombstoned keys, in the schema's key kind,
// with their tombstones' offsets.
func (s *Sink) deletedKeys(deleted map[string]int64) ([]any, []int64, error) {
	var keys []any
	var offsets []int64
	for k, at := range deleted {
		if at < 0 {
			continue
		}
		key, err := keyValue(s.Schema, k)
		if err != nil {
			return nil, nil, fmt.Errorf("tombstone %q: %w", k, err)
		}
		keys, offsets = append(keys, key), append(offsets, at)
	}
	return keys, offsets, nil
}

// delete removes the rows of tombstoned keys.
func (s *Sink) delete(ctx context.Context, keys []any) error {
	if len(keys) == 0 {
		return nil
	}
	d, ok := s.Target.(Deleter)
	if !ok {
		s.Log.Warn("target cannot delete; tombstones ignored", "flow", s.Flow.Name, "keys", len(keys))
		return nil
	}
	if err := s.retry(ctx, "delete", func() error { return d.Delete(ctx, keys) }); err != nil {
		return err
	}
	s.Stats.Deleted.Add(int64(len(keys)))
	return nil
}

// keyValue reads a message key as the schema's key kind.
func keyValue(s *schemas.Schema, k string) (any, error) {
	switch s.Field(s.Key).Kind {
	case schemas.Long:
		return strconv.ParseInt(k, 10, 64)
	case schemas.Int:
		n, err := strconv.ParseInt(k, 10, 32)
		return int32(n), err
	}
	return k, nil
}

type permanentError struct{ err error }

func (e *permanentError) Error() string { return e.err.Error() }

// write retries transient failures until ctx ends, and reports the
// target's refusals as *permanentError.
func (s *Sink) write(ctx context.Context, recs []map[string]any) error {
	return s.retry(ctx, "write", func() error { return s.Target.Write(ctx, recs) })
}

// retry runs a target operation until it succeeds, is refused, or ctx
// ends; transient failures back off.
func (s *Sink) retry(ctx context.Context, what string, op func() error) error {
	err := backoff.Do(ctx, s.Backoff, op, func(attempt int, wait time.Duration, err error) {
		s.Log.Warn("target "+what+" failed, backing off", "flow", s.Flow.Name, "attempt", attempt+1, "wait", wait, "err", err)
	})
	switch {
	case err == nil:
		return nil
	case ctx.Err() != nil:
		return ctx.Err()
	}
	if _, ok := backoff.Retryable(err); ok {
		return err
	}
	return &permanentError{err: err}
}

func (s *Sink) deadLetter(m kafka.Message, reason error) kafka.Message {
	s.Log.Warn("record dead-lettered", "flow", s.Flow.Name, "topic", m.Topic, "partition", m.Partition, "offset", m.Offset, "reason", reason)
	return bus.DeadLetter(m, s.Flow.DeadLetterTopic(), reason)
}
