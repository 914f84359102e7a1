// Package reconcile checks a flow's target against its source, window by
// window: which records the source holds that the target lacks (missing),
// holds in an older version (stale), or holds although the source no
// longer returns them (gone upstream).
//
// The source side walks each window through the flow's producer, exactly
// as polling does, and maps every record with the flow's processor block,
// so filtered records are left out and keys and versions are the
// canonical ones. The target side is the flow's MySQL table or, for flows
// without one, its canonical topic.
package reconcile

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/ferry-data/ferry/flows"
	"github.com/ferry-data/ferry/processors"
	"github.com/ferry-data/ferry/producers"
	"github.com/ferry-data/ferry/schemas"
)

// Walker reads the source; *producers.Producer is one.
type Walker interface {
	// Walk reads a window.
	Walk(ctx context.Context, w producers.Window, emit func(producers.Window, int, []json.RawMessage) error) error
	// Scan reads everything, for flows without windows.
	Scan(ctx context.Context, emit func(producers.Window, int, []json.RawMessage) error) error
}

// Target tells what the target holds.
type Target interface {
	// Versions returns the version of each key the target holds (the zero
	// time for entities without a version).
	Versions(ctx context.Context, keys []string) (map[string]time.Time, error)
	// Between returns the keys, with versions, whose version lies in
	// [from, to].
	Between(ctx context.Context, from, to time.Time) (map[string]time.Time, error)
}

// Window is the comparison of one window.
type Window struct {
	producers.Window
	Source, Target int
	Missing        []string // in the source, not in the target
	Stale          []string // in the target in an older version
	// Gone are in the target with a version in this window, but the
	// source returned them in no window of the range: deleted upstream,
	// or modified after the range.
	Gone []string
}

// Clean reports whether the window holds no difference.
func (w Window) Clean() bool { return len(w.Missing)+len(w.Stale)+len(w.Gone) == 0 }

// Report is a whole reconciliation.
type Report struct {
	Flow    string
	Windows []Window
}

// Clean reports whether no window holds a difference.
func (r Report) Clean() bool {
	for _, w := range r.Windows {
		if !w.Clean() {
			return false
		}
	}
	return true
}

// Check compares every window of [from, to], cut as the flow's windows
// are; a flow without windows is compared whole.
func Check(ctx context.Context, f *flows.Flow, s *schemas.Schema, src Walker, dst Target, from, to time.Time) (Report, error) {
	r := Report{Flow: f.Name}
	windows := []producers.Window{{}}
	if f.Source.Window.Max.D() > 0 {
		windows = producers.Plan(from, to, f.Source.Window.Max.D())
	}
	seen := map[string]bool{}
	for _, w := range windows {
		source, err := read(ctx, f, s, src, w)
		if err != nil {
			return r, fmt.Errorf("reconcile %s %s: %w", f.Name, w, err)
		}
		got, err := compare(ctx, dst, w, source)
		if err != nil {
			return r, fmt.Errorf("reconcile %s %s: %w", f.Name, w, err)
		}
		for k := range source {
			seen[k] = true
		}
		r.Windows = append(r.Windows, got)
	}
	// What the target holds in the range and the source returned nowhere.
	for i, w := range r.Windows {
		lo, hi := w.From, w.To.Add(time.Second-time.Millisecond)
		if w.Full() {
			lo, hi = time.Time{}, time.Unix(1<<40, 0)
		}
		in, err := dst.Between(ctx, lo, hi)
		if err != nil {
			return r, fmt.Errorf("reconcile %s %s: %w", f.Name, w.Window, err)
		}
		r.Windows[i].Target = len(in)
		for k := range in {
			if !seen[k] {
				r.Windows[i].Gone = append(r.Windows[i].Gone, k)
			}
		}
		slices.Sort(r.Windows[i].Gone)
	}
	return r, nil
}

// read maps every record the source returns for a window, keeping the
// newest version of each key; dead letters and filtered records have no
// row to compare and are left out.
func read(ctx context.Context, f *flows.Flow, s *schemas.Schema, src Walker, w producers.Window) (map[string]time.Time, error) {
	source := map[string]time.Time{}
	emit := func(_ producers.Window, _ int, recs []json.RawMessage) error {
		for _, raw := range recs {
			rec, keep, err := processors.Map(s, &f.Processor, raw)
			if err != nil || !keep {
				continue
			}
			v, _ := rec[s.Version].(time.Time)
			k := keyText(rec[s.Key])
			if old, ok := source[k]; !ok || v.After(old) {
				source[k] = v
			}
		}
		return nil
	}
	var err error
	if w.Full() {
		err = src.Scan(ctx, emit)
	} else {
		err = src.Walk(ctx, w, emit)
	}
	return source, err
}

// compare looks the source's keys up in the target.
func compare(ctx context.Context, dst Target, w producers.Window, source map[string]time.Time) (Window, error) {
	out := Window{Window: w, Source: len(source)}
	keys := make([]string, 0, len(source))
	for k := range source {
		keys = append(keys, k)
	}
	held, err := dst.Versions(ctx, keys)
	if err != nil {
		return out, err
	}
	for k, v := range source {
		tv, ok := held[k]
		switch {
		case !ok:
			out.Missing = append(out.Missing, k)
		case tv.Before(v.Truncate(time.Millisecond)):
			out.Stale = append(out.Stale, k)
		}
	}
	slices.Sort(out.Missing)
	slices.Sort(out.Stale)
	return out, nil
}

func keyText(v any) string {
	switch k := v.(type) {
	case int64:
		return strconv.FormatInt(k, 10)
	case int32:
		return strconv.FormatInt(int64(k), 10)
	}
	return fmt.Sprint(v)
}

// Print writes the report as a table, one line per window, with the ids
// (at most ten of each kind per window).
func (r Report) Print(w io.Writer) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "flow %s\n", r.Flow)
	fmt.Fprintln(tw, "window\tsource\ttarget\tmissing\tstale\tgone upstream\t")
	for _, x := range r.Windows {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%d\t\n", x.Window, x.Source, x.Target, len(x.Missing), len(x.Stale), len(x.Gone))
	}
	tw.Flush()
	for _, x := range r.Windows {
		for _, l := range []struct {
			what string
			ids  []string
		}{{"missing", x.Missing}, {"stale", x.Stale}, {"gone upstream", x.Gone}} {
			if len(l.ids) > 0 {
				fmt.Fprintf(w, "%s %s: %v\n", x.Window, l.what, head(l.ids))
			}
		}
	}
	if r.Clean() {
		fmt.Fprintln(w, "clean")
	}
}

func head(ids []string) []string {
	if len(ids) > 10 {
		return append(ids[:10:10], fmt.Sprintf("… %d more", len(ids)-10))
	}
	return ids
}

// Returned lists the keys the source returns for [from, to]: before a
// tombstone is published for a key gone from a range, the time since the
// range is searched, so a record merely modified after the range is not
// taken for deleted.
func Returned(ctx context.Context, f *flows.Flow, s *schemas.Schema, src Walker, from, to time.Time) (map[string]bool, error) {
	out := map[string]bool{}
	for _, w := range producers.Plan(from, to, f.Source.Window.Max.D()) {
		got, err := read(ctx, f, s, src, w)
		if err != nil {
			return nil, err
		}
		for k := range got {
			out[k] = true
		}
	}
	return out, nil
}
