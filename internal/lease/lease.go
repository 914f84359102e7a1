// Package lease lets exactly one producer poll a flow at a time, with Kafka
// alone, and fences the flow's checkpoint with that ownership.
//
// # Ownership
//
// Each flow has a consumer group, ferry-producer-<flow>, over the
// one-partition topic ferry.leases. In each generation of the group, its
// coordinator hands that partition to one member: the flow's owner, which
// polls the flow until the generation ends. Producer replicas that serve
// the same flows are the group's other members and stand by. When the
// owner stops, it leaves the group and another member owns the flow after
// one rebalance (a second or two). When the owner dies or is cut off, the
// coordinator notices after the session timeout (bus.DefaultSession, 6s),
// and another member owns the flow within a second or two more. The
// assignment is sticky: a rebalance for another reason (a replica joins)
// leaves the flow with its owner, which only resumes from its checkpoint.
//
// # Fencing
//
// The owner commits the flow's checkpoint as the group's offset on
// ferry.leases (the window's end, in Unix milliseconds; the checkpoint as
// JSON metadata), with its generation and member id. The coordinator
// refuses a commit from a member of an older generation or one it has
// evicted, so a process that lost ownership (paused, cut off from the
// broker) can never move the checkpoint, and the checkpoint never goes
// back. Each commit is then mirrored to ferry.checkpoints, which metrics
// and reconcile read, and from which a flow checkpointed before leases
// resumes.
//
// # Failure modes
//
//   - A former owner learns it lost the lease at its next heartbeat (a
//     second) or when its commit is refused. Until then it may publish the
//     page in hand: raw records the next owner publishes again, which the
//     processor's dedupe absorbs. Publishes are not fenced; Kafka's
//     transactions could fence them, and kafka-go has none.
//   - The mirror may, in a race with a former owner, show an older
//     checkpoint for a moment; the fenced commit is what a new owner
//     resumes from.
//   - With the coordinator unreachable, no one owns the flow: polling
//     waits, nothing is polled twice.
package lease

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/ferry-data/ferry/internal/backoff"
	"github.com/ferry-data/ferry/internal/bus"
	"github.com/ferry-data/ferry/internal/checkpoint"
)

// Topic is the one-partition topic every flow's lease group subscribes to.
const Topic = "ferry.leases"

// Group is the lease group of a flow.
func Group(flow string) string { return "ferry-producer-" + flow }

// ErrNotOwner is a checkpoint commit the coordinator refused: this process
// no longer owns the flow.
var ErrNotOwner = errors.New("not the flow's owner any more")

// Config says which flow's lease to take part in.
type Config struct {
	Brokers []string
	Flow    string
	// Settings are the topic settings (replication) of ferry.leases.
	Settings bus.Settings
	// Mirror is the checkpoint store: read for a flow checkpointed before
	// leases, written after each fenced commit.
	Mirror *checkpoint.Store
	// Session is the lease group's session timeout (see bus.DefaultSession).
	Session time.Duration
	Log     *slog.Logger
}

// TopicOf is Topic as ferry creates it, with the settings' replication:
// one partition, which every lease shares.
func TopicOf(s bus.Settings) bus.Topic {
	s.Partitions = 1
	return bus.Topic{Name: Topic, Settings: s}
}

// Run takes part in the flow's lease until ctx ends. Each time this
// process becomes the owner, it calls own with a context that ends with
// the ownership and the owner's checkpoints. An error of own, other than
// its context ending, stops Run.
func Run(ctx context.Context, cfg Config, own func(ctx context.Context, cps *Checkpoints) error) error {
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if err := bus.EnsureTopics(ctx, cfg.Brokers, cfg.Log, TopicOf(cfg.Settings)); err != nil {
		return fmt.Errorf("lease %s: %w", cfg.Flow, err)
	}
	b := &sticky{}
	group, err := bus.NewGroup(cfg.Brokers, Group(cfg.Flow), Topic, cfg.Session, cfg.Log, b)
	if err != nil {
		return fmt.Errorf("lease %s: %w", cfg.Flow, err)
	}
	defer group.Close()
	client := &kafka.Client{Addr: kafka.TCP(cfg.Brokers...), Timeout: 10 * time.Second}
	ctx, fail := context.WithCancelCause(ctx)
	defer fail(nil)
	for {
		gen, err := bus.Next(ctx, group, Group(cfg.Flow), cfg.Log)
		if err != nil {
			if ctx.Err() != nil && errors.Is(err, ctx.Err()) {
				return err
			}
			return fmt.Errorf("lease %s: %w", cfg.Flow, err)
		}
		if len(gen.Assignments[Topic]) == 0 {
			b.owned.Store(0)
			cfg.Log.Info("standing by: another producer owns the flow", "flow", cfg.Flow, "generation", gen.ID)
			continue
		}
		b.owned.Store(gen.ID)
		gen.Start(func(gctx context.Context) {
			cps := &Checkpoints{cfg: cfg, client: client, gen: gen}
			if err := cps.load(gctx); err != nil {
				// Ending the generation makes the group try again.
				cfg.Log.Warn("cannot read the flow's checkpoint; giving the lease back", "flow", cfg.Flow, "err", err)
				return
			}
			cfg.Log.Info("owning the flow", "flow", cfg.Flow, "generation", gen.ID, "member", gen.MemberID, "checkpoint", cps.cp.End)
			err := own(gctx, cps)
			if err != nil && gctx.Err() == nil && !errors.Is(err, ErrNotOwner) {
				fail(err)
				return
			}
			cfg.Log.Info("ownership of the flow ended", "flow", cfg.Flow, "generation", gen.ID, "err", err)
		})
	}
}

