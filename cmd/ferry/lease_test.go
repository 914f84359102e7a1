package main

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/ferry-data/ferry/internal/bus"
	"github.com/ferry-data/ferry/internal/checkpoint"
	"github.com/ferry-data/ferry/internal/lease"
	"github.com/ferry-data/ferry/internal/sandbox"
	"github.com/ferry-data/ferry/producers"
	"github.com/ferry-data/ferry/producers/wdt/wdtsandbox"
)

// callLog records which producer made each vendor call, and each
// checkpoint committed.
type callLog struct {
	mu      sync.Mutex
	calls   []string
	commits []time.Time
}

func (l *callLog) call(who string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.calls = append(l.calls, who)
}

// runs are the producers' turns in call order: [a b] when a called, then b.
func (l *callLog) runs() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for _, c := range l.calls {
		if len(out) == 0 || out[len(out)-1] != c {
			out = append(out, c)
		}
	}
	return out
}

// recorded is a Source that logs its calls under a producer's name.
type recorded struct {
	producers.Source
	who string
	log *callLog
}

func (r recorded) Page(ctx context.Context, w producers.Window, pg int) (producers.Page, error) {
	r.log.call(r.who)
	return r.Source.Page(ctx, w, pg)
}

// fenced are an owner's checkpoints, whose commits are logged.
type fenced struct {
	*lease.Checkpoints
	log  *callLog
	done chan<- time.Time
}

func (f fenced) Commit(ctx context.Context, flow string, end time.Time) error {
	if err := f.Checkpoints.Commit(ctx, flow, end); err != nil {
		return err
	}
	f.log.mu.Lock()
	f.log.commits = append(f.log.commits, end)
	f.log.mu.Unlock()
	select {
	case f.done <- end:
	default:
	}
	return nil
}

// owner is one producer process taking part in the flow's lease.
type owner struct {
	name   string
	owned  chan *lease.Checkpoints // each ownership, as it begins
	commit chan time.Time          // checkpoints, as committed
	stop   func()
}

func (h *harness) startOwner(name string, log *callLog) *owner {
	h.t.Helper()
	ps, err := h.pipe.buildProducers(h.ctx)
	if err != nil {
		h.t.Fatal(err)
	}
	pr := ps[0]
	pr.Source = recorded{pr.Source, name, log}
	pr.PollInterval = 10 * time.Millisecond
	o := &owner{name: name, owned: make(chan *lease.Checkpoints, 4), commit: make(chan time.Time, 64)}
	ctx, cancel := context.WithCancel(h.ctx)
	done := make(chan error, 1)
	cfg := lease.Config{Brokers: h.pipe.cfg.Brokers, Flow: h.flow.Name, Mirror: h.pipe.checkpoints, Log: h.pipe.log}
	go func() {
		done <- lease.Run(ctx, cfg, func(ctx context.Context, cps *lease.Checkpoints) error {
			o.owned <- cps
			pr.Checkpoints = fenced{cps, log, o.commit}
			return pr.Run(ctx)
		})
	}()
	var once sync.Once
	o.stop = func() {
		once.Do(func() {
			cancel()
			if err := clean(<-done); err != nil {
				h.t.Errorf("producer %s: %v", name, err)
			}
		})
	}
	h.t.Cleanup(o.stop)
	return o
}

// startPair runs the consumers and two producers, a and b, and waits
// until the first owner of the flow has caught up. It returns the first
// owner and its checkpoints, the other, and the flow's lag.
func (h *harness) startPair() (log *callLog, own, other *owner, cps *lease.Checkpoints, lag time.Duration) {
	h.startConsumers()
	log = &callLog{}
	a, b := h.startOwner("a", log), h.startOwner("b", log)
	select {
	case cps = <-a.owned:
		own, other = a, b
	case cps = <-b.owned:
		own, other = b, a
	}
	lag = h.flow.Source.Window.Lag.D()
	h.waitCommit(own, h.clock.Now().Add(-lag).Truncate(time.Second))
	return log, own, other, cps, lag
}

// waitCommit waits until the owner has checkpointed up to at least end.
func (h *harness) waitCommit(o *owner, end time.Time) {
	h.t.Helper()
	for {
		select {
		case got := <-o.commit:
			if !got.Before(end) {
				return
			}
		case <-h.ctx.Done():
			h.t.Fatalf("producer %s never checkpointed %v", o.name, end)
		}
	}
}

