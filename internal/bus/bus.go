// Package bus holds ferry's Kafka plumbing shared by the roles: topic set-up,
// the writer every role publishes with, the header names ferry stamps on
// records, and batched fetching for consumers.
//
// It adds no abstraction over kafka-go: roles use *kafka.Writer and
// *kafka.Reader directly. Writers wait for acknowledgement from all in-sync
// replicas and are never asynchronous, so a nil error from WriteMessages
// means every message is durable; readers fetch and commit explicitly.
package bus

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"time"

	"github.com/segmentio/kafka-go"
)

// Header names ferry stamps on the records it publishes.
const (
	HeaderFlow      = "ferry-flow"       // the flow that produced the record
	HeaderWindow    = "ferry-window"     // the producer window, "from/to" in RFC 3339
	HeaderFetchedAt = "ferry-fetched-at" // when the producer fetched the page, RFC 3339
	HeaderPage      = "ferry-page"       // the page of the window, from 0 as the producer walks it
	HeaderError     = "ferry-error"      // dead letters: why the record was refused
	HeaderSource    = "ferry-source"     // dead letters: topic/partition@offset of the original
	HeaderSchema    = "ferry-schema"     // canonical records: the schema's name
	HeaderRepair    = "ferry-repair"     // raw records re-polled by reconcile: past dedupe
)

// NewWriter returns the writer a process publishes with: keyed records go
// to the partition of their key as Java clients put them (murmur2, so that
// services in other languages agree on where a key lives), every write
// waits for all replicas, and small batches flush at once instead of
// waiting for company. kafka-go's errors go to log (nil: nowhere).
func NewWriter(brokers []string, log *slog.Logger) *kafka.Writer {
	w := newWriter(brokers, log)
	w.Balancer = kafka.Murmur2Balancer{}
	return w
}

// NewStateWriter returns a writer for state changelogs: each record goes
// to the partition its Partition field names, the partition of the input
// that owns the state. kafka-go's errors go to log (nil: nowhere).
func NewStateWriter(brokers []string, log *slog.Logger) *kafka.Writer {
	w := newWriter(brokers, log)
	w.Balancer = kafka.BalancerFunc(func(m kafka.Message, _ ...int) int { return m.Partition })
	return w
}

func newWriter(brokers []string, log *slog.Logger) *kafka.Writer {
	return &kafka.Writer{
		ErrorLogger:            ErrorLog(log),
		Addr:                   kafka.TCP(brokers...),
		RequiredAcks:           kafka.RequireAll,
		BatchSize:              1000,
		BatchBytes:             16 << 20,
		BatchTimeout:           2 * time.Millisecond,
		AllowAutoTopicCreation: false,
		MaxAttempts:            10,
	}
}

// DefaultSession is the session timeout of ferry's consumer groups: a
// replica that dies keeps its partitions (or a producer its flows) until
// the coordinator has missed its heartbeats this long. 6s is the shortest
// a stock broker allows (group.min.session.timeout.ms); a broker that
// allows less lets FERRY_GROUP_SESSION_TIMEOUT take over faster, at the
// price of evicting a replica that only paused. A replica that stops
// cleanly leaves its groups at once, whatever the timeout.
const DefaultSession = 6 * time.Second

// RebalanceTimeout bounds how long a group waits for its members to
// finish their batches and rejoin, and so how long a batch may outlive
// its partition's ownership.
const RebalanceTimeout = 15 * time.Second

// NewGroup returns a consumer group over a topic, with the session
// timeout (default DefaultSession), heartbeats every third of it (at most
// every second, so that members learn of a rebalance within a second),
// and the given balancers (default: kafka-go's range and round-robin).
// kafka-go's errors go to log as warnings.
func NewGroup(brokers []string, id, topic string, session time.Duration, log *slog.Logger, balancers ...kafka.GroupBalancer) (*kafka.ConsumerGroup, error) {
	if session <= 0 {
		session = DefaultSession
	}
	return kafka.NewConsumerGroup(kafka.ConsumerGroupConfig{
		ID:                    id,
		Brokers:               brokers,
		Topics:                []string{topic},
		GroupBalancers:        balancers,
		StartOffset:           kafka.FirstOffset,
		SessionTimeout:        session,
		HeartbeatInterval:     min(session/3, time.Second),
		RebalanceTimeout:      RebalanceTimeout,
		JoinGroupBackoff:      time.Second,
		WatchPartitionChanges: true,
		ErrorLogger:           ErrorLog(log, "group", id),
	})
}

// Next waits for the group's next generation. kafka-go keeps trying to
// join on its own; Next logs why it has not yet and goes on waiting. It
// returns an error only when ctx ends: its cause, if it has one.
func Next(ctx context.Context, group *kafka.ConsumerGroup, id string, log *slog.Logger) (*kafka.Generation, error) {
	for {
		gen, err := group.Next(ctx)
		if err == nil {
			return gen, nil
		}
		if ctx.Err() != nil {
			if cause := context.Cause(ctx); !errors.Is(cause, ctx.Err()) {
				return nil, cause
			}
			return nil, ctx.Err()
		}
		log.Warn("cannot join the consumer group yet", "group", id, "err", err)
	}
}

