package main

import (
	"context"
	"flag"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/ferry-data/ferry/internal/sandbox"
	"github.com/ferry-data/ferry/producers/jackyun/jackyunsandbox"
	"github.com/ferry-data/ferry/producers/jushuitan/jstsandbox"
	"github.com/ferry-data/ferry/producers/kingdee/kingdeesandbox"
	"github.com/ferry-data/ferry/producers/wdt/wdtsandbox"
	"github.com/ferry-data/ferry/vendors"
)

var (
	chaosBudget = flag.Duration("chaos.budget", 45*time.Second, "TestChaos: how long each vendor runs seeds")
	chaosSeeds  = flag.Int("chaos.seeds", 0, "TestChaos: seeds per vendor (overrides chaos.budget)")
	chaosSeed   = flag.Uint64("chaos.seed", 0, "TestChaos: replay this one seed")
)

// chaosSource sets up one source vendor's sandbox for a harness, with
// settings drawn from rng, and returns what settle must freeze.
type chaosSource struct {
	flow string
	// extra is how far settle moves the clock beyond the flow's lag.
	extra time.Duration
	// stale says whether the target must hold every record's latest
	// version; a flow whose windows are not by modification time (Jackyun's
	// consign-time windows) does not re-read a record modified after its
	// window.
	stale bool
	// shift is how far the flow's requests move the vendor-side range
	// back from the window (Jackyun's consign times run a day behind).
	shift time.Duration
	start func(h *harness, c chaos) chaosSandbox
}

// chaosSandbox is what a chaos run needs of a source vendor's sandbox.
type chaosSandbox struct {
	frozen
	mutations func() int // records changed so far
	// tie changes n records in one batch, all stamped at, on the time the
	// flow's windows follow.
	tie func(at time.Time, n int)
	// truth is what the target must hold once windows reached until (on
	// the vendor's side), from the sandbox's truth: the version of every
	// record the flow selects, by key.
	truth func(until time.Time) map[string]time.Time
}

// chaos are the traps of one seed.
type chaos struct {
	records              int
	mutations, creations float64
	perCall              int
	lag                  time.Duration
	throttle, fail       float64
	rounds               int
	interruptEvery       int
	step                 time.Duration
	// skew is how far ferry's clock runs ahead of the vendor's (behind
	// when negative); ferry learns the vendor's from its answers.
	skew time.Duration
	// split is the most records one walk may return before the window is
	// split.
	split int
	// ties is how many records each batch stamped on the second the next
	// pass's windows end on changes.
	ties int
	// hang makes the vendor's 504s come only after ferry's client gave up
	// waiting: the call hangs, times out and is made again.
	hang bool
}

// hangTimeout is how long ferry's client waits for an answer in a seed
// whose vendor hangs; the hanging answer comes later still.
const hangTimeout = 500 * time.Millisecond

func drawChaos(rng *rand.Rand, maxLag time.Duration) chaos {
	return chaos{
		records:        100 + rng.IntN(500),
		mutations:      rng.Float64() * 5,
		creations:      rng.Float64() * 2,
		perCall:        rng.IntN(3),
		lag:            time.Duration(rng.Int64N(int64(maxLag))),
		throttle:       rng.Float64() * 0.1,
		fail:           rng.Float64() * 0.1,
		rounds:         2 + rng.IntN(4),
		interruptEvery: 3 + rng.IntN(20),
		step:           time.Duration(10+rng.IntN(300)) * time.Second,
		skew:           time.Duration(rng.IntN(601)-300) * time.Second,
		split:          100 + rng.IntN(1000),
		ties:           rng.IntN(200),
		hang:           rng.IntN(2) == 0,
	}
}

func (c chaos) faults() sandbox.Faults {
	f := sandbox.Faults{ThrottleRate: c.throttle, FailRate: c.fail, SlowDelay: time.Millisecond}
	if c.hang {
		f.SlowDelay = hangTimeout + 100*time.Millisecond
	}
	return f
}

