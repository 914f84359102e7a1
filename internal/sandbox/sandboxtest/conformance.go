// Package sandboxtest is the conformance suite every vendor sandbox
// passes: what the shared engine promises (the same seed gives the same
// data, faults and throttling as configured, changes that follow only the
// clock), checked once for all sandboxes through each one's own protocol.
package sandboxtest

import (
	"context"
	"errors"
	"net/http"
	"reflect"
	"testing"
	"time"

	"github.com/ferry-data/ferry/internal/sandbox"
	"github.com/ferry-data/ferry/internal/vendortest"
)

// Sandbox is what the suite drives of a sandbox: its engine's controls and
// its truth.
type Sandbox interface {
	Freeze()
	Mutate(n int)
	SetFaults(sandbox.Faults)
	Counts() sandbox.Counts
	Truth() []map[string]any
}

// Setup is what a case makes a sandbox with, on a clock that starts at
// Start and moves only when the suite moves it.
type Setup struct {
	// Records is how many records the sandbox starts with.
	Records int
	// Settings are the sandbox's; the case sets their clock.
	sandbox.Settings
}

// Rig is a case's sandbox, served over HTTP.
type Rig struct {
	Sandbox Sandbox
	// Clock is the sandbox's clock, which starts at the case's Start.
	Clock *sandbox.Clock
	// Call makes one valid list call for a page (0 the first) of a few
	// records, signed as the vendor wants, on the sandbox's server.
	Call func(ctx context.Context, page int) (*http.Response, []byte, error)
	// Walk pages forward, ten records a page, through every record
	// changed since 72 hours before the start until an hour after it.
	Walk func() []map[string]any
	// Close closes the server; it returns once every handler has.
	Close func()
}

// Case is one vendor's sandbox.
type Case struct {
	// Start is when the sandbox's clock starts; its records were made
	// and changed in the 72 hours before.
	Start time.Time
	New   func(t *testing.T, s Setup) Rig
	// OK starts every success answer.
	OK string
	// Throttled tells the vendor's throttle answer.
	Throttled func(resp *http.Response, body []byte) bool
	// ID and Modified read a record of the truth: ids grow as records are
	// made.
	ID       func(r map[string]any) int64
	Modified func(r map[string]any) time.Time
	// CheckNew, when set, checks what only the vendor knows of a record
	// made by the clock: newest, the last of the truth, made by now.
	CheckNew func(t *testing.T, newest map[string]any, truth []map[string]any, now time.Time)
}

func (c Case) rig(t *testing.T, s Setup) Rig {
	t.Helper()
	r := c.New(t, s)
	if !r.Clock.Now().Equal(c.Start) {
		t.Fatalf("the sandbox's clock starts at %v, not at the case's Start %v", r.Clock.Now(), c.Start)
	}
	return r
}