// ErrorLog passes a kafka-go client's error log to log as warnings, with
// attrs; a nil log discards it.
func ErrorLog(log *slog.Logger, attrs ...any) kafka.Logger {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return kafka.LoggerFunc(func(format string, args ...any) {
		log.Warn("kafka: "+fmt.Sprintf(format, args...), attrs...)
	})
}

// Position is where a consumer stands in one partition of a topic: Next is
// the offset of the next record to read.
type Position struct {
	Topic     string
	Partition int
	Next      int64
}

// FetchBatch fetches up to max messages: it blocks for the first one, then
// takes what arrives within linger. The messages are not committed.
func FetchBatch(ctx context.Context, r *kafka.Reader, max int, linger time.Duration) ([]kafka.Message, error) {
	m, err := r.FetchMessage(ctx)
	if err != nil {
		return nil, err
	}
	batch := []kafka.Message{m}
	lctx, cancel := context.WithTimeout(ctx, linger)
	defer cancel()
	for len(batch) < max {
		m, err := r.FetchMessage(lctx)
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			break // linger over: hand over what we have
		}
		batch = append(batch, m)
	}
	return batch, nil
}

// Header returns the value of the named header, or "".
func Header(m kafka.Message, key string) string {
	for _, h := range m.Headers {
		if h.Key == key {
			return string(h.Value)
		}
	}
	return ""
}

// EndOffsets returns the next offset to be written to each partition of a
// topic (its high watermark).
func EndOffsets(ctx context.Context, brokers []string, topic string) (map[int]int64, error) {
	return listOffsets(ctx, brokers, topic, kafka.LastOffsetOf)
}

// Depth returns how many records of a topic wait: after the offsets the
// group committed or, when group is "", all those the topic keeps.
func Depth(ctx context.Context, brokers []string, topic, group string) (int64, error) {
	end, err := EndOffsets(ctx, brokers, topic)
	if err != nil {
		return 0, err
	}
	var from map[int]int64
	if group == "" {
		from, err = listOffsets(ctx, brokers, topic, kafka.FirstOffsetOf)
	} else {
		from, err = CommittedOffsets(ctx, brokers, group, topic, slices.Collect(maps.Keys(end)))
	}
	if err != nil {
		return 0, err
	}
	var n int64
	for p, e := range end {
		n += max(e-from[p], 0)
	}
	return n, nil
}

// listOffsets returns the offset of each partition of a topic that at
// asks for.
func listOffsets(ctx context.Context, brokers []string, topic string, at func(int) kafka.OffsetRequest) (map[int]int64, error) {
	client := &kafka.Client{Addr: kafka.TCP(brokers...), Timeout: 30 * time.Second}
	meta, err := client.Metadata(ctx, &kafka.MetadataRequest{Topics: []string{topic}})
	if err != nil {
		return nil, fmt.Errorf("metadata %s: %w", topic, err)
	}
	if len(meta.Topics) != 1 || meta.Topics[0].Error != nil {
		return nil, fmt.Errorf("metadata %s: %w", topic, kafka.UnknownTopicOrPartition)
	}
	var reqs []kafka.OffsetRequest
	for _, p := range meta.Topics[0].Partitions {
		reqs = append(reqs, at(p.ID))
	}
	res, err := client.ListOffsets(ctx, &kafka.ListOffsetsRequest{Topics: map[string][]kafka.OffsetRequest{topic: reqs}})
	if err != nil {
		return nil, fmt.Errorf("list offsets %s: %w", topic, err)
	}
	first := len(reqs) > 0 && reqs[0].Timestamp == kafka.FirstOffset
	out := map[int]int64{}
	for _, p := range res.Topics[topic] {
		if p.Error != nil {
			return nil, fmt.Errorf("list offsets %s/%d: %w", topic, p.Partition, p.Error)
		}
		out[p.Partition] = p.LastOffset
		if first {
			out[p.Partition] = p.FirstOffset
		}
	}
	return out, nil
}

// CommittedOffsets returns the offsets a consumer group has committed on
// the given partitions of a topic (absent when none).
func CommittedOffsets(ctx context.Context, brokers []string, group, topic string, partitions []int) (map[int]int64, error) {
	client := &kafka.Client{Addr: kafka.TCP(brokers...), Timeout: 30 * time.Second}
	res, err := client.OffsetFetch(ctx, &kafka.OffsetFetchRequest{GroupID: group, Topics: map[string][]int{topic: partitions}})
	if err != nil {
		return nil, fmt.Errorf("offset fetch %s/%s: %w", group, topic, err)
	}
	if errors.Is(res.Error, kafka.GroupIdNotFound) {
		return map[int]int64{}, nil // the group has not committed yet
	}
	if res.Error != nil {
		return nil, fmt.Errorf("offset fetch %s/%s: %w", group, topic, res.Error)
	}
	out := map[int]int64{}
	for _, p := range res.Topics[topic] {
		if p.Error == nil && p.CommittedOffset >= 0 {
			out[p.Partition] = p.CommittedOffset
		}
	}
	return out, nil
}