var chaosSources = []chaosSource{
	{flow: "wdt_refunds", stale: true, start: func(h *harness, c chaos) chaosSandbox {
		sb := wdtsandbox.New(wdtsandbox.Config{Records: c.records, Settings: sandbox.Settings{Seed: int64(c.records), Now: h.clock.Now, Since: t0.Add(-72 * time.Hour), MutationsPerSecond: c.mutations, CreationsPerSecond: c.creations, MutationsPerCall: c.perCall, VisibilityLag: c.lag, Faults: c.faults()}})
		h.use("wdt", h.serve(sb, "/openapi"), sb.Account())
		return chaosSandbox{sb, func() int { return sb.Stats().Mutations }, sb.MutateAt, func(until time.Time) map[string]time.Time {
			out := map[string]time.Time{}
			for _, r := range sb.Truth() {
				if at := time.UnixMilli(int64(r["modified"].(float64))); !at.After(until) {
					out[num(r["refund_id"])] = at
				}
			}
			return out
		}}
	}},
	{flow: "jst_orders", stale: true, start: func(h *harness, c chaos) chaosSandbox {
		sb := jstsandbox.New(jstsandbox.Config{Orders: c.records, Shops: 3, PerSecond: -1, PerMinute: -1, Settings: sandbox.Settings{Seed: int64(c.records), Now: h.clock.Now, Since: t0.Add(-72 * time.Hour), MutationsPerSecond: c.mutations, CreationsPerSecond: c.creations, MutationsPerCall: c.perCall, VisibilityLag: c.lag, Faults: c.faults()}})
		h.use("jushuitan", h.serve(sb, ""), sb.Account())
		return chaosSandbox{sb, func() int { return sb.Stats().Mutations }, sb.MutateAt, func(until time.Time) map[string]time.Time {
			out := map[string]time.Time{}
			for _, o := range sb.TruthOrders() {
				// The flow asks for Confirmed orders only.
				if at := cstTime(h.t, o["modified"]); o["status"] == "Confirmed" && !at.After(until) {
					out[num(o["o_id"])] = at
				}
			}
			return out
		}}
	}},
	{flow: "jackyun_trades_banniu", extra: 25 * time.Hour, shift: 24 * time.Hour, start: func(h *harness, c chaos) chaosSandbox {
		h.flow.Target.Kind = "topic" // compare on the canonical topic; Banniu has its own test
		sb := jackyunsandbox.New(jackyunsandbox.Config{Trades: c.records * 3, PerSecond: -1, PerMinute: -1, Settings: sandbox.Settings{Seed: int64(c.records), Now: h.clock.Now, Since: t0.Add(-96 * time.Hour), MutationsPerSecond: c.mutations, CreationsPerSecond: c.creations, MutationsPerCall: c.perCall, VisibilityLag: c.lag, Faults: c.faults()}})
		h.use("jackyun", h.serve(sb, "/open/openapi/do"), sb.Account())
		return chaosSandbox{sb, func() int { return sb.Stats().Mutations }, sb.ReconsignAt, func(until time.Time) map[string]time.Time {
			out := map[string]time.Time{}
			for _, tr := range sb.Truth() {
				if consign, _ := tr["consignTime"].(string); jackyunSelects(tr) && consign <= until.In(cst).Format(time.DateTime) {
					out[tr["tradeNo"].(string)] = cstTime(h.t, tr["gmtModified"])
				}
			}
			return out
		}}
	}},
	{flow: "kingdee_customers", stale: true, start: func(h *harness, c chaos) chaosSandbox {
		sb := kingdeesandbox.New(kingdeesandbox.Config{Customers: c.records, TokenCallsPerMinute: -1, PerMinute: -1, Settings: sandbox.Settings{Seed: int64(c.records), Now: h.clock.Now, Since: t0.Add(-72 * time.Hour), MutationsPerSecond: c.mutations, CreationsPerSecond: c.creations, MutationsPerCall: c.perCall, VisibilityLag: c.lag, Faults: c.faults()}})
		h.use("kingdee", h.serve(sb, ""), sb.Account())
		return chaosSandbox{sb, func() int { return sb.Stats().Mutations }, sb.MutateAt, func(until time.Time) map[string]time.Time {
			out := map[string]time.Time{}
			for _, r := range sb.Truth() {
				if at := cstTime(h.t, r["modify_time"]); !at.After(until) {
					out[r["id"].(string)] = at
				}
			}
			return out
		}}
	}},
}

