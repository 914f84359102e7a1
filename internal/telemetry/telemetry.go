// Package telemetry shows a ferry process to the people and the systems
// that watch it: Prometheus metrics (Catalog lists them), liveness and
// readiness.
package telemetry

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/ferry-data/ferry/internal/deadletter"
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

// Depth is how many records of a flow wait where nothing reads them on
// its own: in its dead-letter topic, or parked in its retry topic.
type Depth struct {
	Flow               string
	DeadLetters, Retry int64
}

// Check is one thing /readyz asks: Kafka, the database, the flows. Run
// returns an error when it is not ready.
type Check struct {
	Name string
	Run  func(ctx context.Context) error
}

// Build names the running build.
type Build struct {
	Version, Revision string
}

// Process is what a ferry process shows. Only Stats is required.
type Process struct {
	// Command is the process's role (producer, processor, sink) or up.
	Command string
	// Flows are the flows the process serves, for the status page.
	Flows       []Flow
	Stats       *stats.Registry
	Checkpoints Checkpoints // the flows the process owns
	Reconciles  Reconciles
	// Depths reads the dead-letter and retry topics of the process's
	// flows; it is asked at each scrape.
	Depths func(ctx context.Context) ([]Depth, error)
	// DeadLetters groups a flow's dead letters by reason, for the status
	// page (as ferry dlq list does); nil when the process cannot read
	// them.
	DeadLetters func(ctx context.Context, flow string) ([]deadletter.Group, error)
	// Checks are what readiness asks.
	Checks []Check
	// Recent holds the warnings and errors logged of each flow.
	Recent *Recent
	Build  Build
	// Now is the clock checkpoint ages are measured on; default time.Now.
	Now func() time.Time
	// Stuck is how long a busy loop may go without progress before the
	// process is not live; default DefaultStuck.
	Stuck time.Duration
}

// DefaultStuck is how long a loop of ferry may be busy without a sign of
// progress (a vendor request, a fetched or written batch) before
// liveness fails and Kubernetes restarts the process. Every wait ferry
// does on purpose (a poll interval, an empty topic, a parked record's
// turn) counts as idle, not busy; the longest step that shows no progress
// is a vendor call within its timeout, or a batch within the database's.
const DefaultStuck = 10 * time.Minute

// Flow names a flow and its ends, for the status page.
type Flow struct {
	Name, Source, Target string
}

// Handler serves /metrics; /healthz, for liveness, which fails when a
// loop of the process is stuck (Process.Stuck); /readyz, for readiness,
// which runs every check within five seconds and answers 200 with "ok"
// when all pass, else 503 with a line for each failing check; and the
// status page for people at /, which reads /status.json.
func (p Process) Handler() http.Handler {
	if p.Now == nil {
		p.Now = time.Now
	}
	if p.Stuck <= 0 {
		p.Stuck = DefaultStuck
	}
	pr := prometheus.NewRegistry()
	pr.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	pr.MustRegister(collector{p})
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(pr, promhttp.HandlerOpts{}))
	// Liveness asks nothing outside the process: a probe that asked Kafka
	// would restart every pod whenever Kafka has a bad minute.
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		if err := p.Stats.Live(time.Now(), p.Stuck); err != nil {
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
			return
		}
		w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("/readyz", func(w http.ResponseWriter, r *http.Request) {
		if failed := p.notReady(r.Context()); len(failed) > 0 {
			w.WriteHeader(http.StatusServiceUnavailable)
			w.Write([]byte(strings.Join(failed, "\n") + "\n"))
			return
		}
		w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write(statusPage)
	})
	mux.HandleFunc("GET /status.json", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		json.NewEncoder(w).Encode(p.status(r.Context()))
	})
	mux.HandleFunc("GET /dead-letters.json", func(w http.ResponseWriter, r *http.Request) {
		flow := r.URL.Query().Get("flow")
		if p.DeadLetters == nil || !slices.ContainsFunc(p.Flows, func(f Flow) bool { return f.Name == flow }) {
			http.Error(w, "no dead letters of flow "+strconv.Quote(flow)+" here", http.StatusNotFound)
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), 30*time.Second)
		defer cancel()
		groups, err := p.DeadLetters(ctx, flow)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		json.NewEncoder(w).Encode(groups)
	})
	return mux
}

// notReady runs every readiness check, within five seconds, and returns a
// line for each that fails.
func (p Process) notReady(ctx context.Context) []string {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	var failed []string
	for _, c := range p.Checks {
		if err := c.Run(ctx); err != nil {
			failed = append(failed, c.Name+": "+err.Error())
		}
	}
	return failed
}
