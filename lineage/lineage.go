// Package lineage follows one record of a flow through ferry: each time
// the producer fetched it, what the processor made of each fetch, and
// where the target stands; then it says in one line why the record is, or
// is not, where it should be.
//
// It keeps no index and writes nothing: each hop is a keyed topic, and a
// key lives in one partition of each, so a trace reads one partition of
// the raw topic and one of the canonical topic (murmur2 of the key, as
// the producers and processors partition), the flow's dead letters and,
// for an API target, its retry topic. The processor's decisions are
// worked out again from the raw records, as it made them: it is
// deterministic, mapping with the flow and deduping by version; what the
// processor has not reached yet is said so, from its group's offsets.
// BenchmarkTrace measures a trace over a raw topic of a million records.
package lineage

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"strings"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/ferry-data/ferry/flows"
	"github.com/ferry-data/ferry/internal/bus"
	"github.com/ferry-data/ferry/internal/deadletter"
	"github.com/ferry-data/ferry/processors"
	"github.com/ferry-data/ferry/producers"
	"github.com/ferry-data/ferry/schemas"
	"github.com/ferry-data/ferry/sinks"
)

// Config is what a trace reads.
type Config struct {
	Flow   *flows.Flow
	Schema *schemas.Schema
	// Codec reads the canonical topic (a registry's decoder, or the
	// schema). A canonical record and what a fetch maps to are compared
	// in the schema's own encoding, so a trace registers nothing.
	Codec   schemas.Codec
	Brokers []string
	// Row reads the version of the key's row in a MySQL target (ok false
	// when there is none); nil for other targets.
	Row func(ctx context.Context, key string) (version time.Time, ok bool, err error)
	// SinkAt is the next canonical offset the sink will handle in a
	// partition (a MySQL sink keeps its own positions); default the sink
	// group's committed offset.
	SinkAt func(ctx context.Context, partition int) (int64, error)
	// Checkpoint is where the flow's windows have reached; ok false
	// before its first window.
	Checkpoint func() (end time.Time, ok bool)
	// Source, when set, is asked once, within the flow's budget, for the
	// vendor's current version of the record: the first page of the
	// vendor's changes since the newest version fetched (or since the
	// checkpoint), up to its now (VendorNow, default time.Now) less the
	// flow's lag; a flow without windows, the first page of everything.
	Source    producers.Source
	VendorNow func() time.Time
}

// Trace is one record's way through ferry.
type Trace struct {
	Key            string
	RawPartition   int
	Fetches        []Fetch // oldest first
	CanonPartition int
	Canonical      []Canonical // oldest first
	Target         []string
	// Vendor is what the vendor answered of the record (with a Source).
	Vendor  string
	Verdict string
}

// Fetch is one raw record of the key, and what the processor made of it.
type Fetch struct {
	Offset                             int64
	FetchedAt, Window, Page            string
	Modified                           time.Time // the vendor's stamp, as mapped; zero when it does not map
	Repair                             string    // why it passed dedupe: a repair or a replay
	Decision                           string
	deadLettered, processing, filtered bool
}

// Canonical is one canonical record of the key.
type Canonical struct {
	Offset  int64
	Version time.Time
	hash    uint64
}

// Run traces key through the flow.
func Run(ctx context.Context, c Config, key string) (*Trace, error) {
	f := c.Flow
	t := &Trace{Key: key}
	var raw []kafka.Message
	var err error
	if t.RawPartition, raw, err = c.read(ctx, f.Source.Topic, key); err != nil {
		return nil, err
	}
	var canon []kafka.Message
	if t.CanonPartition, canon, err = c.read(ctx, f.CanonicalTopic(), key); err != nil {
		return nil, err
	}
	for _, m := range canon {
		if m.Value == nil {
			continue
		}
		cr := Canonical{Offset: m.Offset}
		if rec, err := c.Codec.Decode(m.Value); err == nil {
			cr.Version, _ = rec[c.Schema.Version].(time.Time)
			if b, err := c.Schema.Encode(rec); err == nil {
				cr.hash = hash(b)
			}
		}
		t.Canonical = append(t.Canonical, cr)
	}
	letters, err := deadletter.Read(ctx, c.Brokers, f, deadletter.Filter{Key: key})
	if err != nil {
		return nil, err
	}
	dead := map[string]deadletter.Letter{}
	for _, l := range letters {
		dead[l.Source] = l
	}
	processed := int64(-1)
	if at, err := bus.CommittedOffsets(ctx, c.Brokers, processors.Group(f), f.Source.Topic, []int{t.RawPartition}); err != nil {
		return nil, err
	} else if o, ok := at[t.RawPartition]; ok {
		processed = o
	}
	c.decide(t, raw, dead, processed)
	if err := c.target(ctx, t, letters); err != nil {
		return nil, err
	}
	if c.Source != nil {
		if err := c.ask(ctx, t); err != nil {
			return nil, fmt.Errorf("asking the vendor: %w", err)
		}
	}
	return t, nil
}

