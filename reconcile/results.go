package reconcile

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/ferry-data/ferry/internal/backoff"
	"github.com/ferry-data/ferry/internal/bus"
	"github.com/ferry-data/ferry/internal/telemetry"
)

// ResultsTopic is the compacted topic where each flow's last reconcile
// result is kept, for the producers to export as metrics.
const ResultsTopic = "ferry.reconcile"

// TopicOf is ResultsTopic with the settings' replication; it has
// one partition, which Follow reads.
func TopicOf(s bus.Settings) bus.Topic {
	s.Partitions = 1
	return bus.Topic{Name: ResultsTopic, Settings: s, Compacted: true}
}

// Publish records a report's outcome in ResultsTopic.
func Publish(ctx context.Context, brokers []string, settings bus.Settings, r Report, at time.Time) error {
	if err := bus.EnsureTopics(ctx, brokers, nil, TopicOf(settings)); err != nil {
		return err
	}
	res := telemetry.Reconcile{At: at}
	for _, w := range r.Windows {
		res.Missing += len(w.Missing)
		res.Stale += len(w.Stale)
		res.Gone += len(w.Gone)
	}
	b, _ := json.Marshal(res)
	w := bus.NewWriter(brokers, nil)
	defer w.Close()
	if err := w.WriteMessages(ctx, kafka.Message{Topic: ResultsTopic, Key: []byte(r.Flow), Value: b}); err != nil {
		return fmt.Errorf("publish reconcile result: %w", err)
	}
	return nil
}

// Results follows ResultsTopic and keeps each flow's last result.
type Results struct {
	mu   sync.Mutex
	last map[string]telemetry.Reconcile
}

// Follow reads ResultsTopic from its beginning until ctx ends.
func Follow(ctx context.Context, brokers []string, settings bus.Settings, log *slog.Logger) (*Results, error) {
	if err := bus.EnsureTopics(ctx, brokers, nil, TopicOf(settings)); err != nil {
		return nil, err
	}
	res := &Results{last: map[string]telemetry.Reconcile{}}
	r := kafka.NewReader(kafka.ReaderConfig{Brokers: brokers, Topic: ResultsTopic, Partition: 0, MaxWait: time.Second,
		ErrorLogger: bus.ErrorLog(log, "topic", ResultsTopic)})
	if err := r.SetOffset(kafka.FirstOffset); err != nil {
		r.Close()
		return nil, err
	}
	go func() {
		defer r.Close()
		failures := 0
		for {
			m, err := r.ReadMessage(ctx) // no group: nothing is committed
			if ctx.Err() != nil {
				return
			}
			if err != nil {
				wait := followBackoff.Delay(failures)
				failures++
				log.Warn("reconcile results: read failed, trying again", "topic", ResultsTopic, "wait", wait, "err", err)
				if backoff.Sleep(ctx, wait) != nil {
					return
				}
				continue
			}
			failures = 0
			var x telemetry.Reconcile
			if err := json.Unmarshal(m.Value, &x); err != nil {
				log.Warn("reconcile results: a result that does not decode, skipped", "topic", ResultsTopic, "offset", m.Offset, "err", err)
				continue
			}
			res.mu.Lock()
			res.last[string(m.Key)] = x
			res.mu.Unlock()
		}
	}()
	return res, nil
}

// followBackoff paces a results follower whose reads fail.
var followBackoff = backoff.Policy{Base: time.Second, Max: 30 * time.Second}

// Last implements telemetry.Reconciles.
func (r *Results) Last() map[string]telemetry.Reconcile {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make(map[string]telemetry.Reconcile, len(r.last))
	for k, v := range r.last {
		out[k] = v
	}
	return out
}
