package bus

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/ferry-data/ferry/internal/backoff"
	"github.com/ferry-data/ferry/internal/stats"
)

// Handler handles one batch of a partition and returns once what it wrote
// is durable; an error stops the consumer.
type Handler func(ctx context.Context, batch []kafka.Message) error

// Consumer is a member of a consumer group that owns the partitions the
// group assigns it. For each, it calls Open (which restores whatever the
// partition's handler keeps), then fetches the partition's records from the
// group's committed offset, hands them to the handler batch by batch, and
// commits after each. When the group takes a partition away, whatever
// Open built for it goes with it; the next owner opens it afresh.
//
// A batch begun is finished, even when the partition is revoked
// meanwhile (within RebalanceTimeout), so that what it wrote and its
// offset move together to the next owner. A failed commit is retried while the partition is owned; one
// that the group refuses (the generation ended) or never succeeds only
// means the next owner handles the batch again, which ferry's writes are
// idempotent for. A partition whose opening, fetching or handling fails
// starts over from its last batch (see own); only a failure that keeps
// coming back stops the consumer.
type Consumer struct {
	// Flow names the flow served, in the metrics.
	Flow    string
	Brokers []string
	Group   string
	Topic   string
	// BatchSize bounds a batch; default 500. Linger is how long a batch
	// waits to fill; default 20ms.
	BatchSize int
	Linger    time.Duration
	// Parallel bounds how many of the member's partitions handle a batch
	// at once; 0 means each of them.
	Parallel int
	// Session is the group's session timeout; default DefaultSession.
	Session time.Duration
	Log     *slog.Logger
	// Open prepares a newly assigned partition and returns its handler.
	Open func(ctx context.Context, partition int) (Handler, error)
	// Start, if set, tells where a partition's handled records end, when
	// the handler keeps that itself (a sink that stores its positions with
	// its rows): the partition is read from there, not from the group's
	// committed offset, which is then only advisory.
	Start func(ctx context.Context, partition int) (next int64, ok bool, err error)
	// Wait, if set, holds a batch back before it begins, until it
	// returns; its ctx ends with the partition's ownership.
	Wait func(ctx context.Context, batch []kafka.Message) error
	// Retry shapes the waits before a failed partition starts over;
	// default 200ms growing to 30s.
	Retry backoff.Policy
	// Stats, if set, learns the partitions the member owns, with their lag
	// and their loop's pulse, and the group's rebalances.
	Stats *stats.Consumers
	// Now is the clock failures are timed on; default time.Now.
	Now func() time.Time

	slots chan struct{}
}