// Checkpoints are the flow's checkpoint as its owner of one generation
// reads and commits it.
type Checkpoints struct {
	cfg    Config
	client *kafka.Client
	gen    *kafka.Generation
	cp     checkpoint.Checkpoint
	ok     bool
}

// load reads the fenced checkpoint, or the mirror's for a flow that has
// none yet.
func (c *Checkpoints) load(ctx context.Context) error {
	res, err := c.client.OffsetFetch(ctx, &kafka.OffsetFetchRequest{GroupID: Group(c.cfg.Flow), Topics: map[string][]int{Topic: {0}}})
	if err != nil {
		return fmt.Errorf("lease %s: read checkpoint: %w", c.cfg.Flow, err)
	}
	if res.Error != nil {
		return fmt.Errorf("lease %s: read checkpoint: %w", c.cfg.Flow, res.Error)
	}
	for _, p := range res.Topics[Topic] {
		if p.Error == nil && p.CommittedOffset >= 0 {
			if err := json.Unmarshal([]byte(p.Metadata), &c.cp); err != nil {
				c.cp = checkpoint.Checkpoint{Flow: c.cfg.Flow, End: time.UnixMilli(p.CommittedOffset).UTC()}
			}
			c.ok = true
			return nil
		}
	}
	if c.cfg.Mirror != nil {
		c.cp, c.ok = c.cfg.Mirror.Get(c.cfg.Flow)
	}
	return nil
}

// Get returns the flow's checkpoint.
func (c *Checkpoints) Get(flow string) (checkpoint.Checkpoint, bool) {
	if flow != c.cfg.Flow {
		return checkpoint.Checkpoint{}, false
	}
	return c.cp, c.ok
}

// Commit records that every record of the flow up to end is acknowledged,
// if this process still owns the flow; otherwise it returns ErrNotOwner.
// A commit that does not reach the coordinator is tried again until ctx
// ends: the ownership's context ends once the coordinator has been out of
// reach for a session.
func (c *Checkpoints) Commit(ctx context.Context, flow string, end time.Time) error {
	if flow != c.cfg.Flow {
		return fmt.Errorf("lease %s: cannot commit flow %s", c.cfg.Flow, flow)
	}
	cp := checkpoint.Checkpoint{Flow: flow, End: end.UTC(), At: time.Now().UTC()}
	meta, _ := json.Marshal(cp)
	req := &kafka.OffsetCommitRequest{
		GroupID:      Group(flow),
		GenerationID: int(c.gen.ID),
		MemberID:     c.gen.MemberID,
		Topics:       map[string][]kafka.OffsetCommit{Topic: {{Partition: 0, Offset: end.UnixMilli(), Metadata: string(meta)}}},
	}
	policy := backoff.Policy{Base: 100 * time.Millisecond, Max: 2 * time.Second}
	for try := 0; ; try++ {
		err := c.commit(ctx, req)
		if err == nil {
			break
		}
		if errors.Is(err, ErrNotOwner) || ctx.Err() != nil {
			return fmt.Errorf("lease %s: checkpoint %s: %w", flow, end.UTC().Format(time.RFC3339), err)
		}
		c.cfg.Log.Warn("checkpoint commit failed; retrying", "flow", flow, "try", try+1, "err", err)
		if err := backoff.Sleep(ctx, policy.Delay(try)); err != nil {
			return fmt.Errorf("lease %s: checkpoint %s: %w", flow, end.UTC().Format(time.RFC3339), err)
		}
	}
	c.cp, c.ok = cp, true
	if c.cfg.Mirror != nil {
		if err := c.cfg.Mirror.Commit(ctx, flow, end); err != nil {
			c.cfg.Log.Warn("checkpoint committed, but not mirrored to the checkpoints topic", "flow", flow, "err", err)
		}
	}
	return nil
}

// commit sends one checkpoint commit; ErrNotOwner when the coordinator
// refuses it for its generation or member.
func (c *Checkpoints) commit(ctx context.Context, req *kafka.OffsetCommitRequest) error {
	res, err := c.client.OffsetCommit(ctx, req)
	if err != nil {
		return err
	}
	for _, p := range res.Topics[Topic] {
		switch {
		case p.Error == nil:
		case errors.Is(p.Error, kafka.IllegalGeneration), errors.Is(p.Error, kafka.UnknownMemberId), errors.Is(p.Error, kafka.RebalanceInProgress):
			return fmt.Errorf("refused (%v): %w", p.Error, ErrNotOwner)
		default:
			return p.Error
		}
	}
	return nil
}

// sticky assigns the lease partition to the member that owned it in the
// latest generation, so that a rebalance for another reason does not move
// the flow; to the first member otherwise.
type sticky struct {
	owned atomic.Int32 // generation in which this member owned the lease; 0 for none
}

func (s *sticky) ProtocolName() string { return "ferry-sticky-lease" }

func (s *sticky) UserData() ([]byte, error) {
	return []byte(strconv.Itoa(int(s.owned.Load()))), nil
}

func (s *sticky) AssignGroups(members []kafka.GroupMember, partitions []kafka.Partition) kafka.GroupMemberAssignments {
	out := kafka.GroupMemberAssignments{}
	if len(members) == 0 {
		return out
	}
	best, bestGen := members[0].ID, int64(-1)
	for _, m := range members {
		out[m.ID] = map[string][]int{}
		gen, _ := strconv.ParseInt(string(m.UserData), 10, 32)
		if gen > bestGen || (gen == bestGen && m.ID < best) {
			best, bestGen = m.ID, gen
		}
	}
	for _, p := range partitions {
		out[best][p.Topic] = append(out[best][p.Topic], p.ID)
	}
	return out
}

// Member is the owner's member id in the lease group.
func (c *Checkpoints) Member() string { return c.gen.MemberID }