// ask makes one call to the vendor for the record's current version.
func (c Config) ask(ctx context.Context, t *Trace) error {
	f := c.Flow
	now := time.Now
	if c.VendorNow != nil {
		now = c.VendorNow
	}
	var w producers.Window
	since := "ever"
	if f.Source.Window.Max.D() > 0 {
		var fetched time.Time
		for _, fe := range t.Fetches {
			if fe.Modified.After(fetched) {
				fetched = fe.Modified
			}
		}
		switch end, ok := c.checkpoint(); {
		case !fetched.IsZero():
			w.From, since = fetched, "its newest version fetched, "+stamp(fetched)
		case ok:
			w.From, since = end, "the checkpoint, "+stamp(end)
		default:
			w.From, since = now().Add(-72*time.Hour), "72 hours ago"
		}
		w.To = now().Add(-f.Source.Window.Lag.D())
		if !w.To.After(w.From) {
			t.Vendor = "not asked: nothing can have changed since " + since + " that the lag lets ferry read yet"
			return nil
		}
	}
	page, err := c.Source.Page(ctx, w, 0)
	if err != nil {
		return err
	}
	for _, r := range page.Records {
		if string(producers.RecordID(r, f.Source.ID)) != t.Key {
			continue
		}
		rec, _, err := processors.Map(c.Schema, unfiltered(f), r)
		if err != nil {
			t.Vendor = "the vendor's current version does not map: " + firstLine(err.Error())
			return nil
		}
		v, _ := rec[c.Schema.Version].(time.Time)
		t.Vendor = "the vendor's current version: " + stamp(v)
		if len(t.Fetches) > 0 && !v.After(t.Fetches[len(t.Fetches)-1].Modified) {
			t.Vendor += ", the one ferry fetched last"
		} else {
			t.Vendor += ", not fetched yet"
		}
		return nil
	}
	total := fmt.Sprint(page.Total)
	if page.Total < 0 {
		total = "an uncounted number of"
	}
	switch {
	case page.Total >= 0 && page.Total <= len(page.Records):
		t.Vendor = fmt.Sprintf("the vendor lists no change of it since %s (%s changes in all)", since, total)
	default:
		t.Vendor = fmt.Sprintf("not on the first page of the vendor's %s changes since %s: one call cannot tell", total, since)
	}
	return nil
}

func (c Config) checkpoint() (time.Time, bool) {
	if c.Checkpoint == nil {
		return time.Time{}, false
	}
	return c.Checkpoint()
}

// unfiltered is the flow's processor without its filter: what a record
// maps to, kept or not.
func unfiltered(f *flows.Flow) *flows.Processor {
	p := f.Processor
	p.Filter = ""
	return &p
}

func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

// read returns the partition of topic that holds key, and the key's
// records in it, oldest first; none when the topic does not exist yet.
func (c Config) read(ctx context.Context, topic, key string) (int, []kafka.Message, error) {
	var out []kafka.Message
	p, err := bus.ReadKey(ctx, c.Brokers, topic, key, func(m kafka.Message) { out = append(out, m) })
	if errors.Is(err, kafka.UnknownTopicOrPartition) {
		return 0, nil, nil
	}
	return p, out, err
}

func hash(b []byte) uint64 {
	h := fnv.New64a()
	h.Write(b)
	return h.Sum64()
}