// Run consumes until ctx ends or a handler fails.
func (c *Consumer) Run(ctx context.Context) error {
	if c.BatchSize <= 0 {
		c.BatchSize = 500
	}
	if c.Linger <= 0 {
		c.Linger = 20 * time.Millisecond
	}
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
	if c.Parallel > 0 {
		c.slots = make(chan struct{}, c.Parallel)
	}
	if c.Stats == nil {
		c.Stats = &stats.Consumers{}
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	group, err := NewGroup(c.Brokers, c.Group, c.Topic, c.Session, c.Log)
	if err != nil {
		return err
	}
	defer group.Close()
	ctx, fail := context.WithCancelCause(ctx)
	defer fail(nil)
	for {
		gen, err := Next(ctx, group, c.Group, c.Log)
		if err != nil {
			return err
		}
		c.Stats.Rebalanced(c.Group)
		assigned := gen.Assignments[c.Topic]
		ids := make([]int, len(assigned))
		for i, a := range assigned {
			ids[i] = a.ID
		}
		c.Log.Info("partitions assigned", "group", c.Group, "topic", c.Topic, "generation", gen.ID, "member", gen.MemberID, "partitions", ids)
		for _, a := range assigned {
			gen.Start(func(gctx context.Context) {
				if err := c.own(gctx, gen, a); err != nil && gctx.Err() == nil {
					fail(fmt.Errorf("%s partition %d: %w", c.Topic, a.ID, err))
				}
			})
		}
	}
}

// maxFailures is how many times in a row a partition may fail (open,
// fetch or handle) before the consumer gives up on it, and Run returns:
// about two minutes of backoff, longer than a broker or database restart.
const maxFailures = 8

// freshAfter is how long a partition must have run since it last started
// over for its next failure to start a new count: failures are in a row
// when they come one on another, not when an idle partition meets one
// broker restart a week.
const freshAfter = time.Minute

// own consumes one assigned partition until its generation ends. When
// opening, fetching or handling fails, it starts the partition over from
// its last handled batch, opened afresh (so a processor's state is
// restored again), after a backoff; it gives up after maxFailures in a
// row (a handled batch, or freshAfter of running, ends a row).
func (c *Consumer) own(ctx context.Context, gen *kafka.Generation, a kafka.PartitionAssignment) error {
	policy := c.Retry
	if policy.Base <= 0 {
		policy = backoff.Policy{Base: 200 * time.Millisecond, Max: 30 * time.Second}
	}
	part := stats.Partition{Flow: c.Flow, Group: c.Group, Topic: c.Topic, Partition: a.ID}
	defer c.Stats.Release(part, c.Stats.Own(part))
	next, failures := a.Offset, 0
	for {
		began := c.Now()
		what, err := c.consume(ctx, gen, part, &next, &failures)
		if ctx.Err() != nil {
			return nil // the generation ended
		}
		if c.Now().Sub(began) >= freshAfter {
			failures = 0
		}
		failures++
		if failures >= maxFailures {
			return fmt.Errorf("%s: %w (%d failures in a row)", what, err, failures)
		}
		d := policy.Delay(failures - 1)
		c.Log.Warn("partition failed; starting it over from its last batch", "group", c.Group, "topic", c.Topic,
			"partition", a.ID, "step", what, "offset", next, "failures", failures, "wait", d, "err", err)
		if backoff.Sleep(ctx, d) != nil {
			return nil
		}
	}
}

// consume opens a partition and consumes it from *next until the
// generation ends (what is "") or a step fails.
func (c *Consumer) consume(ctx context.Context, gen *kafka.Generation, part stats.Partition, next *int64, failures *int) (what string, err error) {
	partition := part.Partition
	handle, err := c.Open(ctx, partition)
	if err != nil {
		return "open", err
	}
	if c.Start != nil {
		at, ok, err := c.Start(ctx, partition)
		if err != nil {
			return "open", err
		}
		if ok && at != *next {
			c.Log.Info("partition resumes where its handler's own positions say", "group", c.Group, "topic", c.Topic,
				"partition", partition, "offset", at, "group_offset", *next)
			*next = at
		}
	}
	r := kafka.NewReader(kafka.ReaderConfig{Brokers: c.Brokers, Topic: c.Topic, Partition: partition,
		MinBytes: 1, MaxBytes: 16 << 20, MaxWait: 250 * time.Millisecond,
		ErrorLogger: ErrorLog(c.Log, "group", c.Group, "topic", c.Topic, "partition", partition)})
	defer r.Close()
	if err := r.SetOffset(*next); err != nil {
		return "seek", err
	}
	for {
		c.Stats.Update(part, func(o *stats.Owned) { o.Pulse.Idle() })
		batch, err := FetchBatch(ctx, r, c.BatchSize, c.Linger)
		if err != nil {
			return "fetch", err
		}
		c.Stats.Update(part, func(o *stats.Owned) {
			o.Pulse.Beat()
			o.Lag, o.Oldest = r.Lag()+int64(len(batch)), batch[0].Time
		})
		done, err := c.handle(ctx, gen, part, handle, batch)
		if err != nil {
			return "handle", err
		}
		if !done {
			return "", ctx.Err()
		}
		c.Stats.Update(part, func(o *stats.Owned) {
			// The next record's time is known at the next fetch; until
			// then the last one handled stands for it.
			o.Pulse.Beat()
			o.Lag, o.Oldest = r.Lag(), time.Time{}
			if o.Lag > 0 {
				o.Oldest = batch[len(batch)-1].Time
			}
		})
		*next, *failures = batch[len(batch)-1].Offset+1, 0
		if ctx.Err() != nil {
			return "", ctx.Err()
		}
	}
}

// handle runs one batch and commits; done is false for a batch not
// handled because the partition moved on. A batch outlives its generation
// by RebalanceTimeout at most; one cut short there is handled again by the
// partition's next owner.
func (c *Consumer) handle(gctx context.Context, gen *kafka.Generation, part stats.Partition, handle Handler, batch []kafka.Message) (done bool, err error) {
	partition := part.Partition
	if c.Wait != nil {
		// Waiting is idling, however long.
		c.Stats.Update(part, func(o *stats.Owned) { o.Pulse.Idle() })
		err := c.Wait(gctx, batch)
		c.Stats.Update(part, func(o *stats.Owned) { o.Pulse.Beat() })
		if err != nil {
			if gctx.Err() != nil {
				return false, nil // not begun: the next owner handles it
			}
			return false, err
		}
	}
	ctx, cancel := context.WithCancel(context.WithoutCancel(gctx))
	defer cancel()
	stop := context.AfterFunc(gctx, func() { time.AfterFunc(RebalanceTimeout, cancel) })
	defer stop()
	if c.slots != nil {
		select {
		case c.slots <- struct{}{}:
			defer func() { <-c.slots }()
		case <-gctx.Done():
			return false, nil
		}
	}
	if err := handle(ctx, batch); err != nil {
		if ctx.Err() != nil {
			c.Log.Warn("batch cut short after its partition moved on; the next owner handles it again",
				"group", c.Group, "topic", c.Topic, "partition", partition, "records", len(batch), "err", err)
			return false, nil
		}
		return false, err
	}
	c.commit(ctx, gctx, gen, partition, batch[len(batch)-1].Offset+1)
	return true, nil
}

// commit commits the partition's next offset, retrying while the
// partition is owned.
func (c *Consumer) commit(ctx, gctx context.Context, gen *kafka.Generation, partition int, offset int64) {
	policy := backoff.Policy{Base: 100 * time.Millisecond, Max: 2 * time.Second}
	for try := 0; ; try++ {
		err := gen.CommitOffsets(map[string]map[int]int64{c.Topic: {partition: offset}})
		if err == nil {
			return
		}
		if gctx.Err() != nil || generationOver(err) {
			c.Log.Info("offset not committed: the partition has moved on; its next owner repeats the batch",
				"group", c.Group, "topic", c.Topic, "partition", partition, "offset", offset, "err", err)
			return
		}
		c.Log.Warn("offset commit failed; retrying", "group", c.Group, "topic", c.Topic, "partition", partition, "offset", offset, "try", try+1, "err", err)
		select {
		case <-ctx.Done():
			return
		case <-gctx.Done():
			return
		case <-time.After(policy.Delay(try)):
		}
	}
}

// generationOver tells the commit errors of a generation that has ended.
func generationOver(err error) bool {
	return errors.Is(err, kafka.RebalanceInProgress) || errors.Is(err, kafka.IllegalGeneration) ||
		errors.Is(err, kafka.UnknownMemberId) || errors.Is(err, kafka.NotCoordinatorForGroup)
}