// Run runs the suite.
func Run(t *testing.T, c Case) {
	t.Run("same seed same data", func(t *testing.T) {
		run := func(seed int64) ([]map[string]any, sandbox.Counts) {
			r := c.rig(t, Setup{Records: 200, Settings: sandbox.Settings{Seed: seed, MutationsPerSecond: 1, CreationsPerSecond: 0.5}})
			r.Clock.Advance(90 * time.Second)
			r.Sandbox.Mutate(3)
			return r.Sandbox.Truth(), r.Sandbox.Counts()
		}
		a, counts := run(42)
		b, _ := run(42)
		if counts.Creations != 45 || len(a) != 245 || !reflect.DeepEqual(a, b) {
			t.Fatalf("same seed, different data (%d and %d records, %d created)", len(a), len(b), counts.Creations)
		}
		if c, _ := run(43); reflect.DeepEqual(a, c) {
			t.Fatal("different seeds, same data")
		}
	})
	t.Run("throttle rate and SetFaults", func(t *testing.T) {
		r := c.rig(t, Setup{Records: 10, Settings: sandbox.Settings{Seed: 5, MutationsPerCall: 3, Faults: sandbox.Faults{ThrottleRate: 1}}})
		for range 3 {
			resp, b, err := r.Call(context.Background(), 1)
			if err != nil {
				t.Fatal(err)
			}
			if !c.Throttled(resp, b) {
				t.Fatalf("HTTP %d %.200s: want the throttle answer", resp.StatusCode, b)
			}
		}
		if n := r.Sandbox.Counts(); n.Throttled != 3 || n.Mutations != 0 {
			t.Fatalf("counts = %+v; want 3 throttled and no mutations", n)
		}
		r.Sandbox.SetFaults(sandbox.Faults{})
		resp, b, err := r.Call(context.Background(), 0)
		if err != nil || resp.StatusCode != http.StatusOK || !startsWith(b, c.OK) {
			t.Fatalf("after SetFaults: %v, %.200s", err, b)
		}
	})
	t.Run("fail rate gives every failure", func(t *testing.T) {
		r := c.rig(t, Setup{Records: 30, Settings: sandbox.Settings{Seed: 6, MutationsPerCall: 3, Faults: sandbox.Faults{FailRate: 1, SlowDelay: time.Millisecond}}})
		kinds := map[string]int{}
		for range 30 {
			resp, b, err := r.Call(context.Background(), 1)
			if err != nil {
				t.Fatal(err)
			}
			kinds[vendortest.FailureKind(t, resp, b, c.OK)]++
		}
		if len(kinds) != 3 {
			t.Fatalf("failure kinds seen: %v", kinds)
		}
		if n := r.Sandbox.Counts(); n.Failed != 30 || n.Mutations != 0 {
			t.Fatalf("counts = %+v; want 30 failed and no mutations", n)
		}
	})
	t.Run("slow failure ends with the caller", func(t *testing.T) {
		r := c.rig(t, Setup{Records: 5, Settings: sandbox.Settings{Seed: 7, Faults: sandbox.Faults{FailRate: 1, SlowDelay: time.Hour}}})
		timedOut := false
		for i := 0; i < 20 && !timedOut; i++ {
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
			_, _, err := r.Call(ctx, 0)
			cancel()
			timedOut = errors.Is(err, context.DeadlineExceeded)
		}
		if !timedOut {
			t.Fatal("no slow 504 in 20 failures")
		}
		// Close waits for running handlers: it returns only if the slow
		// one noticed its caller left.
		closed := make(chan struct{})
		go func() { r.Close(); close(closed) }()
		select {
		case <-closed:
		case <-time.After(5 * time.Second):
			t.Fatal("the slow 504 handler kept running after its caller left")
		}
	})
	t.Run("per-call mutations trap a forward walk", func(t *testing.T) {
		r := c.rig(t, Setup{Records: 100, Settings: sandbox.Settings{Seed: 3, MutationsPerCall: 1}})
		seen := c.ids(r.Walk())
		missed := 0
		for _, rec := range r.Sandbox.Truth() {
			if !seen[c.ID(rec)] {
				missed++
			}
		}
		if missed == 0 {
			t.Fatal("a forward walk saw every record; the trap is not set")
		}
		t.Logf("a forward walk missed %d of 100 records", missed)
		r.Sandbox.Freeze()
		before := r.Sandbox.Counts().Mutations
		if got := r.Walk(); len(got) != 100 || len(c.ids(got)) != 100 {
			t.Fatalf("after Freeze a walk saw %d records (%d distinct), want 100", len(got), len(c.ids(got)))
		}
		if after := r.Sandbox.Counts().Mutations; after != before || before == 0 {
			t.Fatalf("per-call mutations: %d, then %d after Freeze", before, after)
		}
	})
	t.Run("clock-driven changes", func(t *testing.T) {
		r := c.rig(t, Setup{Records: 20, Settings: sandbox.Settings{Seed: 9, MutationsPerSecond: 2, CreationsPerSecond: 0.5}})
		clock := r.Clock
		call := func() {
			t.Helper()
			if resp, b, err := r.Call(context.Background(), 0); err != nil || resp.StatusCode != http.StatusOK || !startsWith(b, c.OK) {
				t.Fatalf("call: %v %.200s", err, b)
			}
		}
		clock.Advance(10 * time.Second)
		call()
		if n := r.Sandbox.Counts(); n.Mutations != 20 || n.Creations != 5 {
			t.Fatalf("after 10 s: counts = %+v, want 20 mutations and 5 creations", n)
		}
		clock.Advance(time.Second)
		call()
		if n := r.Sandbox.Counts(); n.Creations != 5 {
			t.Fatalf("half a creation was applied: %+v", n)
		}
		clock.Advance(time.Second)
		truth := r.Sandbox.Truth()
		if n := r.Sandbox.Counts(); n.Creations != 6 || len(truth) != 26 {
			t.Fatalf("after 12 s: counts = %+v, %d records", n, len(truth))
		}
		newest := truth[len(truth)-1]
		for i := 1; i < len(truth); i++ {
			if c.ID(truth[i]) <= c.ID(truth[i-1]) {
				t.Fatal("the truth is not in id order")
			}
		}
		// Changes land between the calls, never after the clock.
		if m := c.Modified(newest); m.After(clock.Now()) || m.Before(c.Start) {
			t.Errorf("new record stamped %v, outside [start, now]", m)
		}
		if c.CheckNew != nil {
			c.CheckNew(t, newest, truth, clock.Now())
		}
		r.Sandbox.Freeze()
		before := r.Sandbox.Counts()
		clock.Advance(time.Hour)
		call()
		if after := r.Sandbox.Counts(); after.Mutations != before.Mutations || after.Creations != before.Creations {
			t.Fatalf("changes after Freeze: %+v → %+v", before, after)
		}
		r.Sandbox.Mutate(2)
		if after := r.Sandbox.Counts(); after.Mutations != before.Mutations+2 {
			t.Fatalf("Mutate(2) after Freeze: %+v", after)
		}
	})
}

func (c Case) ids(recs []map[string]any) map[int64]bool {
	out := map[int64]bool{}
	for _, r := range recs {
		out[c.ID(r)] = true
	}
	return out
}

func startsWith(b []byte, prefix string) bool {
	return len(b) >= len(prefix) && string(b[:len(prefix)]) == prefix
}
