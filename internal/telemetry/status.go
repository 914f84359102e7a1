package telemetry

import (
	"context"
	_ "embed"
	"time"

	"github.com/ferry-data/ferry/internal/stats"
)

// statusPage is the page at /: it needs nothing but /status.json, which
// it reads every five seconds, and works out the rates from one answer to
// the next.
//
//go:embed status.html
var statusPage []byte

// Status is what /status.json answers.
type Status struct {
	At       time.Time    `json:"at"`
	Command  string       `json:"command"`
	Version  string       `json:"version"`
	Ready    bool         `json:"ready"`
	NotReady []string     `json:"notReady"`
	Flows    []FlowStatus `json:"flows"`
}

// FlowStatus is one flow's line of the status page.
type FlowStatus struct {
	Name   string `json:"name"`
	Source string `json:"source"`
	Target string `json:"target"`
	// State is working, idle, standby (another replica owns the flow),
	// retrying (a warning or error in the last two minutes) or stuck
	// (busy without progress for longer than liveness allows).
	State         string           `json:"state"`
	Window        *Window          `json:"window"`
	CheckpointAge *float64         `json:"checkpointAge"`
	Records       map[string]int64 `json:"records"`
	Lag           *Lag             `json:"lag"`
	DeadLetters   *int64           `json:"deadLetters"`
	Retry         int64            `json:"retry"`
	Reconcile     *ReconcileStatus `json:"reconcile"`
	Errors        []Logged         `json:"errors"`
}

// Window is the window a producer walks, or walked last.
type Window struct {
	From time.Time `json:"from"`
	To   time.Time `json:"to"`
}

// Lag is a flow's records waiting for this process: their number, and how
// long the oldest has waited.
type Lag struct {
	Records int64   `json:"records"`
	Seconds float64 `json:"seconds"`
}

// ReconcileStatus is a flow's last reconcile.
type ReconcileStatus struct {
	At      time.Time `json:"at"`
	Clean   bool      `json:"clean"`
	Missing int       `json:"missing"`
	Stale   int       `json:"stale"`
	Gone    int       `json:"gone"`
}

// retryingFor is how long after a warning a flow shows as retrying.
const retryingFor = 2 * time.Minute

// status gathers the status page's figures.
func (p Process) status(ctx context.Context) Status {
	now := time.Now()
	notReady := p.notReady(ctx)
	s := Status{At: now, Command: p.Command, Version: p.Build.Version, Ready: len(notReady) == 0, NotReady: notReady}
	if s.NotReady == nil {
		s.NotReady = []string{}
	}
	var ends map[string]time.Time
	if p.Checkpoints != nil {
		ends = p.Checkpoints.Ends()
	}
	var recs map[string]Reconcile
	if p.Reconciles != nil {
		recs = p.Reconciles.Last()
	}
	depths := map[string]Depth{}
	if p.Depths != nil {
		dctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		if ds, err := p.Depths(dctx); err == nil {
			for _, d := range ds {
				depths[d.Flow] = d
			}
		}
		cancel()
	}
	parts, owned := p.Stats.Consumers.Owned()
	for _, fl := range p.Flows {
		f := p.Stats.Flow(fl.Name)
		fs := FlowStatus{Name: fl.Name, Source: fl.Source, Target: fl.Target, Records: stages(f), Errors: []Logged{}}
		if from, to, ok := f.LastWindow(); ok {
			fs.Window = &Window{From: from, To: to}
		}
		end, own := ends[fl.Name]
		if own {
			age := p.Now().Sub(end).Seconds()
			fs.CheckpointAge = &age
		}
		stuck, busy := f.Pulse().Stuck(now) > p.Stuck, f.Pulse().Busy()
		for i, part := range parts {
			if part.Flow != fl.Name {
				continue
			}
			if fs.Lag == nil {
				fs.Lag = &Lag{}
			}
			fs.Lag.Records += owned[i].Lag
			if o := owned[i].Oldest; !o.IsZero() {
				fs.Lag.Seconds = max(fs.Lag.Seconds, now.Sub(o).Seconds())
			}
			stuck = stuck || owned[i].Pulse.Stuck(now) > p.Stuck
			busy = busy || owned[i].Pulse.Busy() || owned[i].Lag > 0
		}
		if d, ok := depths[fl.Name]; ok {
			fs.DeadLetters, fs.Retry = &d.DeadLetters, d.Retry
		}
		if r, ok := recs[fl.Name]; ok {
			fs.Reconcile = &ReconcileStatus{At: r.At, Clean: r.Clean(), Missing: r.Missing, Stale: r.Stale, Gone: r.Gone}
		}
		if p.Recent != nil {
			fs.Errors = p.Recent.Of(fl.Name)
		}
		switch {
		case stuck:
			fs.State = "stuck"
		case len(fs.Errors) > 0 && now.Sub(fs.Errors[0].At) < retryingFor:
			fs.State = "retrying"
		case busy:
			fs.State = "working"
		case p.Command == "producer" && !own:
			fs.State = "standby"
		default:
			fs.State = "idle"
		}
		s.Flows = append(s.Flows, fs)
	}
	return s
}

// stages are a flow's record counts by stage, as ferry_records_total
// labels them.
func stages(f *stats.Flow) map[string]int64 {
	return map[string]int64{
		"fetched": f.Fetched.Load(), "published": f.Published.Load(), "canonical": f.Canonical.Load(),
		"duplicate": f.Duplicates.Load(), "filtered": f.Filtered.Load(), "written": f.Written.Load(),
		"deferred": f.Deferred.Load(), "dead_lettered": f.DeadLettered.Load(), "deleted": f.Deleted.Load(),
	}
}
