// Package stats counts what each flow did, for the standalone run's summary
// and for the metrics endpoint.
package stats

import (
	"context"
	"fmt"
	"io"
	"sort"
	"sync"
	"sync/atomic"
	"text/tabwriter"
	"time"
)

// Flow holds one flow's counters. All fields are safe for concurrent use.
type Flow struct {
	Fetched      atomic.Int64 // records read from the vendor
	Published    atomic.Int64 // raw records acknowledged by Kafka
	Windows      atomic.Int64 // windows completed and checkpointed
	Planned      atomic.Int64 // windows planned by the syncs so far
	Calls        atomic.Int64 // vendor calls that returned a page
	Duplicates   atomic.Int64 // records the processor dropped as already seen
	Filtered     atomic.Int64 // records the flow's filter dropped
	Canonical    atomic.Int64 // canonical records published
	Written      atomic.Int64 // rows or records written by the sink
	Deferred     atomic.Int64 // records parked because the target cannot take them yet
	DeadLettered atomic.Int64 // records sent to the dead-letter topic
	Deleted      atomic.Int64 // rows deleted for tombstones
	Splits       atomic.Int64 // windows split because they held too many records

	Produce Histogram // Kafka produce calls, until every replica acknowledged
	Batch   Histogram // the sink's batch writes, until the target committed

	windowFrom, windowTo atomic.Int64 // the last window walked, Unix nanoseconds
	pulse                Pulse

	name    string
	mu      sync.Mutex
	vendors map[string]*VendorCalls
}

// Name is the flow's name; "" for a nil Flow or one made outside a
// Registry.
func (f *Flow) Name() string {
	if f == nil {
		return ""
	}
	return f.name
}

// Window records the window the flow walks now.
func (f *Flow) Window(from, to time.Time) {
	f.windowFrom.Store(from.UnixNano())
	f.windowTo.Store(to.UnixNano())
	f.pulse.Beat()
}

// LastWindow returns the last window walked; ok is false before the first.
func (f *Flow) LastWindow() (from, to time.Time, ok bool) {
	t := f.windowTo.Load()
	return time.Unix(0, f.windowFrom.Load()), time.Unix(0, t), t != 0
}

// Pulse is the flow's producer loop's pulse, which liveness reads.
func (f *Flow) Pulse() *Pulse { return &f.pulse }

// VendorCalls counts one vendor's calls for a flow: each attempt of an
// operation by how it ended, each HTTP request's time, and the waits
// before retries.
type VendorCalls struct {
	// Outcomes counts attempts by how they ended (see Outcomes).
	Outcomes [len(Outcomes)]atomic.Int64
	// Requests holds the time of each HTTP request, until its answer or
	// its failure.
	Requests Histogram
	backoff  atomic.Int64 // nanoseconds waited before retries
}

// Outcomes are how a vendor call can end, as the metrics label them: the
// vendor answered what was asked; asked ferry to slow down; failed (no
// answer, a server error, a refusal that is not about credentials);
// refused the credentials or the signature; or answered something ferry
// cannot read.
var Outcomes = [...]string{"ok", "throttled", "failed", "auth_refused", "bad_answer"}

// Backoff returns the time waited before retrying the vendor's calls.
func (v *VendorCalls) Backoff() time.Duration { return time.Duration(v.backoff.Load()) }

// Vendor returns the flow's counts of a vendor's calls, creating them on
// first use.
func (f *Flow) Vendor(name string) *VendorCalls {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.vendors == nil {
		f.vendors = map[string]*VendorCalls{}
	}
	v, ok := f.vendors[name]
	if !ok {
		v = &VendorCalls{}
		f.vendors[name] = v
	}
	return v
}

// Vendors returns the counts of every vendor the flow called, by name.
func (f *Flow) Vendors() map[string]*VendorCalls {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make(map[string]*VendorCalls, len(f.vendors))
	for n, v := range f.vendors {
		out[n] = v
	}
	return out
}

// Call counts an attempt of a call of a vendor that ended with outcome
// (one of Outcomes; another counts as failed). An attempt is a sign of
// life: it beats the flow's pulse. f may be nil (a call outside any
// flow): it counts nothing.
func (f *Flow) Call(vendor, outcome string) {
	if f == nil {
		return
	}
	f.pulse.Beat()
	v := f.Vendor(vendor)
	for i, o := range Outcomes {
		if o == outcome {
			v.Outcomes[i].Add(1)
			return
		}
	}
	v.Outcomes[2].Add(1)
}

// Request counts an HTTP request to a vendor that took took.
func (f *Flow) Request(vendor string, took time.Duration) {
	if f != nil {
		f.pulse.Beat()
		f.Vendor(vendor).Requests.Observe(took)
	}
}

// Backoff counts a wait before a call of a vendor is tried again.
func (f *Flow) Backoff(vendor string, wait time.Duration) {
	if f != nil {
		f.Vendor(vendor).backoff.Add(int64(wait))
	}
}

type flowKey struct{}

// WithFlow returns a context whose calls are counted in f: the vendor
// clients, shared by the flows of an account, learn from it whose call
// they make.
func WithFlow(ctx context.Context, f *Flow) context.Context {
	return context.WithValue(ctx, flowKey{}, f)
}

// FlowOf returns the flow WithFlow put in ctx, or nil.
func FlowOf(ctx context.Context) *Flow {
	f, _ := ctx.Value(flowKey{}).(*Flow)
	return f
}

// Registry holds the counters of every flow of a process.
type Registry struct {
	// Consumers holds the process's consumer group members' partitions.
	Consumers Consumers

	mu    sync.Mutex
	flows map[string]*Flow
}

// Flow returns the named flow's counters, creating them on first use.
func (r *Registry) Flow(name string) *Flow {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.flows == nil {
		r.flows = map[string]*Flow{}
	}
	f, ok := r.flows[name]
	if !ok {
		f = &Flow{name: name}
		r.flows[name] = f
	}
	return f
}

// Names lists the flows counted, sorted.
func (r *Registry) Names() []string {
	r.mu.Lock()
	names := make([]string, 0, len(r.flows))
	for n := range r.flows {
		names = append(names, n)
	}
	r.mu.Unlock()
	sort.Strings(names)
	return names
}

// Summary prints one line per flow.
func (r *Registry) Summary(w io.Writer, elapsed time.Duration) {
	names := r.Names()
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "flow\tfetched\tpublished\tcanonical\tduplicates dropped\tfiltered\twritten\tdeferred\tdead-lettered\telapsed\t")
	for _, n := range names {
		f := r.Flow(n)
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%s\t\n", n, f.Fetched.Load(), f.Published.Load(),
			f.Canonical.Load(), f.Duplicates.Load(), f.Filtered.Load(), f.Written.Load(), f.Deferred.Load(),
			f.DeadLettered.Load(), elapsed.Round(time.Millisecond))
	}
	tw.Flush()
}
