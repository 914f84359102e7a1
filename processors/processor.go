package processors

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"strconv"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/ferry-data/ferry/flows"
	"github.com/ferry-data/ferry/internal/bus"
	"github.com/ferry-data/ferry/internal/stats"
	"github.com/ferry-data/ferry/schemas"
)

// Processor maps one flow's raw topic onto its canonical topic.
type Processor struct {
	Flow    *flows.Flow
	Schema  *schemas.Schema
	Brokers []string
	// Topics are the settings of the topics the processor creates.
	Topics bus.Settings
	Writer *kafka.Writer
	// BatchSize bounds the records handled per commit; default 500.
	BatchSize int
	Log       *slog.Logger
	Stats     *stats.Flow

	seen map[string]version
}

type version struct {
	stamp int64  // version field, epoch ms
	hash  uint64 // FNV-64a of the canonical encoding
}

// Group is the consumer group of a flow's processors.
func Group(f *flows.Flow) string { return "ferry-processor-" + f.Name }

// Topics are the topics a processor of the flow reads and writes. The
// dedupe changelog is co-partitioned with the raw topic: a key's state
// lives in the partition of its raw records.
func Topics(f *flows.Flow, s bus.Settings) []bus.Topic {
	return []bus.Topic{
		{Name: f.Source.Topic, Settings: s},
		{Name: f.CanonicalTopic(), Settings: s},
		{Name: f.DeadLetterTopic(), Settings: s},
		{Name: f.DedupeTopic(), Settings: s, Compacted: true, With: f.Source.Topic},
	}
}

// Run processes until ctx ends.
func (p *Processor) Run(ctx context.Context) error {
	if p.BatchSize <= 0 {
		p.BatchSize = 500
	}
	if p.Log == nil {
		p.Log = slog.New(slog.DiscardHandler)
	}
	if p.Stats == nil {
		p.Stats = &stats.Flow{}
	}
	if err := bus.EnsureTopics(ctx, p.Brokers, p.Log, Topics(p.Flow, p.Topics)...); err != nil {
		return fmt.Errorf("processor %s: %w", p.Flow.Name, err)
	}
	if err := p.load(ctx); err != nil {
		return fmt.Errorf("processor %s: load dedupe state: %w", p.Flow.Name, err)
	}
	r := bus.NewReader(p.Brokers, Group(p.Flow), p.Flow.Source.Topic)
	defer r.Close()
	for {
		batch, err := bus.FetchBatch(ctx, r, p.BatchSize, 20*time.Millisecond)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return fmt.Errorf("processor %s: fetch: %w", p.Flow.Name, err)
		}
		if err := p.handle(ctx, batch); err != nil {
			return fmt.Errorf("processor %s: %w", p.Flow.Name, err)
		}
		if err := r.CommitMessages(ctx, batch...); err != nil {
			return fmt.Errorf("processor %s: commit: %w", p.Flow.Name, err)
		}
	}
}

func (p *Processor) load(ctx context.Context) error {
	p.seen = map[string]version{}
	return bus.ReadAll(ctx, p.Brokers, p.Flow.DedupeTopic(), func(m kafka.Message) {
		if len(m.Value) == 16 {
			p.seen[string(m.Key)] = version{
				stamp: int64(binary.BigEndian.Uint64(m.Value)),
				hash:  binary.BigEndian.Uint64(m.Value[8:]),
			}
		}
	})
}

// handle maps a batch and publishes its outputs, dead letters and dedupe
// changes; it returns once all of them are acknowledged.
func (p *Processor) handle(ctx context.Context, batch []kafka.Message) error {
	var out, changes []kafka.Message
	var dups, dead, filtered int64
	for _, m := range batch {
		key, value, v, err := p.canonical(m)
		if err != nil {
			out = append(out, p.deadLetter(m, err))
			dead++
			continue
		}
		if value == nil {
			filtered++
			continue
		}
		repair := bus.Header(m, bus.HeaderRepair) != ""
		if old, ok := p.seen[key]; ok && !repair && (v.stamp < old.stamp || v == old) {
			dups++
			continue
		}
		p.seen[key] = v
		out = append(out, kafka.Message{
			Topic: p.Flow.CanonicalTopic(),
			Key:   []byte(key),
			Value: value,
			Headers: []kafka.Header{
				{Key: bus.HeaderFlow, Value: []byte(p.Flow.Name)},
				{Key: bus.HeaderSchema, Value: []byte(p.Schema.Name)},
				{Key: bus.HeaderWindow, Value: []byte(bus.Header(m, bus.HeaderWindow))},
			},
		})
		state := make([]byte, 16)
		binary.BigEndian.PutUint64(state, uint64(v.stamp))
		binary.BigEndian.PutUint64(state[8:], v.hash)
		changes = append(changes, kafka.Message{Topic: p.Flow.DedupeTopic(), Key: []byte(key), Value: state})
	}
	if len(out) > 0 {
		if err := p.Writer.WriteMessages(ctx, out...); err != nil {
			return fmt.Errorf("publish: %w", err)
		}
	}
	if len(changes) > 0 {
		if err := p.Writer.WriteMessages(ctx, changes...); err != nil {
			return fmt.Errorf("dedupe changelog: %w", err)
		}
	}
	p.Stats.Canonical.Add(int64(len(changes)))
	p.Stats.Duplicates.Add(dups)
	p.Stats.Filtered.Add(filtered)
	p.Stats.DeadLettered.Add(dead)
	return nil
}

// canonical maps a raw message; a nil value means the flow's filter
// dropped it.
func (p *Processor) canonical(m kafka.Message) (key string, value []byte, v version, err error) {
	rec, keep, err := Map(p.Schema, &p.Flow.Processor, m.Value)
	if err != nil || !keep {
		return "", nil, v, err
	}
	value, err = p.Schema.Encode(rec)
	if err != nil {
		return "", nil, v, err
	}
	switch k := rec[p.Schema.Key].(type) {
	case int64:
		key = strconv.FormatInt(k, 10)
	case int32:
		key = strconv.FormatInt(int64(k), 10)
	case string:
		key = k
	default:
		return "", nil, v, errors.New("key " + p.Schema.Key + " must be a long, int or string")
	}
	h := fnv.New64a()
	h.Write(value)
	v.hash = h.Sum64()
	if t, ok := rec[p.Schema.Version].(time.Time); ok {
		v.stamp = t.UnixMilli()
	}
	return key, value, v, nil
}

func (p *Processor) deadLetter(m kafka.Message, reason error) kafka.Message {
	p.Log.Warn("record dead-lettered", "flow", p.Flow.Name, "topic", m.Topic, "partition", m.Partition, "offset", m.Offset, "reason", reason)
	return bus.DeadLetter(m, p.Flow.DeadLetterTopic(), reason)
}
