package producers_test

import (
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"golang.org/x/time/rate"

	"github.com/ferry-data/ferry/internal/sandbox"
	"github.com/ferry-data/ferry/producers"
	"github.com/ferry-data/ferry/producers/wdt"
	"github.com/ferry-data/ferry/producers/wdt/wdtsandbox"
	"github.com/ferry-data/ferry/vendors"
)

func TestVendorClock(t *testing.T) {
	local := time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)
	c := producers.NewVendorClock(func() time.Time { return local })
	if !c.Now().Equal(local) || c.Learnt() {
		t.Fatalf("before any answer: %v, learnt %v", c.Now(), c.Learnt())
	}
	for _, skew := range []time.Duration{3 * time.Minute, -2 * time.Minute, 0} {
		h := http.Header{"Date": {local.Add(skew).Format(http.TimeFormat)}}
		c.Observe(h)
		if got := c.Now().Sub(local); got != skew {
			t.Fatalf("vendor %v ahead: clock says %v", skew, got)
		}
	}
	if !c.Learnt() {
		t.Fatal("answers read, clock not learnt")
	}
	c.Observe(http.Header{"Date": {"yesterday"}})
	if !c.Now().Equal(local) {
		t.Fatal("an unreadable Date moved the clock")
	}
}

// TestFarSkewIsLearnt: ferry's clock runs five minutes ahead of WDT's,
// which refuses timestamps more than 120s off; the first call is refused,
// its Date teaches ferry the vendor's clock, and the windows, planned only
// then, end at the vendor's now minus lag, not ferry's. Nothing is missed.
func TestFarSkewIsLearnt(t *testing.T) {
	e := newEnv(t, wdtsandbox.Config{Records: 120, Settings: sandbox.Settings{Seed: 4}}, 72*time.Hour)
	local := func() time.Time { return e.clock.Now().Add(5 * time.Minute) }
	vc := producers.NewVendorClock(local)
	c := e.sb.Config()
	client, err := wdt.New(wdt.Config{
		URL: e.url, SID: c.SID, AppKey: c.AppKey, AppSecret: c.AppSecret,
		Options: vendors.Options{Limit: rate.Inf, Now: vc.Now, Observe: vc.Observe},
	})
	if err != nil {
		t.Fatal(err)
	}
	src, err := wdt.NewSource(client, e.prod.Flow, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	e.prod.Source, e.prod.Now, e.prod.Learnt = src, vc.Now, vc.Learnt
	if err := e.prod.Sync(e.ctx); err != nil {
		t.Fatal(err)
	}
	if r := e.sb.Stats().Rejected; r != 1 {
		t.Fatalf("%d calls refused, want the first one only", r)
	}
	cp, _ := e.prod.Checkpoints.Get(e.prod.Flow.Name)
	if want := e.clock.Now().Add(-e.prod.Flow.Source.Window.Lag.D()).Truncate(time.Second); !cp.End.Equal(want) {
		t.Fatalf("checkpoint at %v, want the vendor's now minus lag, %v", cp.End, want)
	}
	e.finish(t)
	e.assertComplete(t)
}

// TestClockWithoutDateIsProbedOnce: a vendor whose answers teach no clock
// costs one call per producer, not one per pass, and the windows are then
// planned on ferry's clock.
func TestClockWithoutDateIsProbedOnce(t *testing.T) {
	e := newEnv(t, wdtsandbox.Config{Records: 30, Settings: sandbox.Settings{Seed: 6}}, 2*time.Hour)
	e.prod.Learnt = func() bool { return false }
	if err := e.prod.Sync(e.ctx); err != nil {
		t.Fatal(err)
	}
	first := e.prod.Stats.Calls.Load()
	if !strings.Contains(e.logs.String(), "no Date header") {
		t.Fatalf("no warning logged:\n%s", e.logs)
	}
	e.clock.Advance(time.Hour)
	if err := e.prod.Sync(e.ctx); err != nil {
		t.Fatal(err)
	}
	if second := e.prod.Stats.Calls.Load() - first; second != first-1 {
		t.Fatalf("first pass %d calls, second %d: want the probe in the first only", first, second)
	}
}
