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

// ErrNotYet marks a record the target cannot take yet, such as a trade
// whose target task has not been created: it is tried again later.
var ErrNotYet = errors.New("target cannot take the record yet")

// RecordWriter sends one record to a target API and returns once the
// target confirmed it. It retries transient failures itself; it returns an
// error wrapping ErrNotYet for a record to try later, and any other error
// for a record the target refuses.
type RecordWriter interface {
	WriteRecord(ctx context.Context, rec map[string]any) error
}

// Header names of deferred records.
const (
	HeaderFirstTry = "ferry-first-try" // when the record was first tried, RFC 3339
	HeaderNextTry  = "ferry-next-try"  // when to try it again, RFC 3339
	HeaderTries    = "ferry-tries"     // how many times it was tried
)

// APISink drains one flow's canonical topic into a target API. A record
// the target cannot take yet is parked in the topic retry.<flow> and tried
// again after RetryAfter, without holding up the records behind it; after
// GiveUp it goes to the dead-letter topic with the reason. The parked copy
// is acknowledged before the original's offset is committed, so nothing is
// lost in between.
type APISink struct {
	Flow   *flows.Flow
	Schema *schemas.Schema
	// Codec reads canonical records; default Schema (single-object
	// encoding only).
	Codec   schemas.Codec
	Brokers []string
	// Topics are the settings of the topics the sink creates.
	Topics bus.Settings
	// Session is the groups' session timeout; default bus.DefaultSession.
	Session time.Duration
	Target  RecordWriter
	// Writer publishes parked records and dead letters.
	Writer *kafka.Writer
	// RetryAfter is the pause before a parked record is tried again;
	// default 1m.
	RetryAfter time.Duration
	// Now is the clock give-up times are measured on; default time.Now.
	Now   func() time.Time
	Log   *slog.Logger
	Stats *stats.Flow
	// Consumers, if set, learns the partitions this replica owns, with
	// their lag, for the metrics and liveness.
	Consumers *stats.Consumers
}

// RetryTopic is the topic where the flow's parked records wait.
func RetryTopic(f *flows.Flow) string { return "retry." + f.Name }

// RetryGroup is the consumer group that tries parked records again.
func RetryGroup(f *flows.Flow) string { return Group(f) + "-retry" }

func (s *APISink) defaults() {
	if s.RetryAfter <= 0 {
		s.RetryAfter = time.Minute
	}
	if s.Now == nil {
		s.Now = time.Now
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

// Run drains the canonical topic and the retry topic until ctx ends.
func (s *APISink) Run(ctx context.Context) error {
	s.defaults()
	ctx = stats.WithFlow(ctx, s.Stats)
	err := bus.EnsureTopics(ctx, s.Brokers, s.Log, bus.Canonical(s.Flow.CanonicalTopic(), s.Topics),
		bus.Topic{Name: s.Flow.DeadLetterTopic(), Settings: s.Topics}, bus.Topic{Name: RetryTopic(s.Flow), Settings: s.Topics})
	if err != nil {
		return fmt.Errorf("sink %s: %w", s.Flow.Name, err)
	}
	errc := make(chan error, 2)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() { errc <- s.drain(ctx, Group(s.Flow), s.Flow.CanonicalTopic(), false) }()
	go func() { errc <- s.drain(ctx, RetryGroup(s.Flow), RetryTopic(s.Flow), true) }()
	err = <-errc
	cancel()
	<-errc
	return err
}

// drain reads a topic in a consumer group; parked says the topic holds
// parked records, each tried only once its time has come.
func (s *APISink) drain(ctx context.Context, group, topic string, parked bool) error {
	handle := func(ctx context.Context, batch []kafka.Message) error {
		var out []kafka.Message
		for _, m := range batch {
			if o, ok := s.write(ctx, m); ok {
				out = append(out, o)
			} else if ctx.Err() != nil {
				return ctx.Err()
			}
		}
		if len(out) > 0 {
			if err := s.Writer.WriteMessages(ctx, out...); err != nil {
				return fmt.Errorf("park or dead-letter: %w", err)
			}
		}
		return nil
	}
	c := &bus.Consumer{Flow: s.Flow.Name, Brokers: s.Brokers, Group: group, Topic: topic, BatchSize: 100, Session: s.Session, Log: s.Log, Stats: s.Consumers,
		Open: func(context.Context, int) (bus.Handler, error) { return handle, nil }}
	if parked {
		c.Wait = s.waitTurn
	}
	if err := c.Run(ctx); err != nil && ctx.Err() == nil {
		return fmt.Errorf("sink %s: %w", s.Flow.Name, err)
	}
	return ctx.Err()
}

// waitTurn sleeps until the parked records' next tries are due.
func (s *APISink) waitTurn(ctx context.Context, batch []kafka.Message) error {
	for _, m := range batch {
		next, err := time.Parse(time.RFC3339Nano, bus.Header(m, HeaderNextTry))
		if err != nil {
			continue
		}
		if err := backoff.Sleep(ctx, time.Until(next)); err != nil {
			return err
		}
	}
	return nil
}

// write sends one message to the target. It returns the message to
// publish instead (parked again or dead-lettered), if any.
func (s *APISink) write(ctx context.Context, m kafka.Message) (kafka.Message, bool) {
	if m.Value == nil {
		s.Log.Warn("an API target cannot delete; tombstone ignored", "flow", s.Flow.Name, "key", string(m.Key))
		return kafka.Message{}, false
	}
	rec, err := s.Codec.Decode(m.Value)
	if err != nil {
		s.Stats.DeadLettered.Add(1)
		return s.deadLetter(m, err), true
	}
	err = s.Target.WriteRecord(ctx, rec)
	switch {
	case err == nil:
		s.Stats.Written.Add(1)
		return kafka.Message{}, false
	case ctx.Err() != nil:
		return kafka.Message{}, false
	case errors.Is(err, ErrNotYet):
		first, perr := time.Parse(time.RFC3339Nano, bus.Header(m, HeaderFirstTry))
		if perr != nil {
			first = s.Now()
		}
		if s.Now().Sub(first) >= s.Flow.Target.GiveUp.D() {
			s.Stats.DeadLettered.Add(1)
			return s.deadLetter(m, fmt.Errorf("gave up after %s: %w", s.Flow.Target.GiveUp.D(), err)), true
		}
		tries, _ := strconv.Atoi(bus.Header(m, HeaderTries))
		s.Stats.Deferred.Add(1)
		return kafka.Message{
			Topic: RetryTopic(s.Flow),
			Key:   m.Key,
			Value: m.Value,
			Headers: []kafka.Header{
				{Key: bus.HeaderFlow, Value: []byte(s.Flow.Name)},
				{Key: HeaderFirstTry, Value: []byte(first.UTC().Format(time.RFC3339Nano))},
				{Key: HeaderNextTry, Value: []byte(time.Now().Add(s.RetryAfter).UTC().Format(time.RFC3339Nano))},
				{Key: HeaderTries, Value: []byte(strconv.Itoa(tries + 1))},
				{Key: bus.HeaderError, Value: []byte(err.Error())},
			},
		}, true
	default:
		s.Stats.DeadLettered.Add(1)
		return s.deadLetter(m, err), true
	}
}

func (s *APISink) deadLetter(m kafka.Message, reason error) kafka.Message {
	s.Log.Warn("record dead-lettered", "flow", s.Flow.Name, "topic", m.Topic, "partition", m.Partition, "offset", m.Offset, "reason", reason)
	return bus.DeadLetter(m, s.Flow.DeadLetterTopic(), reason)
}
