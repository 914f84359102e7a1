package producers

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/ferry-data/ferry/flows"
	"github.com/ferry-data/ferry/internal/bus"
	"github.com/ferry-data/ferry/internal/checkpoint"
	"github.com/ferry-data/ferry/internal/stats"
)

// Source is what a vendor connector offers the engine: one page of a
// search. Pages count from 0 whatever the vendor's base.
type Source interface {
	Page(ctx context.Context, w Window, page int) (Page, error)
	PageSize() int
}

// Enricher is a Source whose records are read again, one call each,
// before they are published: the list answers ids, a detail call answers
// the fields the flow needs (a customer's contacts, say). The producer
// calls it after a walk is done, once per record, so that the walk's
// consistency checks span only the list calls.
type Enricher interface {
	Source
	Enrich(ctx context.Context, recs []json.RawMessage) ([]json.RawMessage, error)
}

// Window is the span a search covers, both ends included on the vendor's
// side. A zero window asks for everything (full-scan flows).
type Window struct {
	From, To time.Time
}

// Full reports whether the window is the full scan.
func (w Window) Full() bool { return w.From.IsZero() && w.To.IsZero() }

func (w Window) String() string {
	if w.Full() {
		return "full"
	}
	return span(w.From, w.To)
}

// Page is one page of a search.
type Page struct {
	// Total is the number of records the search matches, or -1 when the
	// vendor does not count them.
	Total int
	// Records are the raw records, as the vendor sent them.
	Records []json.RawMessage
	// More tells, when Total is -1, that more pages follow.
	More bool
}

// Checkpoints keep each flow's position: a checkpoint.Store, or the
// fenced checkpoints of a flow's owner (lease.Checkpoints).
type Checkpoints interface {
	Get(flow string) (checkpoint.Checkpoint, bool)
	Commit(ctx context.Context, flow string, end time.Time) error
}

// Producer polls one flow.
type Producer struct {
	Flow        *flows.Flow
	Source      Source
	Writer      *kafka.Writer
	Checkpoints Checkpoints
	// Since is where the first window starts when the flow has no
	// checkpoint.
	Since time.Time
	// Now is the vendor's clock as ferry knows it; default time.Now.
	Now func() time.Time
	// Learnt, when set, reports whether Now has been learnt from the
	// vendor's answers (VendorClock.Learnt). Until it has, Sync makes one
	// call to learn it before it plans a window.
	Learnt func() bool
	// PollInterval is the pause between passes once caught up; default 30s.
	PollInterval time.Duration
	// MaxWindowRecords splits windows holding more; default 20000.
	MaxWindowRecords int
	// MaxRewalks bounds the walks of one window whose total keeps growing;
	// default 5.
	MaxRewalks int
	// Naive walks each window once, forward, as most integrations do. It
	// loses records modified while a window is paged; it is kept only as
	// the baseline that tests and benchmarks measure the real walk against.
	Naive bool
	Log   *slog.Logger
	Stats *stats.Flow
	// ProgressEvery is how often a sync of more than one window logs its
	// progress; default 30s of Wall.
	ProgressEvery time.Duration
	// Wall is the clock progress is timed on; default time.Now.
	Wall func() time.Time

	probed bool // learnClock has had an answer
}

func (p *Producer) defaults() {
	if p.Now == nil {
		p.Now = time.Now
	}
	if p.PollInterval <= 0 {
		p.PollInterval = 30 * time.Second
	}
	if p.MaxWindowRecords <= 0 {
		p.MaxWindowRecords = 20000
	}
	if p.MaxRewalks <= 0 {
		p.MaxRewalks = 5
	}
	if p.Log == nil {
		p.Log = slog.New(slog.DiscardHandler)
	}
	if p.Stats == nil {
		p.Stats = &stats.Flow{}
	}
	if p.ProgressEvery <= 0 {
		p.ProgressEvery = 30 * time.Second
	}
	if p.Wall == nil {
		p.Wall = time.Now
	}
}