// TestTwoProducersOneOwner runs two producers of the WDT flow. Only one
// polls at a time; stopping it hands the flow to the other, which goes on
// from the checkpoint; a former owner's checkpoint is refused; the
// checkpoint never goes back; and the table ends equal to the sandbox's
// truth.
func TestTwoProducersOneOwner(t *testing.T) {
	h, sb := newWDT(t, wdtsandbox.Config{Records: 600, Settings: sandbox.Settings{Seed: 11, MutationsPerSecond: churning.mutations, CreationsPerSecond: churning.creations, MutationsPerCall: churning.perCall}})
	log, own, other, cps, lag := h.startPair()
	h.clock.Advance(10 * time.Minute)
	started := time.Now()
	own.stop()
	<-other.owned
	t.Logf("%s stopped; %s owned the flow %v later", own.name, other.name, time.Since(started).Round(time.Millisecond))
	h.waitCommit(other, h.clock.Now().Add(-lag).Truncate(time.Second))

	err := cps.Commit(h.ctx, h.flow.Name, h.clock.Now().Add(time.Hour))
	if !errors.Is(err, lease.ErrNotOwner) {
		t.Fatalf("the former owner's checkpoint: %v, want it refused", err)
	}
	if runs := log.runs(); len(runs) != 2 || runs[0] != own.name || runs[1] != other.name {
		t.Fatalf("vendor calls by producer, in turns: %v; want %s's, then %s's", runs, own.name, other.name)
	}
	log.mu.Lock()
	for i := 1; i < len(log.commits); i++ {
		if log.commits[i].Before(log.commits[i-1]) {
			t.Errorf("checkpoint went back from %v to %v", log.commits[i-1], log.commits[i])
		}
	}
	log.mu.Unlock()
	other.stop()
	h.settle(0, sb)
	assertRefunds(h, sb)
}

// TestLeaseTakeoverWhenOwnerIsCutOff cuts the owner off from the group's
// coordinator, as a paused or partitioned process would be: after the
// session timeout the other producer owns the flow, and the cut-off
// owner's checkpoint is refused once it reaches the coordinator again.
func TestLeaseTakeoverWhenOwnerIsCutOff(t *testing.T) {
	h, sb := newWDT(t, wdtsandbox.Config{Records: 300, Settings: sandbox.Settings{Seed: 12}})
	_, own, other, cps, lag := h.startPair()

	// Cut: every group request of the owner closes its connection, and
	// so does every join as a new member (the other producer is a member
	// already), since a process cut off cannot join again either.
	var cut sync.Mutex
	cutting := true
	member := cps.Member()
	for _, key := range []kmsg.Key{kmsg.Heartbeat, kmsg.JoinGroup, kmsg.SyncGroup, kmsg.OffsetCommit, kmsg.LeaveGroup} {
		h.cluster.ControlKey(int16(key), func(req kmsg.Request) (kmsg.Response, error, bool) {
			h.cluster.KeepControl()
			cut.Lock()
			defer cut.Unlock()
			if m := requestMember(req); cutting && (m == member || m == "") {
				return nil, errors.New("cut off"), true
			}
			return nil, nil, false
		})
	}
	started := time.Now()
	<-other.owned
	took := time.Since(started)
	t.Logf("%s cut off; %s owned the flow %v later", own.name, other.name, took.Round(time.Millisecond))
	if took > 15*time.Second {
		t.Errorf("takeover took %v, want 15s or less", took)
	}
	h.clock.Advance(5 * time.Minute)
	h.waitCommit(other, h.clock.Now().Add(-lag).Truncate(time.Second))
	cut.Lock()
	cutting = false
	cut.Unlock()
	if err := cps.Commit(h.ctx, h.flow.Name, h.clock.Now().Add(time.Hour)); !errors.Is(err, lease.ErrNotOwner) {
		t.Fatalf("the cut-off owner's checkpoint: %v, want it refused", err)
	}
	own.stop()
	other.stop()
	h.settle(0, sb)
	assertRefunds(h, sb)
}

// requestMember is the member id a group request names.
func requestMember(req kmsg.Request) string {
	switch r := req.(type) {
	case *kmsg.HeartbeatRequest:
		return r.MemberID
	case *kmsg.JoinGroupRequest:
		return r.MemberID
	case *kmsg.SyncGroupRequest:
		return r.MemberID
	case *kmsg.OffsetCommitRequest:
		return r.MemberID
	case *kmsg.LeaveGroupRequest:
		if len(r.Members) > 0 {
			return r.Members[0].MemberID
		}
		return r.MemberID
	}
	return ""
}

// TestOnlyOwnedCheckpointAgesAreReported: a producer reports the
// checkpoint age of the flows it owns only: a standby's view of another
// owner's checkpoint goes stale and would raise a false alert.
func TestOnlyOwnedCheckpointAgesAreReported(t *testing.T) {
	h := newHarness(t, "wdt_refunds")
	cps, err := checkpoint.Open(h.ctx, h.pipe.cfg.Brokers, bus.Settings{})
	if err != nil {
		t.Fatal(err)
	}
	defer cps.Close()
	for _, flow := range []string{"wdt_refunds", "jst_orders"} {
		if err := cps.Commit(h.ctx, flow, t0); err != nil {
			t.Fatal(err)
		}
	}
	var o owned
	ends := ownedEnds{cps, &o}
	if got := ends.Ends(); len(got) != 0 {
		t.Fatalf("a process owning nothing reports %v", got)
	}
	o.set("wdt_refunds", true)
	if got := ends.Ends(); len(got) != 1 || !got["wdt_refunds"].Equal(t0) {
		t.Fatalf("reported %v", got)
	}
	o.set("wdt_refunds", false)
	if got := ends.Ends(); len(got) != 0 {
		t.Fatalf("after the lease ended: %v", got)
	}
}
