// Package stats counts what each flow did, for the standalone run's summary
// and for the metrics endpoint.
package stats

import (
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
	Calls        atomic.Int64 // vendor calls that returned a page
	Duplicates   atomic.Int64 // records the processor dropped as already seen
	Filtered     atomic.Int64 // records the flow's filter dropped
	Canonical    atomic.Int64 // canonical records published
	Written      atomic.Int64 // rows or records written by the sink
	Deferred     atomic.Int64 // records parked because the target cannot take them yet
	DeadLettered atomic.Int64 // records sent to the dead-letter topic
	Deleted      atomic.Int64 // rows deleted for tombstones
}

// Registry holds the counters of every flow of a process.
type Registry struct {
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
		f = &Flow{}
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