// CaughtUp reports whether a group has committed every record of a topic
// up to the given end offsets.
func CaughtUp(ctx context.Context, brokers []string, group, topic string, end map[int]int64) (bool, error) {
	var partitions []int
	for p := range end {
		partitions = append(partitions, p)
	}
	done, err := CommittedOffsets(ctx, brokers, group, topic, partitions)
	if err != nil {
		return false, err
	}
	for p, e := range end {
		if e > 0 && done[p] < e {
			return false, nil
		}
	}
	return true, nil
}

// ReadAll reads a topic from its first offset up to its current end and
// hands every message to fn, partition by partition. State topics (compacted
// changelogs) are loaded this way at start.
func ReadAll(ctx context.Context, brokers []string, topic string, fn func(kafka.Message)) error {
	end, err := EndOffsets(ctx, brokers, topic)
	if err != nil {
		return err
	}
	for p, last := range end {
		if err := readPartition(ctx, brokers, topic, p, last, fn); err != nil {
			return err
		}
	}
	return nil
}

// ReadKey reads the records of one key: only the partition ferry's
// writers put the key in (murmur2, as NewWriter balances), handing fn
// each record of the key in it, oldest first. It returns the partition.
func ReadKey(ctx context.Context, brokers []string, topic, key string, fn func(kafka.Message)) (int, error) {
	end, err := EndOffsets(ctx, brokers, topic)
	if err != nil {
		return 0, err
	}
	parts := make([]int, len(end))
	for i := range parts {
		parts[i] = i
	}
	p := kafka.Murmur2Balancer{}.Balance(kafka.Message{Key: []byte(key)}, parts...)
	_, err = ReadPartition(ctx, brokers, topic, p, func(int64) {}, func(m kafka.Message) {
		if string(m.Key) == key {
			fn(m)
		}
	})
	return p, err
}

// ReadPartition reads one partition of a topic from its first offset up
// to its current end: it tells size how many records that is at most
// (the span of offsets), then hands every message to fn. A consumer
// restores the state of a partition it was assigned this way. It returns
// how many messages it read.
func ReadPartition(ctx context.Context, brokers []string, topic string, partition int, size func(int64), fn func(kafka.Message)) (int64, error) {
	client := &kafka.Client{Addr: kafka.TCP(brokers...), Timeout: 30 * time.Second}
	res, err := client.ListOffsets(ctx, &kafka.ListOffsetsRequest{Topics: map[string][]kafka.OffsetRequest{
		topic: {kafka.FirstOffsetOf(partition), kafka.LastOffsetOf(partition)}}})
	if err != nil {
		return 0, fmt.Errorf("list offsets %s/%d: %w", topic, partition, err)
	}
	ps := res.Topics[topic]
	if len(ps) != 1 || ps[0].Error != nil {
		return 0, fmt.Errorf("list offsets %s/%d: %v", topic, partition, ps)
	}
	size(ps[0].LastOffset - ps[0].FirstOffset)
	var n int64
	err = readPartition(ctx, brokers, topic, partition, ps[0].LastOffset, func(m kafka.Message) {
		n++
		fn(m)
	})
	return n, err
}

func readPartition(ctx context.Context, brokers []string, topic string, p int, last int64, fn func(kafka.Message)) error {
	if last == 0 {
		return nil
	}
	r := kafka.NewReader(kafka.ReaderConfig{Brokers: brokers, Topic: topic, Partition: p, MinBytes: 1, MaxBytes: 16 << 20, MaxWait: 100 * time.Millisecond})
	defer r.Close()
	if err := r.SetOffset(kafka.FirstOffset); err != nil {
		return err
	}
	for {
		m, err := r.FetchMessage(ctx)
		if err != nil {
			return fmt.Errorf("read %s/%d: %w", topic, p, err)
		}
		fn(m)
		if m.Offset+1 >= last {
			return nil
		}
	}
}

// DeadLetter wraps a refused message for the dead-letter topic: same key,
// value and headers, plus the reason and where the message came from.
func DeadLetter(m kafka.Message, topic string, reason error) kafka.Message {
	var headers []kafka.Header
	for _, h := range m.Headers {
		if h.Key != HeaderError && h.Key != HeaderSource {
			headers = append(headers, h)
		}
	}
	headers = append(headers,
		kafka.Header{Key: HeaderError, Value: []byte(reason.Error())},
		kafka.Header{Key: HeaderSource, Value: []byte(fmt.Sprintf("%s/%d@%d", m.Topic, m.Partition, m.Offset))},
	)
	return kafka.Message{Topic: topic, Key: m.Key, Value: m.Value, Headers: headers}
}

// WaitCaughtUp polls until a group has committed every record of a topic up
// to the given end offsets, or ctx ends.
func WaitCaughtUp(ctx context.Context, brokers []string, group, topic string, end map[int]int64) error {
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		ok, err := CaughtUp(ctx, brokers, group, topic, end)
		if err != nil {
			return err
		}
		if ok {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for %s to consume %s: %w", group, topic, ctx.Err())
		case <-tick.C:
		}
	}
}