// decide works out the processor's decision on each fetch, in order, as
// it dedupes (processors.Duplicate), unless the record is marked past
// dedupe.
func (c Config) decide(t *Trace, raw []kafka.Message, dead map[string]deadletter.Letter, processed int64) {
	f := c.Flow
	var last *Canonical
	var lastStamp int64
	var lastHash uint64
	used := map[int64]bool{}
	for _, m := range raw {
		fe := Fetch{Offset: m.Offset, FetchedAt: bus.Header(m, bus.HeaderFetchedAt), Window: bus.Header(m, bus.HeaderWindow),
			Page: bus.Header(m, bus.HeaderPage), Repair: bus.Header(m, bus.HeaderRepair)}
		rec, keep, err := processors.Map(c.Schema, &f.Processor, m.Value)
		if err == nil && keep {
			fe.Modified, _ = rec[c.Schema.Version].(time.Time)
		} else if err == nil {
			// Filtered: its stamp, as the flow without its filter maps it.
			if r, _, err := processors.Map(c.Schema, unfiltered(f), m.Value); err == nil {
				fe.Modified, _ = r[c.Schema.Version].(time.Time)
			}
		}
		place := fmt.Sprintf("%s/%d@%d", f.Source.Topic, t.RawPartition, m.Offset)
		l, wasDead := dead[place]
		switch {
		case wasDead:
			fe.deadLettered = true
			fe.Decision = fmt.Sprintf("dead-lettered (%s/%s): %s", f.DeadLetterTopic(), l.Place(), firstLine(l.Reason))
			if l.Replayed != nil {
				fe.Decision += "; replayed to " + l.Replayed.To
			}
		case processed < 0 || m.Offset >= processed:
			fe.processing = true
			fe.Decision = fmt.Sprintf("not processed yet: the processor's group stands at offset %d", max(processed, 0))
			if err != nil {
				fe.Decision += " (it will dead-letter it: " + firstLine(err.Error()) + ")"
			}
		case err != nil:
			fe.Decision = "dead-lettered, but not found in " + f.DeadLetterTopic() + ": " + firstLine(err.Error())
		case !keep:
			fe.filtered = true
			fe.Decision = "filtered by: " + f.Processor.Filter
		default:
			value, err := c.Schema.Encode(rec)
			if err != nil {
				fe.Decision = "cannot be encoded: " + err.Error()
				break
			}
			h, stamp := hash(value), fe.Modified.UnixMilli()
			if fe.Repair == "" && last != nil && processors.Duplicate(lastStamp, lastHash, stamp, h) {
				fe.Decision = fmt.Sprintf("dropped: a duplicate of version %s (canonical @%d)", millis(lastStamp), last.Offset)
				break
			}
			var found *Canonical
			for i := range t.Canonical {
				if cr := &t.Canonical[i]; cr.hash == h && !used[cr.Offset] {
					found = cr
					break
				}
			}
			if found == nil {
				fe.Decision = fmt.Sprintf("version %s, superseded in its batch by a newer fetch", millis(stamp))
				break
			}
			used[found.Offset] = true
			last, lastStamp, lastHash = found, stamp, h
			fe.Decision = fmt.Sprintf("published as %s/%d@%d, version %s", f.CanonicalTopic(), t.CanonPartition, found.Offset, millis(stamp))
		}
		t.Fetches = append(t.Fetches, fe)
	}
}

func millis(ms int64) string { return time.UnixMilli(ms).UTC().Format(time.RFC3339Nano) }

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return s
}

// target says where the target stands, and the verdict.
func (c Config) target(ctx context.Context, t *Trace, letters []deadletter.Letter) error {
	f := c.Flow
	if len(t.Fetches) == 0 {
		t.Verdict = "never fetched: no window has returned it"
		if c.Checkpoint != nil {
			if end, ok := c.Checkpoint(); ok {
				t.Verdict += " (the windows reach " + end.UTC().Format(time.RFC3339) + ")"
			} else {
				t.Verdict += " (the flow has read no window yet)"
			}
		}
		return nil
	}
	newest := t.Fetches[len(t.Fetches)-1]
	var latest *Canonical
	if len(t.Canonical) > 0 {
		latest = &t.Canonical[len(t.Canonical)-1]
	}
	if latest == nil {
		switch {
		case newest.processing:
			t.Verdict = "waiting for the processor: " + newest.Decision
		case newest.deadLettered:
			t.Verdict = newest.Decision
		case newest.filtered:
			t.Verdict = newest.Decision
		default:
			t.Verdict = "not in " + f.CanonicalTopic() + ": " + newest.Decision
		}
		return nil
	}
	at, err := c.sinkAt(ctx, t.CanonPartition)
	if err != nil {
		return err
	}
	behind := func() string {
		return fmt.Sprintf("waiting in %s partition %d behind %d records", f.CanonicalTopic(), t.CanonPartition, latest.Offset-at)
	}
	for _, l := range letters {
		if l.SourceTopic() != f.Source.Topic && strings.HasSuffix(l.Source, fmt.Sprintf("@%d", latest.Offset)) {
			t.Target = append(t.Target, fmt.Sprintf("dead-lettered by the sink (%s/%s): %s", f.DeadLetterTopic(), l.Place(), firstLine(l.Reason)))
			t.Verdict = "dead-lettered by the sink: " + firstLine(l.Reason)
			return nil
		}
	}
	switch {
	case c.Row != nil:
		v, ok, err := c.Row(ctx, t.Key)
		if err != nil {
			return err
		}
		if !ok {
			t.Target = append(t.Target, "no row")
		} else {
			t.Target = append(t.Target, "row at version "+v.UTC().Format(time.RFC3339Nano))
		}
		switch {
		case ok && !v.Before(latest.Version):
			t.Verdict = "in the table at the newest version"
		case at <= latest.Offset && ok:
			t.Verdict = "older version in the table: the newer one is " + behind()
		case at <= latest.Offset:
			t.Verdict = "not in the table yet: it is " + behind()
		case ok:
			t.Verdict = "older version in the table, though the sink has passed the newer one (see the sink's log)"
		default:
			t.Verdict = "not in the table, though the sink has passed it (see the sink's log)"
		}
	case f.Target.Vendor():
		var parked []string
		err := bus.ReadAll(ctx, c.Brokers, sinks.RetryTopic(f), func(m kafka.Message) {
			if string(m.Key) == t.Key {
				parked = append(parked, fmt.Sprintf("parked in %s/%d@%d, try %s next at %s: %s", m.Topic, m.Partition, m.Offset,
					bus.Header(m, sinks.HeaderTries), bus.Header(m, sinks.HeaderNextTry), bus.Header(m, bus.HeaderError)))
			}
		})
		if err != nil && !errors.Is(err, kafka.UnknownTopicOrPartition) {
			return err
		}
		t.Target = append(t.Target, parked...)
		switch {
		case at <= latest.Offset:
			t.Verdict = "not sent yet: it is " + behind()
		case len(parked) > 0:
			t.Verdict = "waiting to be tried again: " + parked[len(parked)-1]
		default:
			t.Verdict = "sent to " + f.Target.Kind + " at the newest version (ferry keeps no copy of the answer; the sink logs refusals)"
		}
	default:
		t.Verdict = "in " + f.CanonicalTopic() + " at the newest version"
	}
	return nil
}

