package main

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kfake"
	"golang.org/x/sync/errgroup"
	"golang.org/x/time/rate"

	"github.com/ferry-data/ferry/flows"
	"github.com/ferry-data/ferry/internal/backoff"
	"github.com/ferry-data/ferry/internal/bus"
	"github.com/ferry-data/ferry/internal/mysqltest"
	"github.com/ferry-data/ferry/internal/sandbox"
	"github.com/ferry-data/ferry/internal/stats"
)

// harness runs the WDT refunds flow as ferry does, over a real in-process
// Kafka-protocol broker and a real MariaDB, against the WDT sandbox on a
// settable clock.
type harness struct {
	t      *testing.T
	ctx    context.Context
	clock  *sandbox.Clock
	sb     *sandbox.WDT
	flow   *flows.Flow
	db     *sql.DB
	pipe   *pipeline
	bg     *errgroup.Group
	calls  atomic.Int64
	onCall func(n int64) // called before every vendor call is served
}

func newHarness(t *testing.T, sc sandbox.WDTConfig) *harness {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	t.Cleanup(cancel)
	cluster, err := kfake.NewCluster(kfake.NumBrokers(1))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cluster.Close)
	db, dsn := mysqltest.New(t)

	t0 := time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)
	h := &harness{t: t, ctx: ctx, clock: sandbox.NewClock(t0), db: db}
	sc.Now = h.clock.Now
	sc.Since = t0.Add(-72 * time.Hour)
	h.sb = sandbox.NewWDT(sc)
	// Every vendor call takes a second of the vendor's time, so changes
	// keep happening while ferry pages.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := h.calls.Add(1)
		if h.onCall != nil {
			h.onCall(n)
		}
		h.clock.Advance(time.Second)
		h.sb.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)

	fs, err := flows.Shipped()
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := parse([]string{"up", "--flow", "wdt_refunds", "--since", "2024-02-27 00:00:00"}, func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	cfg.Brokers = cluster.ListenAddrs()
	cfg.MySQLDSN = dsn
	c := h.sb.Config()
	cfg.WDT = WDTAccount{URL: srv.URL + "/openapi", SID: c.SID, AppKey: c.AppKey, AppSecret: c.AppSecret}
	fs, err = loadFlows(cfg)
	if err != nil {
		t.Fatal(err)
	}
	h.flow = fs[0]
	log := slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	h.pipe = &pipeline{cfg: cfg, flows: fs, log: log, stats: &stats.Registry{}, now: h.clock.Now,
		tune: func(c *clientSettings) {
			c.Limit = rate.Inf
			c.Backoff = backoff.Policy{Base: time.Millisecond, Max: 5 * time.Millisecond}
			c.Timeout = 2 * time.Second
		}}
	t.Cleanup(h.pipe.close)
	return h
}

// startConsumers runs the flow's processor and sink in the background.
func (h *harness) startConsumers() {
	g, ctx := errgroup.WithContext(h.ctx)
	ctx, cancel := context.WithCancel(ctx)
	if err := h.pipe.startProcessors(ctx, g); err != nil {
		h.t.Fatal(err)
	}
	if err := h.pipe.startSinks(ctx, g); err != nil {
		h.t.Fatal(err)
	}
	h.bg = g
	h.t.Cleanup(func() {
		cancel()
		if err := clean(g.Wait()); err != nil {
			h.t.Errorf("consumers: %v", err)
		}
	})
}

// sync runs one producer pass with a fresh producer, as a restarted
// process would.
func (h *harness) sync(ctx context.Context) error {
	ps, err := h.pipe.buildProducers(h.ctx)
	if err != nil {
		h.t.Fatal(err)
	}
	return ps[0].Sync(ctx)
}

// settle stops the sandbox's changes and faults, lets the vendor's clock
// pass the flow's lag so every change is visible and inside a window, and
// syncs once more.
func (h *harness) settle() {
	h.sb.Freeze()
	h.sb.SetFaults(sandbox.Faults{})
	h.clock.Advance(h.flow.Source.Window.Lag.D() + time.Minute)
	if err := h.sync(h.ctx); err != nil {
		h.t.Fatal(err)
	}
	if err := drained(h.ctx, h.pipe.cfg.Brokers, h.flow); err != nil {
		h.t.Fatal(err)
	}
}

type row struct {
	modified string
	status   int
	amount   string
	remark   string
}

// assertTableIsTruth compares the BI table with the sandbox's final truth:
// no refund missing, none stale, none extra.
func (h *harness) assertTableIsTruth() {
	h.t.Helper()
	cst := time.FixedZone("CST", 8*3600)
	want := map[int64]row{}
	for _, r := range h.sb.Truth() {
		id := int64(r["refund_id"].(float64))
		mod := time.UnixMilli(int64(r["modified"].(float64))).In(cst)
		want[id] = row{
			modified: mod.Format("2006-01-02 15:04:05.000"),
			status:   int(r["status"].(float64)),
			amount:   fmt.Sprintf("%.4f", r["actual_refund_amount"].(float64)),
			remark:   r["remark"].(string),
		}
	}
	rows, err := h.db.QueryContext(h.ctx, "SELECT refund_id, DATE_FORMAT(modified, '%Y-%m-%d %H:%i:%s.%f'), status, actual_refund_amount, remark FROM aftersales_refund_refund_search")
	if err != nil {
		h.t.Fatal(err)
	}
	defer rows.Close()
	got := map[int64]row{}
	for rows.Next() {
		var id int64
		var r row
		if err := rows.Scan(&id, &r.modified, &r.status, &r.amount, &r.remark); err != nil {
			h.t.Fatal(err)
		}
		r.modified = r.modified[:23] // %f prints microseconds
		got[id] = r
	}
	if err := rows.Err(); err != nil {
		h.t.Fatal(err)
	}
	var missing, stale, extra []string
	for id, w := range want {
		g, ok := got[id]
		switch {
		case !ok:
			missing = append(missing, fmt.Sprint(id))
		case g != w:
			stale = append(stale, fmt.Sprintf("%d: got %+v, want %+v", id, g, w))
		}
	}
	for id := range got {
		if _, ok := want[id]; !ok {
			extra = append(extra, fmt.Sprint(id))
		}
	}
	sort.Strings(missing)
	if len(missing)+len(stale)+len(extra) > 0 {
		h.t.Fatalf("table differs from the vendor's truth (%d refunds): %d missing %v, %d stale %v, %d extra %v",
			len(want), len(missing), head(missing), len(stale), head(stale), len(extra), head(extra))
	}
	h.t.Logf("table equals the vendor's truth: %d refunds", len(want))
}