// TestChaos drives every source vendor's sandbox with all its traps at
// once, drawn from a seed: records modified while paged and moved past
// the walk, new records, changes visible late, batches of records sharing
// the second a window ends on, throttling, failures, calls that hang until
// ferry's client gives up, windows holding more
// than a walk may return (split), ferry's clock up to five minutes ahead
// of or behind the vendor's, and the producer stopped at random points:
// as it asks for a page (after earlier pages were acknowledged, before the
// checkpoint) or while a publish is on its way (stored by the broker or
// not, never acknowledged to the producer). After a quiet period the target
// must hold every record the flow selects from the sandbox's final truth
// (read from the sandbox itself, not through ferry's client), in its
// latest version. It runs
// as many seeds as fit in -chaos.budget per vendor (or -chaos.seeds); a
// failing seed is printed with the command that replays it.
func TestChaos(t *testing.T) {
	for _, src := range chaosSources {
		t.Run(src.flow, func(t *testing.T) {
			deadline := time.Now().Add(*chaosBudget)
			n := 0
			for seed := uint64(1); ; seed++ {
				if *chaosSeed != 0 {
					seed = *chaosSeed
				}
				if err := runChaos(t, src, seed); err != nil {
					t.Fatalf("seed %d: %v\nreplay: go test ./cmd/ferry -run 'TestChaos/%s$' -chaos.seed %d -v", seed, err, src.flow, seed)
				}
				n++
				if *chaosSeed != 0 || (*chaosSeeds > 0 && n >= *chaosSeeds) || (*chaosSeeds == 0 && time.Now().After(deadline)) {
					break
				}
			}
			t.Logf("%d seeds, nothing missing", n)
		})
	}
}

// TestChaosTrapsNaiveWalk runs the same seeds with the naive forward walk
// most integrations use: within a few seeds it misses records for every
// vendor, so the sandboxes are known to set the trap the real walk avoids.
func TestChaosTrapsNaiveWalk(t *testing.T) {
	for _, src := range chaosSources {
		t.Run(src.flow, func(t *testing.T) {
			for seed := uint64(1); seed <= 10; seed++ {
				if err := runChaos(t, src, seed, true); err != nil {
					t.Logf("seed %d: the naive walk missed records, as expected", seed)
					return
				}
			}
			t.Fatal("the naive walk missed nothing in 10 seeds: the sandbox sets no trap")
		})
	}
}

func runChaos(t *testing.T, src chaosSource, seed uint64, naive ...bool) (err error) {
	rng := rand.New(rand.NewPCG(seed, 0xc4a05))
	var failed error
	expectFailure := len(naive) > 0 && naive[0]
	t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
		h := newHarness(t, src.flow)
		h.naive = expectFailure
		// Changes show up to lag + overlap late: the most a flow promises
		// to take (see the producers package doc).
		late := h.flow.Source.Window.Lag.D() + h.flow.Source.Window.Overlap.D()
		c := drawChaos(rng, late)
		if expectFailure {
			// The trap itself, undiluted: records move past every walk at
			// once (no visibility lag to hold the move back), windows are
			// walked whole, no interrupted walk is redone, and nothing else
			// changes (which would move the records the trap hides into
			// later passes).
			c.perCall, c.split, c.rounds, c.interruptEvery = 2, 0, 1, 0
			c.lag, c.mutations, c.creations = 0, 0, 0
		}
		t.Logf("chaos %+v", c)
		h.split = c.split
		if c.hang {
			tune := h.pipe.tune
			h.pipe.tune = func(s *vendors.Options) { tune(s); s.Timeout = hangTimeout }
		}
		h.pipe.now = func() time.Time { return h.clock.Now().Add(c.skew) }
		sb := src.start(h, c)
		lag := h.flow.Source.Window.Lag.D()
		h.startConsumers()
		for range c.rounds {
			ctx, stop := context.WithCancel(h.ctx)
			stopAt := int64(-1)
			if c.interruptEvery > 0 {
				stopAt = h.calls.Load() + int64(1+rng.IntN(c.interruptEvery))
			}
			switch {
			case stopAt < 0:
			case stopAt%2 == 0:
				// Stop the producer as it asks the vendor for a page, after
				// earlier pages were published and acknowledged, before the
				// window's checkpoint.
				h.whenCalled(func(n int64) {
					if n == stopAt {
						stop()
					}
				})
			default:
				// Stop it while a publish is on its way: the broker may
				// store the records, but the acknowledgement never reaches
				// the producer.
				produces, at := 0, int(stopAt%7)+1
				h.cluster.ControlKey(int16(kmsg.Produce), func(kmsg.Request) (kmsg.Response, error, bool) {
					if produces++; produces == at {
						stop()
					}
					return nil, nil, false
				})
			}
			err := h.sync(ctx)
			stop()
			if err != nil && ctx.Err() == nil {
				t.Fatalf("sync: %v", err)
			}
			h.whenCalled(nil)
			// A batch of records sharing the second the next pass's
			// windows end on, the vendor's now minus lag; stamped in the
			// past, it shows late, when the lag is longer than the step.
			next := h.clock.Now().Add(c.step)
			at := next.Add(-lag)
			if at.After(h.clock.Now()) {
				h.clock.Advance(at.Sub(h.clock.Now()))
			}
			sb.tie(at.Add(-src.shift), c.ties)
			h.clock.Advance(next.Sub(h.clock.Now()))
		}
		h.settle(src.extra+late, sb)
		if missing, stale := h.against(sb.truth(h.checkpoint().Add(-src.shift)), src.stale); len(missing)+len(stale) > 0 {
			failed = fmt.Errorf("chaos %+v (%d mutations): missing %v, stale %v", c, sb.mutations(), head(missing), head(stale))
		}
		if failed != nil && !expectFailure {
			t.Fail()
		}
	})
	return failed
}

