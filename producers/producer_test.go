package producers_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kfake"
	"golang.org/x/time/rate"

	"github.com/ferry-data/ferry/flows"
	"github.com/ferry-data/ferry/internal/backoff"
	"github.com/ferry-data/ferry/internal/bus"
	"github.com/ferry-data/ferry/internal/checkpoint"
	"github.com/ferry-data/ferry/internal/sandbox"
	"github.com/ferry-data/ferry/internal/stats"
	"github.com/ferry-data/ferry/internal/vendortest"
	"github.com/ferry-data/ferry/producers"
	"github.com/ferry-data/ferry/producers/wdt"
	"github.com/ferry-data/ferry/producers/wdt/wdtsandbox"
	"github.com/ferry-data/ferry/vendors"
)

type env struct {
	url     string             // the sandbox's endpoint
	srv     *vendortest.Server // serves the sandbox
	ctx     context.Context
	brokers []string
	clock   *sandbox.Clock
	sb      *wdtsandbox.Sandbox
	prod    *producers.Producer
	logs    *syncBuffer
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// newEnv wires a producer of the shipped WDT flow to the sandbox and kfake.
func newEnv(t testing.TB, sc wdtsandbox.Config, since time.Duration) *env {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	cluster, err := kfake.NewCluster(kfake.NumBrokers(1))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cluster.Close)
	e := &env{ctx: ctx, brokers: cluster.ListenAddrs(), clock: sandbox.NewClock(time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)), logs: &syncBuffer{}}
	sc.Now = e.clock.Now
	if sc.Since.IsZero() {
		sc.Since = e.clock.Now().Add(-since)
	}
	e.sb = wdtsandbox.New(sc)
	e.srv = vendortest.Serve(t, e.sb)
	srv := e.srv
	e.url = srv.URL

	flow, err := flows.Named("wdt_refunds")
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(e.logs, nil))
	c := e.sb.Config()
	client, err := wdt.New(wdt.Config{
		URL: srv.URL, SID: c.SID, AppKey: c.AppKey, AppSecret: c.AppSecret,
		Options: vendors.Options{Limit: rate.Inf, Backoff: backoff.Policy{Base: time.Millisecond, Max: 2 * time.Millisecond}, Now: e.clock.Now, Logger: log},
	})
	if err != nil {
		t.Fatal(err)
	}
	src, err := wdt.NewSource(client, flow, log)
	if err != nil {
		t.Fatal(err)
	}
	cps, err := checkpoint.Open(ctx, e.brokers, bus.Settings{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cps.Close() })
	if err := bus.EnsureTopics(ctx, e.brokers, nil, bus.Topic{Name: flow.Source.Topic}); err != nil {
		t.Fatal(err)
	}
	w := bus.NewWriter(e.brokers, nil)
	t.Cleanup(func() { w.Close() })
	e.prod = &producers.Producer{Flow: flow, Source: src, Writer: w, Checkpoints: cps,
		Since: e.clock.Now().Add(-since - time.Hour), Now: e.clock.Now, Log: log, Stats: &stats.Flow{}}
	return e
}

