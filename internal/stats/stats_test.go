package stats_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/ferry-data/ferry/internal/stats"
)

func TestHistogramBuckets(t *testing.T) {
	var h stats.Histogram
	for _, d := range []time.Duration{time.Millisecond, 3 * time.Millisecond, 200 * time.Millisecond, 2 * time.Minute} {
		h.Observe(d)
	}
	n, sum, buckets := h.Snapshot()
	if n != 4 || sum < 120.2 || sum > 120.21 {
		t.Fatalf("count %d, sum %v", n, sum)
	}
	for bound, want := range map[float64]uint64{.005: 2, .1: 2, .25: 3, 60: 3} {
		if buckets[bound] != want {
			t.Errorf("le %v: %d, want %d", bound, buckets[bound], want)
		}
	}
}

func TestCallsCountForTheFlowInContext(t *testing.T) {
	f := &stats.Flow{}
	ctx := stats.WithFlow(context.Background(), f)
	stats.FlowOf(ctx).Call("wdt", "throttled")
	stats.FlowOf(ctx).Call("wdt", "ok")
	stats.FlowOf(ctx).Call("wdt", "no such outcome")
	stats.FlowOf(ctx).Backoff("wdt", 3*time.Second)
	stats.FlowOf(context.Background()).Call("wdt", "ok") // outside any flow: nothing
	v := f.Vendors()["wdt"]
	got := map[string]int64{}
	for i, o := range stats.Outcomes {
		got[o] = v.Outcomes[i].Load()
	}
	if got["ok"] != 1 || got["throttled"] != 1 || got["failed"] != 1 || v.Backoff() != 3*time.Second {
		t.Fatalf("outcomes %v, backoff %v", got, v.Backoff())
	}
}

// TestLiveFailsOnlyOnABusyLoopWithoutProgress: an idle loop is live
// however long it waits; a busy one is not once it has shown nothing for
// longer than the limit; a released partition is forgotten.
func TestLiveFailsOnlyOnABusyLoopWithoutProgress(t *testing.T) {
	var r stats.Registry
	later := time.Now().Add(time.Hour)
	f := r.Flow("wdt_refunds")
	if err := r.Live(later, time.Minute); err != nil {
		t.Fatalf("a loop not begun: %v", err)
	}
	f.Pulse().Beat()
	if err := r.Live(later, time.Minute); err == nil || !strings.Contains(err.Error(), "flow wdt_refunds") {
		t.Fatalf("a busy flow silent for an hour: %v", err)
	}
	if err := r.Live(time.Now(), time.Minute); err != nil {
		t.Fatalf("a busy flow that just beat: %v", err)
	}
	f.Pulse().Idle()
	p := stats.Partition{Flow: "wdt_refunds", Group: "g", Topic: "raw", Partition: 3}
	o := r.Consumers.Own(p)
	o.Pulse.Beat()
	if err := r.Live(later, time.Minute); err == nil || !strings.Contains(err.Error(), "g raw/3") {
		t.Fatalf("a busy partition silent for an hour: %v", err)
	}
	r.Consumers.Release(p, o)
	if err := r.Live(later, time.Minute); err != nil {
		t.Fatalf("after the partition was released: %v", err)
	}
	// A generation's release that comes after the next generation took
	// the partition again leaves the new entry.
	first := r.Consumers.Own(p)
	second := r.Consumers.Own(p)
	r.Consumers.Release(p, first)
	if ps, _ := r.Consumers.Owned(); len(ps) != 1 {
		t.Fatalf("owned %v after a stale release", ps)
	}
	r.Consumers.Release(p, second)
}
