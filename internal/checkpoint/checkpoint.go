// Package checkpoint keeps each flow's producer position in Kafka: the
// compacted topic ferry.checkpoints maps a flow's name to the end of the
// last window whose every record Kafka has acknowledged.
//
// A producer commits a checkpoint only after the writes of its window
// returned without error (acks from all in-sync replicas), so a crash at
// any point replays at most the window in flight, never skips one.
package checkpoint

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/ferry-data/ferry/internal/bus"
)

// Topic is the compacted topic of checkpoints.
const Topic = "ferry.checkpoints"

// TopicOf is Topic as ferry creates it: compacted, since it holds each
// flow's newest checkpoint.
func TopicOf(s bus.Settings) bus.Topic { return bus.Topic{Name: Topic, Settings: s, Compacted: true} }

// Checkpoint is one flow's position.
type Checkpoint struct {
	Flow string `json:"flow"`
	// End is the end of the last fully acknowledged window.
	End time.Time `json:"end"`
	// At is when the checkpoint was committed.
	At time.Time `json:"at"`
}

// Store reads and commits checkpoints.
type Store struct {
	w    *kafka.Writer
	mu   sync.Mutex
	last map[string]Checkpoint
}

// Open creates the topic when missing, with one partition and the
// replication of the settings, and loads the latest checkpoint of every
// flow.
func Open(ctx context.Context, brokers []string, settings bus.Settings) (*Store, error) {
	settings.Partitions = 1
	if err := bus.EnsureTopics(ctx, brokers, nil, TopicOf(settings)); err != nil {
		return nil, fmt.Errorf("checkpoints: %w", err)
	}
	s := &Store{w: bus.NewWriter(brokers, nil), last: map[string]Checkpoint{}}
	s.w.Topic = Topic
	if err := s.load(ctx, brokers); err != nil {
		return nil, fmt.Errorf("checkpoints: %w", err)
	}
	return s, nil
}

func (s *Store) load(ctx context.Context, brokers []string) error {
	return bus.ReadAll(ctx, brokers, Topic, func(m kafka.Message) {
		if c, ok := Decode(m.Value); ok {
			s.last[string(m.Key)] = c
		} else if m.Value == nil {
			delete(s.last, string(m.Key))
		}
	})
}

// Decode reads a checkpoint record's value; ok is false for a tombstone
// or a value that is not a checkpoint, which the store skips.
func Decode(value []byte) (c Checkpoint, ok bool) {
	if value == nil || json.Unmarshal(value, &c) != nil || c.End.IsZero() {
		return Checkpoint{}, false
	}
	return c, true
}

// Get returns the flow's last checkpoint.
func (s *Store) Get(flow string) (Checkpoint, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.last[flow]
	return c, ok
}

// Ends returns every flow's checkpoint end.
func (s *Store) Ends() map[string]time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]time.Time, len(s.last))
	for f, c := range s.last {
		out[f] = c.End
	}
	return out
}

// Commit records that every record of the flow up to end is acknowledged.
func (s *Store) Commit(ctx context.Context, flow string, end time.Time) error {
	c := Checkpoint{Flow: flow, End: end.UTC(), At: time.Now().UTC()}
	b, _ := json.Marshal(c)
	if err := s.w.WriteMessages(ctx, kafka.Message{Key: []byte(flow), Value: b}); err != nil {
		return fmt.Errorf("commit checkpoint %s: %w", flow, err)
	}
	s.mu.Lock()
	s.last[flow] = c
	s.mu.Unlock()
	return nil
}

// Close flushes and closes the writer.
func (s *Store) Close() error { return s.w.Close() }
