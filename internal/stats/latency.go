package stats

import (
	"math"
	"sync/atomic"
	"time"
)

// LatencyBounds are the upper bounds, in seconds, of every latency
// histogram's buckets: from a fast broker acknowledgement to a vendor call
// that waits out its timeout.
var LatencyBounds = [...]float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60}

// Histogram counts durations into LatencyBounds' buckets. The zero value
// is ready; it is safe for concurrent use, and an observation costs a few
// atomic adds.
type Histogram struct {
	counts [len(LatencyBounds) + 1]atomic.Uint64 // the last one is +Inf
	sum    atomic.Uint64                         // float64 bits, seconds
}

// Observe counts one duration.
func (h *Histogram) Observe(d time.Duration) {
	s := d.Seconds()
	i := 0
	for i < len(LatencyBounds) && s > LatencyBounds[i] {
		i++
	}
	h.counts[i].Add(1)
	for {
		old := h.sum.Load()
		if h.sum.CompareAndSwap(old, math.Float64bits(math.Float64frombits(old)+s)) {
			return
		}
	}
}

// Since observes the time since start: defer h.Since(time.Now()).
func (h *Histogram) Since(start time.Time) { h.Observe(time.Since(start)) }

// Snapshot returns the count, the sum in seconds and the cumulative count
// of each bucket, keyed by upper bound, as Prometheus reads a histogram.
func (h *Histogram) Snapshot() (count uint64, sum float64, buckets map[float64]uint64) {
	buckets = make(map[float64]uint64, len(LatencyBounds))
	for i, b := range LatencyBounds {
		count += h.counts[i].Load()
		buckets[b] = count
	}
	count += h.counts[len(LatencyBounds)].Load()
	return count, math.Float64frombits(h.sum.Load()), buckets
}