// Run syncs, then syncs again every PollInterval, until ctx ends. The
// flow's pulse (stats.Flow.Pulse) beats while it syncs and is idle in
// between.
func (p *Producer) Run(ctx context.Context) error {
	p.defaults()
	defer p.Stats.Pulse().Idle()
	for {
		if err := p.Sync(ctx); err != nil {
			return err
		}
		p.Stats.Pulse().Idle()
		t := time.NewTimer(p.PollInterval)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
}

// Sync polls every window from the checkpoint up to now − lag, and
// checkpoints each one after all its records were acknowledged. A flow
// without a window is scanned in full.
func (p *Producer) Sync(ctx context.Context) error {
	p.defaults()
	w := p.Flow.Source.Window
	if w.Max.D() == 0 {
		p.Stats.Planned.Add(1)
		if err := p.walkAndPublish(ctx, p.Scan); err != nil {
			return fmt.Errorf("flow %s: full scan: %w", p.Flow.Name, err)
		}
		return p.commit(ctx, p.Now())
	}
	start := p.Since
	cp, resumed := p.Checkpoints.Get(p.Flow.Name)
	if resumed {
		start = cp.End.Add(-w.Overlap.D())
	}
	if err := p.learnClock(ctx, start); err != nil {
		return fmt.Errorf("flow %s: %w", p.Flow.Name, err)
	}
	end := p.Now().Add(-w.Lag.D()).Truncate(time.Second)
	if resumed && !cp.End.Before(end) {
		return nil
	}
	plan := Plan(start, end, w.Max.D())
	p.Stats.Planned.Add(int64(len(plan)))
	prog := p.progress(len(plan))
	for i, win := range plan {
		p.Stats.Window(win.From, win.To)
		if err := p.window(ctx, win); err != nil {
			return fmt.Errorf("flow %s: window %s: %w", p.Flow.Name, win, err)
		}
		if err := p.commit(ctx, win.To); err != nil {
			return err
		}
		prog(i+1, win)
	}
	return nil
}

// progress returns what logs a sync's progress, every ProgressEvery of
// Wall while windows remain: windows done and to go, records published,
// their rate and the time left at that rate. A sync of one window logs
// nothing.
func (p *Producer) progress(windows int) func(done int, last Window) {
	began := p.Wall()
	published := p.Stats.Published.Load()
	next := began.Add(p.ProgressEvery)
	return func(done int, last Window) {
		now := p.Wall()
		if windows < 2 || done == windows || now.Before(next) {
			return
		}
		next = now.Add(p.ProgressEvery)
		took := now.Sub(began)
		records := p.Stats.Published.Load() - published
		left := time.Duration(float64(took) / float64(done) * float64(windows-done)).Round(time.Second)
		p.Log.Info("backfill progress", "flow", p.Flow.Name, "windows_done", done, "windows_left", windows-done,
			"checkpoint", last.To, "records", records, "records_per_second", int(float64(records)/took.Seconds()), "time_left", left)
	}
}

// learnClock makes one call, page 0 of the second from start, when the
// vendor's clock is not learnt yet: windows end at the vendor's now minus
// lag, and a window planned on ferry's clock while it runs ahead would
// reach into the vendor's future. The answer's records are read again by
// the window that covers them.
func (p *Producer) learnClock(ctx context.Context, start time.Time) error {
	if p.Learnt == nil || p.Learnt() || p.probed {
		return nil
	}
	start = start.Truncate(time.Second)
	if _, err := p.page(ctx, Window{From: start, To: start.Add(time.Second)}, 0); err != nil {
		return fmt.Errorf("learn the vendor's clock: %w", err)
	}
	p.probed = true
	if !p.Learnt() {
		p.Log.Warn("the vendor's answer has no Date header; windows are planned on ferry's clock", "flow", p.Flow.Name)
	}
	return nil
}

func (p *Producer) commit(ctx context.Context, end time.Time) error {
	if err := p.Checkpoints.Commit(ctx, p.Flow.Name, end); err != nil {
		return fmt.Errorf("flow %s: %w", p.Flow.Name, err)
	}
	p.Stats.Windows.Add(1)
	return nil
}

// Scan walks every page of a full-scan flow forward, until the vendor has
// no more, and hands each page's records to emit.
func (p *Producer) Scan(ctx context.Context, emit func(Window, int, []json.RawMessage) error) error {
	p.defaults()
	size := p.Source.PageSize()
	for pg := 0; ; pg++ {
		page, err := p.page(ctx, Window{}, pg)
		if err != nil {
			return err
		}
		if err := emit(Window{}, pg, page.Records); err != nil {
			return err
		}
		more := page.More
		if page.Total >= 0 {
			more = (pg+1)*size < page.Total
		}
		if !more || len(page.Records) == 0 {
			return nil
		}
	}
}

// window walks one window and publishes its records.
func (p *Producer) window(ctx context.Context, w Window) error {
	return p.walkAndPublish(ctx, func(ctx context.Context, emit func(Window, int, []json.RawMessage) error) error {
		return p.Walk(ctx, w, emit)
	})
}

// walkAndPublish runs a walk (Walk or Scan) and publishes what it reads:
// page by page, or, from an Enricher, once the walk is done, each record
// once (the newest read of it) and enriched, a page's worth at a time.
func (p *Producer) walkAndPublish(ctx context.Context, walk func(context.Context, func(Window, int, []json.RawMessage) error) error, extra ...kafka.Header) error {
	e, ok := p.Source.(Enricher)
	if !ok {
		return walk(ctx, func(part Window, page int, recs []json.RawMessage) error {
			return p.publish(ctx, part, page, recs, extra...)
		})
	}
	type read struct {
		part Window
		page int
		raw  json.RawMessage
	}
	var reads []read
	at := map[string]int{} // id → index in reads
	err := walk(ctx, func(part Window, page int, recs []json.RawMessage) error {
		for _, r := range recs {
			id := RecordID(r, p.Flow.Source.ID)
			if i, seen := at[string(id)]; seen && id != nil {
				reads[i] = read{part, page, r}
				continue
			}
			at[string(id)] = len(reads)
			reads = append(reads, read{part, page, r})
		}
		return nil
	})
	if err != nil {
		return err
	}
	for len(reads) > 0 {
		n := 1
		for n < len(reads) && n < p.Source.PageSize() && reads[n].part == reads[0].part && reads[n].page == reads[0].page {
			n++
		}
		recs := make([]json.RawMessage, n)
		for i := range recs {
			recs[i] = reads[i].raw
		}
		full, err := e.Enrich(stats.WithFlow(ctx, p.Stats), recs)
		if err != nil {
			return err
		}
		p.Stats.Calls.Add(int64(len(recs)))
		if err := p.publish(ctx, reads[0].part, reads[0].page, full, extra...); err != nil {
			return err
		}
		reads = reads[n:]
	}
	return nil
}

// Walk reads every record of a window, as the package doc says: in
// reverse, splitting a window that holds too many records and walking
// again one that grew; it hands each page's records to emit, with the
// (part of the) window they were read in.
func (p *Producer) Walk(ctx context.Context, w Window, emit func(Window, int, []json.RawMessage) error) error {
	p.defaults()
	first, err := p.page(ctx, w, 0)
	if err != nil {
		return err
	}
	if first.Total < 0 {
		return fmt.Errorf("the source does not count a window's records; windowed flows need the count")
	}
	total := first.Total
	if total > p.MaxWindowRecords {
		if a, b, ok := Split(w); ok {
			p.Stats.Splits.Add(1)
			p.Log.Info("window split", "flow", p.Flow.Name, "window", w, "total", total, "max", p.MaxWindowRecords, "at", b.From)
			if err := p.Walk(ctx, a, emit); err != nil {
				return err
			}
			return p.Walk(ctx, b, emit)
		}
	}
	size := p.Source.PageSize()
	recs := first.Records
	if p.Naive {
		if err := emit(w, 0, recs); err != nil {
			return err
		}
		for pg := 1; pg*size < total; pg++ {
			page, err := p.page(ctx, w, pg)
			if err != nil {
				return err
			}
			if err := emit(w, pg, page.Records); err != nil {
				return err
			}
		}
		return nil
	}
	for walk := 1; ; walk++ {
		pages := (total + size - 1) / size
		if pages <= 1 && recs != nil {
			return emit(w, 0, recs)
		}
		// Reverse walk, ending on page 0: see the package doc. Every
		// answer's count is checked against the one before it.
		count, again := total, ""
		for pg := max(pages-1, 0); pg >= 0; pg-- {
			page, err := p.page(ctx, w, pg)
			if err != nil {
				return err
			}
			switch {
			case page.Total < 0:
				return fmt.Errorf("page %d of %d records came without a count", pg, total)
			case page.Total > count && again == "":
				again = fmt.Sprintf("the count rose from %d to %d at page %d", count, page.Total, pg)
			case len(page.Records) == 0 && page.Total > pg*size && again == "":
				again = fmt.Sprintf("page %d came back empty though the count is %d", pg, page.Total)
			}
			if err := emit(w, pg, page.Records); err != nil {
				return err
			}
			count = page.Total
		}
		if again == "" {
			return nil
		}
		if walk >= p.MaxRewalks {
			return fmt.Errorf("window kept changing over %d walks (%s)", walk, again)
		}
		p.Log.Info("window changed while walked, walking again", "flow", p.Flow.Name, "window", w, "why", again)
		total, recs = count, nil
	}
}

func (p *Producer) page(ctx context.Context, w Window, pg int) (Page, error) {
	ctx = stats.WithFlow(ctx, p.Stats)
	skew := p.Now().Sub(time.Now())
	page, err := p.Source.Page(ctx, w, pg)
	if err != nil && ctx.Err() == nil {
		// A vendor that checks timestamps refuses the first call of a
		// producer whose clock is far off its own; the answer's Date taught
		// the vendor clock (VendorClock), so the call is worth one more try.
		if d := p.Now().Sub(time.Now()) - skew; d > 30*time.Second || d < -30*time.Second {
			p.Log.Info("learnt the vendor's clock from a refused call; calling again", "flow", p.Flow.Name, "vendor_clock_moved", d.Round(time.Second), "err", err)
			page, err = p.Source.Page(ctx, w, pg)
		}
	}
	if err != nil {
		return Page{}, err
	}
	p.Stats.Calls.Add(1)
	p.Stats.Fetched.Add(int64(len(page.Records)))
	return page, nil
}

// publish writes records read in page of window w keyed by their id, and
// returns once Kafka acknowledged all of them.
func (p *Producer) publish(ctx context.Context, w Window, page int, recs []json.RawMessage, extra ...kafka.Header) error {
	if len(recs) == 0 {
		return nil
	}
	headers := append([]kafka.Header{
		{Key: bus.HeaderFlow, Value: []byte(p.Flow.Name)},
		{Key: bus.HeaderWindow, Value: []byte(w.String())},
		{Key: bus.HeaderPage, Value: []byte(strconv.Itoa(page))},
		{Key: bus.HeaderFetchedAt, Value: []byte(time.Now().UTC().Format(time.RFC3339Nano))},
	}, extra...)
	msgs := make([]kafka.Message, len(recs))
	for i, r := range recs {
		msgs[i] = kafka.Message{Topic: p.Flow.Source.Topic, Key: RecordID(r, p.Flow.Source.ID), Value: r, Headers: headers}
	}
	start := time.Now()
	if err := p.Writer.WriteMessages(ctx, msgs...); err != nil {
		return fmt.Errorf("publish to %s: %w", p.Flow.Source.Topic, err)
	}
	p.Stats.Produce.Since(start)
	p.Stats.Published.Add(int64(len(msgs)))
	return nil
}

// RecordID returns the text of a raw record's id field, or nil when the
// record has none (the processor dead-letters such records).
func RecordID(raw json.RawMessage, field string) []byte {
	var m map[string]json.RawMessage
	if json.Unmarshal(raw, &m) != nil {
		return nil
	}
	v, ok := m[field]
	if !ok || string(v) == "null" {
		return nil
	}
	if s, err := strconv.Unquote(string(v)); err == nil {
		return []byte(s)
	}
	return []byte(v)
}

func span(from, to time.Time) string {
	return from.UTC().Format(time.RFC3339) + "/" + to.UTC().Format(time.RFC3339)
}

// Repoll walks a window again and publishes its records, without moving
// the checkpoint: reconcile's repair goes through here.
func (p *Producer) Repoll(ctx context.Context, w Window) error {
	p.defaults()
	// Marked records pass the processor's dedupe: the target lost what
	// the processor remembers publishing.
	walk := p.Scan
	if !w.Full() {
		walk = func(ctx context.Context, emit func(Window, int, []json.RawMessage) error) error {
			return p.Walk(ctx, w, emit)
		}
	}
	err := p.walkAndPublish(ctx, walk, kafka.Header{Key: bus.HeaderRepair, Value: []byte("1")})
	if err != nil {
		return fmt.Errorf("flow %s: repoll %s: %w", p.Flow.Name, w, err)
	}
	return nil
}
