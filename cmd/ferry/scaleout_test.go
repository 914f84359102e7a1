package main

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/ferry-data/ferry/internal/bus"
	"github.com/ferry-data/ferry/internal/sandbox"
	"github.com/ferry-data/ferry/internal/stats"
	"github.com/ferry-data/ferry/processors"
	"github.com/ferry-data/ferry/producers/wdt/wdtsandbox"
	"github.com/ferry-data/ferry/sinks"
)

// replica is one processor or sink instance of a flow, running until
// stopped.
type replica struct {
	role  string
	stats *stats.Flow
	stop  func()
}

// startReplica runs one more processor or sink of the harness's flow, as
// another process would, in the flow's consumer group.
func (h *harness) startReplica(role string) *replica {
	h.t.Helper()
	s, err := loadSchema(h.flow)
	if err != nil {
		h.t.Fatal(err)
	}
	st := &stats.Flow{}
	var run func(context.Context) error
	codec, err := h.pipe.codec(h.ctx, h.flow, s, role == "processor")
	if err != nil {
		h.t.Fatal(err)
	}
	switch role {
	case "processor":
		pr := &processors.Processor{Flow: h.flow, Schema: s, Codec: codec, Brokers: h.pipe.cfg.Brokers, Topics: h.pipe.topics(h.flow),
			Writer: h.pipe.kafkaWriter(), Log: h.pipe.log, Stats: st}
		run = pr.Run
	case "sink":
		if err := h.pipe.openDB(h.ctx, h.flow); err != nil {
			h.t.Fatal(err)
		}
		w, err := h.pipe.mysqlWriter(h.ctx, h.flow, s)
		if err != nil {
			h.t.Fatal(err)
		}
		sk := &sinks.Sink{Flow: h.flow, Schema: s, Codec: codec, Brokers: h.pipe.cfg.Brokers, Topics: h.pipe.topics(h.flow),
			Target: w, DeadLetters: h.pipe.kafkaWriter(), Log: h.pipe.log, Stats: st}
		run = sk.Run
	}
	ctx, cancel := context.WithCancel(h.ctx)
	done := make(chan error, 1)
	go func() { done <- run(ctx) }()
	r := &replica{role: role, stats: st}
	var stopped atomic.Bool
	r.stop = func() {
		if stopped.Swap(true) {
			return
		}
		cancel()
		if err := clean(<-done); err != nil {
			h.t.Errorf("%s: %v", role, err)
		}
	}
	h.t.Cleanup(r.stop)
	return r
}

// TestScaleOut runs the WDT flow with three processors and three sinks
// over six partitions while the sandbox changes records, and replaces a
// processor and a sink between passes (each a rebalance, once as they
// leave and once as the new ones join). The table must then equal the
// sandbox's truth, and no key's canonical records may ever go back to an
// older version: each key's state moved with its partition.
func TestScaleOut(t *testing.T) {
	h, sb := newWDT(t, wdtsandbox.Config{Records: 1500, Settings: sandbox.Settings{Seed: 17, MutationsPerSecond: churning.mutations, CreationsPerSecond: churning.creations, MutationsPerCall: churning.perCall, VisibilityLag: churning.lag, Faults: churning.faults}})
	h.pipe.cfg.Topics.Partitions = 6
	var all, live []*replica
	for range 3 {
		for _, role := range []string{"processor", "sink"} {
			r := h.startReplica(role)
			all, live = append(all, r), append(live, r)
		}
	}
	for pass := range 4 {
		// A few calls into the pass, the oldest processor and sink leave
		// and new ones join, while records stream through.
		due, replaced := make(chan struct{}), make(chan struct{})
		var once sync.Once
		begin := func() { once.Do(func() { close(due) }) }
		at := h.calls.Load() + 3
		h.whenCalled(func(n int64) {
			if n >= at {
				begin()
			}
		})
		go func() {
			defer close(replaced)
			<-due
			for _, role := range []string{"processor", "sink"} {
				for i, r := range live {
					if r.role == role {
						r.stop()
						live = append(live[:i:i], live[i+1:]...)
						break
					}
				}
				r := h.startReplica(role)
				all, live = append(all, r), append(live, r)
			}
		}()
		err := h.sync(h.ctx)
		begin() // a pass of fewer calls
		<-replaced
		if err != nil {
			t.Fatal(err)
		}
		h.whenCalled(nil)
		h.clock.Advance(45 * time.Second)
		t.Logf("pass %d: %d processors and %d sinks have run", pass, len(all)/2, len(all)/2)
	}
	h.settle(0, sb)
	assertRefunds(h, sb)

	end, err := bus.EndOffsets(h.ctx, h.pipe.cfg.Brokers, h.flow.CanonicalTopic())
	if err != nil {
		t.Fatal(err)
	}
	if len(end) != 6 {
		t.Fatalf("canonical topic has %d partitions, want 6", len(end))
	}
	s, _ := loadSchema(h.flow)
	codec, err := h.pipe.codec(h.ctx, h.flow, s, false)
	if err != nil {
		t.Fatal(err)
	}
	newest := map[string]time.Time{}
	var back []string
	n := 0
	if err := bus.ReadAll(h.ctx, h.pipe.cfg.Brokers, h.flow.CanonicalTopic(), func(m kafka.Message) {
		rec, err := codec.Decode(m.Value)
		if err != nil {
			t.Fatal(err)
		}
		n++
		v := rec["modified"].(time.Time)
		if old, ok := newest[string(m.Key)]; ok && v.Before(old) {
			back = append(back, fmt.Sprintf("%s: %v after %v", m.Key, v, old))
		}
		if v.After(newest[string(m.Key)]) {
			newest[string(m.Key)] = v
		}
	}); err != nil {
		t.Fatal(err)
	}
	if len(back) > 0 {
		t.Fatalf("%d canonical records went back to an older version: %v", len(back), head(back))
	}
	working := map[string]int{}
	for _, r := range all {
		if r.stats.Canonical.Load()+r.stats.Written.Load() > 0 {
			working[r.role]++
		}
	}
	t.Logf("%d canonical records of %d keys; replicas that did work: %v", n, len(newest), working)
	if working["processor"] < 3 || working["sink"] < 3 {
		t.Fatalf("work was not shared: %v of %d replicas each did some", working, len(all)/2)
	}
}
