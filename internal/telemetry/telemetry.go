// Package telemetry exposes a ferry process's counters and state as
// Prometheus metrics, with a health endpoint beside them.
package telemetry

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/ferry-data/ferry/internal/stats"
)

// Checkpoints tells when each flow's last checkpoint was committed, and
// up to where.
type Checkpoints interface {
	Ends() map[string]time.Time
}

// Reconciles tells each flow's last reconcile result.
type Reconciles interface {
	Last() map[string]Reconcile
}

// Reconcile is the outcome of one ferry reconcile run.
type Reconcile struct {
	At                   time.Time
	Missing, Stale, Gone int
}

// Clean reports whether the run found no difference.
func (r Reconcile) Clean() bool { return r.Missing+r.Stale+r.Gone == 0 }

// Check is one thing /readyz asks: Kafka, the database, the flows. Run
// returns an error when it is not ready.
type Check struct {
	Name string
	Run  func(ctx context.Context) error
}

// Handler serves /metrics, /healthz and /readyz. Any of cps and recs may
// be nil. /readyz, for readiness, runs every check (within five seconds)
// and answers 200 with "ok" when all pass, else 503 with one line a
// failing check; /healthz, for liveness, answers ok while the process
// serves.
func Handler(reg *stats.Registry, cps Checkpoints, recs Reconciles, now func() time.Time, checks ...Check) http.Handler {
	pr := prometheus.NewRegistry()
	pr.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	pr.MustRegister(&collector{reg: reg, cps: cps, recs: recs, now: now})
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(pr, promhttp.HandlerOpts{}))
	// /healthz answers while the process serves: a liveness probe that
	// asked Kafka would restart every pod whenever Kafka has a bad minute.
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) { w.Write([]byte("ok\n")) })
	mux.HandleFunc("/readyz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
		defer cancel()
		var failed []string
		for _, c := range checks {
			if err := c.Run(ctx); err != nil {
				failed = append(failed, c.Name+": "+err.Error())
			}
		}
		if len(failed) > 0 {
			w.WriteHeader(http.StatusServiceUnavailable)
			w.Write([]byte(strings.Join(failed, "\n") + "\n"))
			return
		}
		w.Write([]byte("ok\n"))
	})
	return mux
}

var (
	recordsDesc = prometheus.NewDesc("ferry_records_total",
		"Records that went through a stage of a flow: fetched, published, canonical, duplicate, filtered, written, deferred, dead_lettered.",
		[]string{"flow", "stage"}, nil)
	callsDesc       = prometheus.NewDesc("ferry_vendor_calls_total", "Vendor calls that returned a page.", []string{"flow"}, nil)
	windowsDesc     = prometheus.NewDesc("ferry_windows_total", "Windows polled and checkpointed.", []string{"flow"}, nil)
	ageDesc         = prometheus.NewDesc("ferry_checkpoint_age_seconds", "How far the flow's checkpoint lies behind now: alert when it grows (the flow stalls).", []string{"flow"}, nil)
	reconcileDesc   = prometheus.NewDesc("ferry_reconcile_clean", "1 when the flow's last reconcile found no difference, 0 when it did.", []string{"flow"}, nil)
	reconcileAtDesc = prometheus.NewDesc("ferry_reconcile_timestamp_seconds", "When the flow was last reconciled.", []string{"flow"}, nil)
	differDesc      = prometheus.NewDesc("ferry_reconcile_differences", "Ids the flow's last reconcile found missing, stale or gone upstream.", []string{"flow", "kind"}, nil)
)

// collector reads the counters at scrape time, so the hot paths only bump
// atomics.
type collector struct {
	reg  *stats.Registry
	cps  Checkpoints
	recs Reconciles
	now  func() time.Time
}

func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{recordsDesc, callsDesc, windowsDesc, ageDesc, reconcileDesc, reconcileAtDesc, differDesc} {
		ch <- d
	}
}

func (c *collector) Collect(ch chan<- prometheus.Metric) {
	counter := func(d *prometheus.Desc, v int64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
	}
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	for _, name := range c.reg.Names() {
		f := c.reg.Flow(name)
		for stage, v := range map[string]int64{
			"fetched": f.Fetched.Load(), "published": f.Published.Load(), "canonical": f.Canonical.Load(),
			"duplicate": f.Duplicates.Load(), "filtered": f.Filtered.Load(), "written": f.Written.Load(),
			"deferred": f.Deferred.Load(), "dead_lettered": f.DeadLettered.Load(),
		} {
			counter(recordsDesc, v, name, stage)
		}
		counter(callsDesc, f.Calls.Load(), name)
		counter(windowsDesc, f.Windows.Load(), name)
	}
	if c.cps != nil {
		for flow, end := range c.cps.Ends() {
			gauge(ageDesc, c.now().Sub(end).Seconds(), flow)
		}
	}
	if c.recs != nil {
		for flow, r := range c.recs.Last() {
			clean := 0.0
			if r.Clean() {
				clean = 1
			}
			gauge(reconcileDesc, clean, flow)
			gauge(reconcileAtDesc, float64(r.At.Unix()), flow)
			gauge(differDesc, float64(r.Missing), flow, "missing")
			gauge(differDesc, float64(r.Stale), flow, "stale")
			gauge(differDesc, float64(r.Gone), flow, "gone")
		}
	}
}