func head(xs []string) []string {
	if len(xs) > 5 {
		return xs[:5]
	}
	return xs
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(b []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(b)))
	return len(b), nil
}

// TestRefundsUnderChurn: the sandbox modifies and creates refunds every
// second of its clock and moves paged-past refunds to the end, changes show
// up late, and 5% of calls are throttled and 5% fail; the table still ends
// equal to the vendor's truth.
func TestRefundsUnderChurn(t *testing.T) {
	h := newHarness(t, sandbox.WDTConfig{
		Seed:               9,
		Records:            2000,
		MutationsPerSecond: 3,
		CreationsPerSecond: 1,
		MutationsPerCall:   1,
		VisibilityLag:      20 * time.Second,
		Faults:             sandbox.Faults{ThrottleRate: 0.05, FailRate: 0.05, SlowDelay: 5 * time.Millisecond},
	})
	h.startConsumers()
	for range 6 {
		if err := h.sync(h.ctx); err != nil {
			t.Fatal(err)
		}
		h.clock.Advance(45 * time.Second)
	}
	h.settle()
	h.assertTableIsTruth()
	st := h.sb.Stats()
	if st.Mutations == 0 || st.Creations == 0 || st.Throttled == 0 || st.Failed == 0 {
		t.Fatalf("the sandbox did not set its traps: %+v", st)
	}
	t.Logf("sandbox: %+v", st)
}

// TestProducerRestartMidWindow stops the producer in the middle of a
// window's walk, after some pages were published but before the window was
// checkpointed; a new producer polls the window again and nothing is lost.
func TestProducerRestartMidWindow(t *testing.T) {
	h := newHarness(t, sandbox.WDTConfig{Seed: 11, Records: 600, MutationsPerSecond: 2, MutationsPerCall: 1, VisibilityLag: 10 * time.Second})
	h.startConsumers()
	ctx, stop := context.WithCancel(h.ctx)
	h.onCall = func(n int64) {
		if n == 5 { // the count call and three pages are done
			stop()
		}
	}
	if err := h.sync(ctx); err == nil {
		t.Fatal("producer was not stopped mid-window")
	}
	cps, err := h.pipe.buildProducers(h.ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := cps[0].Checkpoints.Get(h.flow.Name); ok {
		t.Fatal("the interrupted window was checkpointed")
	}
	h.onCall = nil
	h.clock.Advance(time.Minute)
	h.settle()
	h.assertTableIsTruth()
	if p := h.pipe.stats.Flow(h.flow.Name).Published.Load(); p <= int64(len(h.sb.Truth())) {
		t.Fatalf("published %d: the interrupted window was not polled again", p)
	}
}

// TestMalformedRecordIsDeadLettered puts a record the processor cannot map
// into the raw topic among the vendor's: it lands in dlq.wdt_refunds with
// the reason, and every other refund lands in MySQL.
func TestMalformedRecordIsDeadLettered(t *testing.T) {
	h := newHarness(t, sandbox.WDTConfig{Seed: 3, Records: 300})
	bad := kafka.Message{Topic: h.flow.Source.Topic, Key: []byte("x"), Value: []byte(`{"refund_id":"TK-not-a-number","modified":1709290000000}`)}
	if err := bus.EnsureTopics(h.ctx, h.pipe.cfg.Brokers, bus.Topic{Name: h.flow.Source.Topic}); err != nil {
		t.Fatal(err)
	}
	if err := h.pipe.kafkaWriter().WriteMessages(h.ctx, bad); err != nil {
		t.Fatal(err)
	}
	h.startConsumers()
	h.settle()
	h.assertTableIsTruth()

	r := kafka.NewReader(kafka.ReaderConfig{Brokers: h.pipe.cfg.Brokers, Topic: h.flow.DeadLetterTopic(), MaxWait: 100 * time.Millisecond})
	defer r.Close()
	m, err := r.FetchMessage(h.ctx)
	if err != nil {
		t.Fatal(err)
	}
	if string(m.Value) != string(bad.Value) {
		t.Fatalf("dead letter holds %s", m.Value)
	}
	reason := bus.Header(m, bus.HeaderError)
	if !strings.Contains(reason, "refund_id") || !strings.Contains(reason, "not an integer") {
		t.Fatalf("dead letter reason %q", reason)
	}
	if src := bus.Header(m, bus.HeaderSource); !strings.HasPrefix(src, h.flow.Source.Topic+"/") {
		t.Fatalf("dead letter source %q", src)
	}
	if n := h.pipe.stats.Flow(h.flow.Name).DeadLettered.Load(); n != 1 {
		t.Fatalf("dead-lettered %d", n)
	}
}
