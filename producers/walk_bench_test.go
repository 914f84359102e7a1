package producers_test

import (
	"testing"
	"time"

	"github.com/ferry-data/ferry/internal/sandbox"
	"github.com/ferry-data/ferry/producers/wdt/wdtsandbox"
)

// BenchmarkWalkCost measures what not missing records costs: vendor calls
// per window of the reverse walk with its count check, against the naive
// forward walk over the same vendor data, in the same run. It reports
// both and their ratio (calls/window, naive-calls/window, extra-calls).
func BenchmarkWalkCost(b *testing.B) {
	calls := func(naive bool, records int) (float64, float64) {
		e := newEnv(b, wdtsandbox.Config{Records: records, Settings: sandbox.Settings{Seed: 1}}, 72*time.Hour)
		e.prod.Naive = naive
		if err := e.prod.Sync(e.ctx); err != nil {
			b.Fatal(err)
		}
		return float64(e.prod.Stats.Calls.Load()), float64(e.prod.Stats.Windows.Load())
	}
	for range b.N {
		for _, records := range []int{40, 500, 5000} {
			real, windows := calls(false, records)
			naive, _ := calls(true, records)
			b.Logf("%d records: %.0f calls (naive %.0f) over %.0f windows: %.2f× the naive walk", records, real, naive, windows, real/naive)
			if records == 500 {
				b.ReportMetric(real/windows, "calls/window")
				b.ReportMetric(naive/windows, "naive-calls/window")
				b.ReportMetric(real/naive, "ratio")
			}
		}
	}
}