// published returns the newest modified stamp published for each id.
func (e *env) published(t *testing.T) map[string]int64 {
	t.Helper()
	out := map[string]int64{}
	err := bus.ReadAll(e.ctx, e.brokers, e.prod.Flow.Source.Topic, func(m kafka.Message) {
		var r struct{ Modified int64 }
		if err := json.Unmarshal(m.Value, &r); err != nil {
			t.Errorf("raw record %s: %v", m.Value, err)
		}
		out[string(m.Key)] = max(out[string(m.Key)], r.Modified)
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// finish lets the vendor's clock pass the lag, so that every refund lies
// inside a window, and syncs again.
func (e *env) finish(t *testing.T) {
	t.Helper()
	e.sb.Freeze()
	e.clock.Advance(e.prod.Flow.Source.Window.Lag.D() + time.Minute)
	if err := e.prod.Sync(e.ctx); err != nil {
		t.Fatal(err)
	}
}

// assertComplete checks that every refund the vendor holds was published
// in its latest version.
func (e *env) assertComplete(t *testing.T) {
	t.Helper()
	got := e.published(t)
	truth := e.sb.Truth()
	for _, r := range truth {
		id := strconv.FormatFloat(r["refund_id"].(float64), 'f', -1, 64)
		if mod := int64(r["modified"].(float64)); got[id] != mod {
			t.Fatalf("refund %s: published version %d, the vendor's is %d", id, got[id], mod)
		}
	}
	if len(got) != len(truth) {
		t.Fatalf("published %d refunds, the vendor holds %d", len(got), len(truth))
	}
}

// TestWindowSplit: a window holding more records than one walk may return
// is split until each part fits, and the split is logged.
func TestWindowSplit(t *testing.T) {
	e := newEnv(t, wdtsandbox.Config{Records: 450, Settings: sandbox.Settings{Seed: 1}}, 72*time.Hour)
	e.prod.MaxWindowRecords = 100
	if err := e.prod.Sync(e.ctx); err != nil {
		t.Fatal(err)
	}
	e.finish(t)
	e.assertComplete(t)
	if n := strings.Count(e.logs.String(), "window split"); n < 4 {
		t.Fatalf("%d splits logged for 450 records at most 100 a window", n)
	}
}

// TestRecordsSayTheirPage: each raw record names the window and the page
// it was read in, so that ferry trace can tell where a record came from.
func TestRecordsSayTheirPage(t *testing.T) {
	e := newEnv(t, wdtsandbox.Config{Records: 120, Settings: sandbox.Settings{Seed: 1}}, 72*time.Hour)
	if err := e.prod.Sync(e.ctx); err != nil {
		t.Fatal(err)
	}
	pages := map[string]int{}
	err := bus.ReadAll(e.ctx, e.brokers, e.prod.Flow.Source.Topic, func(m kafka.Message) {
		pages[bus.Header(m, bus.HeaderPage)]++
		if bus.Header(m, bus.HeaderWindow) == "" {
			t.Errorf("record %s names no window", m.Key)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	size := e.prod.Source.PageSize()
	for pg := 0; pg*size < 120; pg++ {
		if pages[strconv.Itoa(pg)] == 0 {
			t.Errorf("no record says it was read in page %d: %v", pg, pages)
		}
	}
	if pages[""] > 0 {
		t.Errorf("%d records name no page", pages[""])
	}
}

// TestWindowsWithinVendorLimit: 70 days of history are polled in windows
// of at most 30 days, each checkpointed, and the vendor refuses none.
func TestWindowsWithinVendorLimit(t *testing.T) {
	e := newEnv(t, wdtsandbox.Config{Records: 300, Settings: sandbox.Settings{Seed: 2}}, 70*24*time.Hour)
	if err := e.prod.Sync(e.ctx); err != nil {
		t.Fatal(err)
	}
	if w := e.prod.Stats.Windows.Load(); w != 3 {
		t.Fatalf("%d windows for 70 days, want 3", w)
	}
	if r := e.sb.Stats().Rejected; r != 0 {
		t.Fatalf("the vendor refused %d calls", r)
	}
	cp, ok := e.prod.Checkpoints.Get(e.prod.Flow.Name)
	if want := e.clock.Now().Add(-e.prod.Flow.Source.Window.Lag.D()).Truncate(time.Second); !ok || !cp.End.Equal(want) {
		t.Fatalf("checkpoint %v, want %v", cp.End, want)
	}
	e.finish(t)
	e.assertComplete(t)
}

// TestReverseWalkSurvivesMutation: while the producer pages, the vendor
// moves refunds the walk has not reached yet out of the window (the trap
// that makes a forward walk skip records); after the next pass every
// refund is published in its latest version.
func TestReverseWalkSurvivesMutation(t *testing.T) {
	e := newEnv(t, wdtsandbox.Config{Records: 600, Settings: sandbox.Settings{Seed: 3, MutationsPerCall: 2}}, 72*time.Hour)
	if err := e.prod.Sync(e.ctx); err != nil {
		t.Fatal(err)
	}
	if e.sb.Stats().Mutations == 0 {
		t.Fatal("the sandbox mutated nothing")
	}
	e.finish(t)
	e.assertComplete(t)
}

// TestWalkDistrustsInconsistentAnswers: a well-formed answer that
// contradicts the others on a middle page (the window's count dropping to
// nothing and back, or a page empty though its count says it holds
// records) makes the walk start over, so that page's records are not lost.
func TestWalkDistrustsInconsistentAnswers(t *testing.T) {
	for _, tc := range []struct{ name, body string }{
		{"count falls to zero and rises", `{"status":0,"data":{"total_count":0,"order":[]}}`},
		{"empty page under a full count", `{"status":0,"data":{"total_count":250,"order":[]}}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, wdtsandbox.Config{Records: 250, Settings: sandbox.Settings{Seed: 7}}, 48*time.Hour)
			// Call 1 counts the window (5 pages of 50); call 3 reads page 3.
			e.srv.Answer(tc.body, func(n int64, _ *http.Request) bool { return n == 3 })
			if err := e.prod.Sync(e.ctx); err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(e.logs.String(), "walking again") {
				t.Fatalf("the walk trusted the answer:\n%s", e.logs)
			}
			e.assertComplete(t)
		})
	}
}

// enriching stands for a connector whose records are read again one by
// one (Kingdee's customer detail): it marks each record and counts how
// often each id was read again.
type enriching struct {
	producers.Source
	mu    sync.Mutex
	reads map[string]int
}

func (s *enriching) Enrich(_ context.Context, recs []json.RawMessage) ([]json.RawMessage, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]json.RawMessage, len(recs))
	for i, r := range recs {
		var m map[string]any
		if err := json.Unmarshal(r, &m); err != nil {
			return nil, err
		}
		s.reads[string(producers.RecordID(r, "refund_id"))]++
		m["enriched"] = true
		out[i], _ = json.Marshal(m)
	}
	return out, nil
}

// TestEnricherReadsEachRecordOnceAfterTheWalk: when the walk reads pages
// twice (a page that contradicts the count makes it walk again), an
// Enricher source still has every record read again exactly once, after
// the walk, and only enriched records are published; nothing is lost.
func TestEnricherReadsEachRecordOnceAfterTheWalk(t *testing.T) {
	e := newEnv(t, wdtsandbox.Config{Records: 250, Settings: sandbox.Settings{Seed: 7}}, 48*time.Hour)
	e.srv.Answer(`{"status":0,"data":{"total_count":250,"order":[]}}`, func(n int64, _ *http.Request) bool { return n == 3 })
	src := &enriching{Source: e.prod.Source, reads: map[string]int{}}
	e.prod.Source = src
	if err := e.prod.Sync(e.ctx); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(e.logs.String(), "walking again") {
		t.Fatal("the walk did not walk again: no page was read twice")
	}
	for id, n := range src.reads {
		if n != 1 {
			t.Fatalf("record %s read again %d times in one pass", id, n)
		}
	}
	if len(src.reads) != 250 {
		t.Fatalf("%d records read again, want the window's 250", len(src.reads))
	}
	e.assertComplete(t)
	err := bus.ReadAll(e.ctx, e.brokers, e.prod.Flow.Source.Topic, func(m kafka.Message) {
		if !bytes.Contains(m.Value, []byte(`"enriched":true`)) {
			t.Errorf("published without enrichment: %s", m.Key)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestBackfillLogsProgress: a sync of many windows logs, every
// ProgressEvery of its wall clock, the windows done and left, the records,
// their rate and the time left; the last window ends it without a line.
func TestBackfillLogsProgress(t *testing.T) {
	e := newEnv(t, wdtsandbox.Config{Records: 300, Settings: sandbox.Settings{Seed: 2}}, 70*24*time.Hour)
	wall := time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)
	e.prod.Wall = func() time.Time { wall = wall.Add(20 * time.Second); return wall }
	e.prod.ProgressEvery = 30 * time.Second
	if err := e.prod.Sync(e.ctx); err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, l := range strings.Split(e.logs.String(), "\n") {
		if strings.Contains(l, "backfill progress") {
			lines = append(lines, l)
		}
	}
	if len(lines) != 1 {
		t.Fatalf("%d progress lines for three windows, want 1:\n%s", len(lines), strings.Join(lines, "\n"))
	}
	for _, want := range []string{"flow=wdt_refunds", "windows_done=2", "windows_left=1", "time_left=20s", "records="} {
		if !strings.Contains(lines[0], want) {
			t.Errorf("progress line without %s: %s", want, lines[0])
		}
	}
}
