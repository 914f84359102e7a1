package telemetry

import (
	"context"
	"runtime"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/ferry-data/ferry/internal/stats"
)

// Metric is one of ferry's metrics, as the catalog in README.md lists it.
type Metric struct {
	Name, Type string
	Labels     []string
	Help       string
}

// Catalog lists every metric ferry exports beside Go's and the process's
// own (go_*, process_*).
var Catalog = []Metric{
	{"ferry_build_info", "gauge", []string{"version", "revision", "go_version"}, "Always 1; its labels name the running build."},
	{"ferry_ready", "gauge", nil, "1 when every readiness check passes (Kafka, a sink's database, the flows), as /readyz answers; 0 when one fails."},
	{"ferry_records_total", "counter", []string{"flow", "stage"}, "Records that went through a stage of a flow: fetched, published, canonical, duplicate, filtered, written, deferred, dead_lettered, deleted."},
	{"ferry_windows_total", "counter", []string{"flow"}, "Windows polled and checkpointed."},
	{"ferry_window_splits_total", "counter", []string{"flow"}, "Windows split because they held more records than a walk may read."},
	{"ferry_window_seconds", "gauge", []string{"flow"}, "The span of the window the producer walks now, or walked last."},
	{"ferry_checkpoint_age_seconds", "gauge", []string{"flow"}, "How far the checkpoint of a flow the process owns lies behind now: it grows when the flow stalls."},
	{"ferry_vendor_calls_total", "counter", []string{"vendor", "flow", "outcome"}, "Attempts of vendor calls, by outcome: ok, throttled, failed, auth_refused, bad_answer."},
	{"ferry_vendor_request_duration_seconds", "histogram", []string{"vendor", "flow"}, "Time of each HTTP request to a vendor, until its answer or its failure."},
	{"ferry_vendor_backoff_seconds_total", "counter", []string{"vendor", "flow"}, "Time waited before retrying vendor calls."},
	{"ferry_kafka_produce_duration_seconds", "histogram", []string{"flow"}, "Time of each produce call of a flow's records, until every replica acknowledged."},
	{"ferry_sink_batch_duration_seconds", "histogram", []string{"flow"}, "Time of each batch a sink handled, until the target committed it."},
	{"ferry_consumer_lag_records", "gauge", []string{"flow", "group", "topic", "partition"}, "Records of a partition this replica owns that wait behind the last one handled."},
	{"ferry_consumer_lag_seconds", "gauge", []string{"flow", "group", "topic", "partition"}, "How long the oldest record not yet handled of a partition this replica owns has waited; 0 when caught up."},
	{"ferry_consumer_rebalances_total", "counter", []string{"group"}, "Generations of a consumer group this replica joined."},
	{"ferry_dead_letter_records", "gauge", []string{"flow"}, "Records in the flow's dead-letter topic."},
	{"ferry_retry_records", "gauge", []string{"flow"}, "Records parked in the flow's retry topic, waiting for their next try."},
	{"ferry_reconcile_clean", "gauge", []string{"flow"}, "1 when the flow's last reconcile found no difference, 0 when it did."},
	{"ferry_reconcile_timestamp_seconds", "gauge", []string{"flow"}, "When the flow was last reconciled."},
	{"ferry_reconcile_differences", "gauge", []string{"flow", "kind"}, "Ids the flow's last reconcile found missing, stale or gone upstream."},
}

var descs = func() map[string]*prometheus.Desc {
	m := map[string]*prometheus.Desc{}
	for _, c := range Catalog {
		m[c.Name] = prometheus.NewDesc(c.Name, c.Help, c.Labels, nil)
	}
	return m
}()

// collector reads the process's counters at scrape time, so the hot paths
// only bump atomics.
type collector struct{ p Process }

func (c collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range descs {
		ch <- d
	}
}

