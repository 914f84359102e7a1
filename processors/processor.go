package processors

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"runtime"
	"strconv"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/ferry-data/ferry/flows"
	"github.com/ferry-data/ferry/internal/bus"
	"github.com/ferry-data/ferry/internal/stats"
	"github.com/ferry-data/ferry/schemas"
)

// Processor maps one flow's raw topic onto its canonical topic. Any number
// of processors of a flow may run: they share the flow's consumer group,
// and each processes the raw partitions the group assigns it.
type Processor struct {
	Flow   *flows.Flow
	Schema *schemas.Schema
	// Codec writes canonical records; default Schema, in single-object
	// encoding (a registry's codec writes its wire format).
	Codec   schemas.Codec
	Brokers []string
	// Topics are the settings of the topics the processor creates.
	Topics bus.Settings
	// Session is the group's session timeout; default bus.DefaultSession.
	Session time.Duration
	Writer  *kafka.Writer
	// BatchSize bounds the records handled per commit; default 500.
	BatchSize int
	// Parallel is how many of its partitions the processor handles at
	// once; default one per CPU.
	Parallel int
	Log      *slog.Logger
	Stats    *stats.Flow
	// Consumers, if set, learns the partitions this replica owns, with
	// their lag, for the metrics and liveness.
	Consumers *stats.Consumers

	state *kafka.Writer // the dedupe changelog, partition by partition
}

// Group is the consumer group of a flow's processors.
func Group(f *flows.Flow) string { return "ferry-processor-" + f.Name }

// Topics are the topics a processor of the flow reads and writes. The
// dedupe changelog is co-partitioned with the raw topic: a key's state
// lives in the partition of its raw records.
func Topics(f *flows.Flow, s bus.Settings) []bus.Topic {
	return []bus.Topic{
		{Name: f.Source.Topic, Settings: s},
		bus.Canonical(f.CanonicalTopic(), s),
		{Name: f.DeadLetterTopic(), Settings: s},
		{Name: f.DedupeTopic(), Settings: s, Compacted: true, With: f.Source.Topic},
	}
}

// Run processes until ctx ends or an error a restart cannot fix. The
// processor owns the raw partitions the flow's group assigns it: for each
// it restores that partition's dedupe state from the changelog, then
// processes its records from the group's committed offset, writing state
// changes to the same partition of the changelog. When the group takes a
// partition away, its state goes with it; the next owner restores it.
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
	if p.Codec == nil {
		p.Codec = p.Schema
	}
	if err := bus.EnsureTopics(ctx, p.Brokers, p.Log, Topics(p.Flow, p.Topics)...); err != nil {
		return fmt.Errorf("processor %s: %w", p.Flow.Name, err)
	}
	p.state = bus.NewStateWriter(p.Brokers, p.Log)
	defer p.state.Close()
	if p.Parallel <= 0 {
		p.Parallel = runtime.GOMAXPROCS(0)
	}
	c := &bus.Consumer{Flow: p.Flow.Name, Brokers: p.Brokers, Group: Group(p.Flow), Topic: p.Flow.Source.Topic, Stats: p.Consumers,
		BatchSize: p.BatchSize, Parallel: p.Parallel, Session: p.Session, Log: p.Log, Open: p.open}
	if err := c.Run(ctx); err != nil && ctx.Err() == nil {
		return fmt.Errorf("processor %s: %w", p.Flow.Name, err)
	}
	return ctx.Err()
}

// open restores the dedupe state of a raw partition the processor was
// assigned, and returns the handler of its batches.
func (p *Processor) open(ctx context.Context, partition int) (bus.Handler, error) {
	start := time.Now()
	// The state is sized for the changelog partition's records, which
	// compaction keeps close to its keys.
	var st *state
	n, err := bus.ReadPartition(ctx, p.Brokers, p.Flow.DedupeTopic(), partition, func(size int64) { st = newState(int(size)) }, func(m kafka.Message) {
		if v, ok := decodeVersion(m.Value); ok {
			st.set(string(m.Key), v)
		} else if m.Value == nil {
			st.forget(string(m.Key))
		}
	})
	if err != nil {
		return nil, fmt.Errorf("restore dedupe state: %w", err)
	}
	p.Log.Info("processor dedupe state restored", "flow", p.Flow.Name, "partition", partition,
		"records", n, "keys", st.len(), "took", time.Since(start).Round(time.Millisecond))
	return func(ctx context.Context, batch []kafka.Message) error {
		return p.handle(ctx, partition, batch, st)
	}, nil
}

// handle maps a batch of one raw partition and publishes its outputs, dead
// letters and dedupe changes; it returns once all of them are
// acknowledged. Of a key's records in the batch, only the newest that
// passes dedupe is published, so that a batch repeated after a crash
// never puts an older version after a newer one.
func (p *Processor) handle(ctx context.Context, partition int, batch []kafka.Message, st *state) error {
	var out, dead, changes []kafka.Message
	var dups, filtered int64
	last := map[string]int{} // key → index in out
	for _, m := range batch {
		key, value, v, err := p.canonical(m)
		if err != nil {
			dead = append(dead, p.deadLetter(m, err))
			continue
		}
		if value == nil {
			filtered++
			continue
		}
		repair := bus.Header(m, bus.HeaderRepair) != ""
		if !repair && st.seen(key, v) {
			dups++
			continue
		}
		st.set(key, v)
		msg := kafka.Message{
			Topic: p.Flow.CanonicalTopic(),
			Key:   []byte(key),
			Value: value,
			Headers: []kafka.Header{
				{Key: bus.HeaderFlow, Value: []byte(p.Flow.Name)},
				{Key: bus.HeaderSchema, Value: []byte(p.Schema.Name)},
				{Key: bus.HeaderWindow, Value: []byte(bus.Header(m, bus.HeaderWindow))},
			},
		}
		change := kafka.Message{Topic: p.Flow.DedupeTopic(), Partition: partition, Key: []byte(key), Value: v.encode()}
		if i, ok := last[key]; ok {
			out[i], changes[i] = msg, change // superseded within the batch
			dups++
			continue
		}
		last[key] = len(out)
		out = append(out, msg)
		changes = append(changes, change)
	}
	if len(out)+len(dead) > 0 {
		start := time.Now()
		if err := p.Writer.WriteMessages(ctx, append(out, dead...)...); err != nil {
			return fmt.Errorf("publish: %w", err)
		}
		p.Stats.Produce.Since(start)
	}
	if len(changes) > 0 {
		if err := p.state.WriteMessages(ctx, changes...); err != nil {
			return fmt.Errorf("dedupe changelog: %w", err)
		}
	}
	p.Stats.Canonical.Add(int64(len(changes)))
	p.Stats.Duplicates.Add(dups)
	p.Stats.Filtered.Add(filtered)
	p.Stats.DeadLettered.Add(int64(len(dead)))
	return nil
}

// canonical maps a raw message; a nil value means the flow's filter
// dropped it.
func (p *Processor) canonical(m kafka.Message) (key string, value []byte, v version, err error) {
	rec, keep, err := Map(p.Schema, &p.Flow.Processor, m.Value)
	if err != nil || !keep {
		return "", nil, v, err
	}
	value, err = p.Codec.Encode(rec)
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