func (c Config) sinkAt(ctx context.Context, partition int) (int64, error) {
	if c.SinkAt != nil {
		return c.SinkAt(ctx, partition)
	}
	at, err := bus.CommittedOffsets(ctx, c.Brokers, sinks.Group(c.Flow), c.Flow.CanonicalTopic(), []int{partition})
	if err != nil {
		return 0, err
	}
	return at[partition], nil
}

// Print writes the trace, newest first at each hop, and its verdict.
func (t *Trace) Print(w io.Writer, f *flows.Flow) {
	fmt.Fprintf(w, "flow %s, key %s\n", f.Name, t.Key)
	fmt.Fprintf(w, "\nfetched (%s partition %d), newest first:\n", f.Source.Topic, t.RawPartition)
	if len(t.Fetches) == 0 {
		fmt.Fprintln(w, "  never")
	}
	for i := len(t.Fetches) - 1; i >= 0; i-- {
		fe := t.Fetches[i]
		mod := "not mapped"
		if !fe.Modified.IsZero() {
			mod = fe.Modified.UTC().Format(time.RFC3339Nano)
		}
		fmt.Fprintf(w, "  @%d  fetched %s  window %s  page %s  modified %s", fe.Offset, orDash(fe.FetchedAt), orDash(fe.Window), orDash(fe.Page), mod)
		if fe.Repair != "" {
			fmt.Fprintf(w, "  (past dedupe: %s)", fe.Repair)
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintf(w, "\nprocessor (%s), newest first:\n", processors.Group(f))
	if len(t.Fetches) == 0 {
		fmt.Fprintln(w, "  nothing to process")
	}
	for i := len(t.Fetches) - 1; i >= 0; i-- {
		fmt.Fprintf(w, "  raw @%d: %s\n", t.Fetches[i].Offset, t.Fetches[i].Decision)
	}
	fmt.Fprintf(w, "\ntarget (%s):\n", targetName(f))
	if len(t.Target) == 0 {
		fmt.Fprintln(w, "  –")
	}
	for _, line := range t.Target {
		fmt.Fprintf(w, "  %s\n", line)
	}
	if t.Vendor != "" {
		fmt.Fprintf(w, "\nvendor (one call):\n  %s\n", t.Vendor)
	}
	fmt.Fprintf(w, "\nverdict: %s\n", t.Verdict)
}

func targetName(f *flows.Flow) string {
	switch f.Target.Kind {
	case "mysql":
		return "mysql " + f.Target.Table
	case "topic":
		return f.CanonicalTopic()
	}
	return f.Target.Kind
}

func orDash(s string) string {
	if s == "" {
		return "–"
	}
	return s
}