func (c collector) Collect(ch chan<- prometheus.Metric) {
	emit := func(name string, t prometheus.ValueType, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(descs[name], t, v, labels...)
	}
	histogram := func(name string, h *stats.Histogram, labels ...string) {
		n, sum, buckets := h.Snapshot()
		ch <- prometheus.MustNewConstHistogram(descs[name], n, sum, buckets, labels...)
	}
	emit("ferry_build_info", prometheus.GaugeValue, 1, c.p.Build.Version, c.p.Build.Revision, runtime.Version())
	ready := 1.0
	if len(c.p.notReady(context.Background())) > 0 {
		ready = 0
	}
	emit("ferry_ready", prometheus.GaugeValue, ready)
	reg := c.p.Stats
	for _, name := range reg.Names() {
		f := reg.Flow(name)
		for stage, v := range stages(f) {
			emit("ferry_records_total", prometheus.CounterValue, float64(v), name, stage)
		}
		emit("ferry_windows_total", prometheus.CounterValue, float64(f.Windows.Load()), name)
		emit("ferry_window_splits_total", prometheus.CounterValue, float64(f.Splits.Load()), name)
		if from, to, ok := f.LastWindow(); ok {
			emit("ferry_window_seconds", prometheus.GaugeValue, to.Sub(from).Seconds(), name)
		}
		for vendor, v := range f.Vendors() {
			for i, o := range stats.Outcomes {
				emit("ferry_vendor_calls_total", prometheus.CounterValue, float64(v.Outcomes[i].Load()), vendor, name, o)
			}
			histogram("ferry_vendor_request_duration_seconds", &v.Requests, vendor, name)
			emit("ferry_vendor_backoff_seconds_total", prometheus.CounterValue, v.Backoff().Seconds(), vendor, name)
		}
		histogram("ferry_kafka_produce_duration_seconds", &f.Produce, name)
		histogram("ferry_sink_batch_duration_seconds", &f.Batch, name)
	}
	now := c.p.Now()
	parts, owned := reg.Consumers.Owned()
	for i, p := range parts {
		labels := []string{p.Flow, p.Group, p.Topic, strconv.Itoa(p.Partition)}
		emit("ferry_consumer_lag_records", prometheus.GaugeValue, float64(owned[i].Lag), labels...)
		behind := 0.0
		if o := owned[i].Oldest; !o.IsZero() {
			behind = max(time.Since(o).Seconds(), 0)
		}
		emit("ferry_consumer_lag_seconds", prometheus.GaugeValue, behind, labels...)
	}
	for group, n := range reg.Consumers.Rebalances() {
		emit("ferry_consumer_rebalances_total", prometheus.CounterValue, float64(n), group)
	}
	if c.p.Depths != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		depths, err := c.p.Depths(ctx)
		cancel()
		if err == nil {
			for _, d := range depths {
				emit("ferry_dead_letter_records", prometheus.GaugeValue, float64(d.DeadLetters), d.Flow)
				emit("ferry_retry_records", prometheus.GaugeValue, float64(d.Retry), d.Flow)
			}
		}
	}
	if c.p.Checkpoints != nil {
		for flow, end := range c.p.Checkpoints.Ends() {
			emit("ferry_checkpoint_age_seconds", prometheus.GaugeValue, now.Sub(end).Seconds(), flow)
		}
	}
	if c.p.Reconciles != nil {
		for flow, r := range c.p.Reconciles.Last() {
			clean := 0.0
			if r.Clean() {
				clean = 1
			}
			emit("ferry_reconcile_clean", prometheus.GaugeValue, clean, flow)
			emit("ferry_reconcile_timestamp_seconds", prometheus.GaugeValue, float64(r.At.Unix()), flow)
			emit("ferry_reconcile_differences", prometheus.GaugeValue, float64(r.Missing), flow, "missing")
			emit("ferry_reconcile_differences", prometheus.GaugeValue, float64(r.Stale), flow, "stale")
			emit("ferry_reconcile_differences", prometheus.GaugeValue, float64(r.Gone), flow, "gone")
		}
	}
}