// against compares the target with truth (key → version): the keys it
// lacks and, when stale is checked, those it holds in an older version.
func (h *harness) against(truth map[string]time.Time, stale bool) (missing, old []string) {
	h.t.Helper()
	s, err := loadSchema(h.flow)
	if err != nil {
		h.t.Fatal(err)
	}
	dst, err := h.pipe.reconcileTarget(h.ctx, h.flow, s)
	if err != nil {
		h.t.Fatal(err)
	}
	got, err := dst.Versions(h.ctx, slices.Sorted(maps.Keys(truth)))
	if err != nil {
		h.t.Fatal(err)
	}
	for _, k := range slices.Sorted(maps.Keys(truth)) {
		switch v, ok := got[k]; {
		case !ok:
			missing = append(missing, k)
		case stale && v.Before(truth[k]):
			old = append(old, fmt.Sprintf("%s: %v < %v", k, v, truth[k]))
		}
	}
	return missing, old
}

// cstTime reads a vendor's local time text (UTC+8).
func cstTime(t *testing.T, v any) time.Time {
	at, err := time.ParseInLocation(time.DateTime, fmt.Sprint(v), cst)
	if err != nil {
		t.Fatalf("vendor time %v: %v", v, err)
	}
	return at
}

// TestTiesOnWindowBoundary: with no overlap between passes, batches of
// records sharing the second one pass ends on and the next starts on, each
// longer than a page, are read whole, with no pass after them: windows
// include both ends on every vendor's side. (Plan's tests cover the
// planner's side of the rule.)
func TestTiesOnWindowBoundary(t *testing.T) {
	for _, src := range chaosSources {
		t.Run(src.flow, func(t *testing.T) {
			h := newHarness(t, src.flow)
			h.flow.Source.Window.Overlap = 0
			sb := src.start(h, chaos{records: 300})
			h.startConsumers()
			ps, err := h.pipe.buildProducers(h.ctx)
			if err != nil {
				t.Fatal(err)
			}
			batch := ps[0].Source.PageSize()*2 + ps[0].Source.PageSize()/2
			lag := h.flow.Source.Window.Lag.D()

			if err := h.sync(h.ctx); err != nil {
				t.Fatal(err)
			}
			first := h.checkpoint()
			sb.tie(first.Add(-src.shift), batch) // on the end of the pass just made, shown late
			h.clock.Advance(lag + time.Minute)
			second := h.clock.Now().Add(-lag)
			sb.tie(second.Add(-src.shift), batch) // on the end of the next pass
			if err := h.sync(h.ctx); err != nil {
				t.Fatal(err)
			}
			if got := h.checkpoint(); !got.Equal(second) {
				t.Fatalf("the pass ended at %v, not on the batch's second %v", got, second)
			}
			if err := drained(h.ctx, h.pipe.cfg.Brokers, h.flow); err != nil {
				t.Fatal(err)
			}
			if missing, stale := h.against(sb.truth(second.Add(-src.shift)), src.stale); len(missing)+len(stale) > 0 {
				t.Fatalf("missing %v, stale %v", head(missing), head(stale))
			}
			if n := sb.mutations(); n != 2*batch {
				t.Fatalf("%d records changed, want two batches of %d", n, batch)
			}
		})
	}
}

// checkpoint is where the flow's checkpoint stands.
func (h *harness) checkpoint() time.Time {
	h.t.Helper()
	cp, ok := h.pipe.checkpoints.Get(h.flow.Name)
	if !ok {
		h.t.Fatal("no checkpoint")
	}
	return cp.End
}
