package main

import (
	"context"
	"database/sql"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/sr/srfake"
	"golang.org/x/sync/errgroup"
	"golang.org/x/time/rate"

	"github.com/ferry-data/ferry/flows"
	"github.com/ferry-data/ferry/internal/backoff"
	"github.com/ferry-data/ferry/internal/bus"
	"github.com/ferry-data/ferry/internal/mysqltest"
	"github.com/ferry-data/ferry/internal/sandbox"
	"github.com/ferry-data/ferry/internal/stats"
	"github.com/ferry-data/ferry/vendors"
)

// harness runs one shipped flow as ferry does, over a real in-process
// Kafka-protocol broker and a real MariaDB, against vendor sandboxes on a
// settable clock. Every vendor call takes a second of the vendors' time,
// so changes keep happening while ferry pages.
type harness struct {
	t        *testing.T
	cluster  *kfake.Cluster
	ctx      context.Context
	clock    *sandbox.Clock
	flow     *flows.Flow
	db       *sql.DB
	pipe     *pipeline
	calls    atomic.Int64
	onCall   atomic.Pointer[func(n int64)] // called before a vendor call is served
	naive    bool                          // producers walk forward once (the baseline)
	split    int                           // producers split windows holding more (0: default)
	procs    int                           // ferry processes started
	registry *srfake.Registry
}

// t0 is the vendors' time when a test starts.
var t0 = time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)

func newHarness(t *testing.T, flow string) *harness {
	t.Helper()
	return newHarnessOf(t, table, "--flow", flow)
}

// newHarnessOf runs the flows ferry up's flags select, with a vendor table.
func newHarnessOf(t *testing.T, tbl vendorTable, flags ...string) *harness {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	t.Cleanup(cancel)
	// The cluster allows session timeouts down to a second, as a broker
	// tuned for fast takeover would (the default is 6s).
	cluster, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.GroupMinSessionTimeout(time.Second))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cluster.Close)
	// kafka-go keeps a connection pool per cluster in its default
	// transport for the life of the process, each with a goroutine that
	// keeps asking for metadata; every harness's cluster is new, so its
	// pools go with it. (Tests here do not run in parallel.)
	t.Cleanup(kafka.DefaultTransport.(*kafka.Transport).CloseIdleConnections)
	db, dsn := mysqltest.New(t)
	h := &harness{t: t, cluster: cluster, ctx: ctx, clock: sandbox.NewClock(t0), db: db}
	// Canonical records go through an in-process schema registry, as
	// with ferry up.
	h.registry = srfake.New()
	t.Cleanup(h.registry.Close)

	cfg, err := parse(append([]string{"up", "--since", "2024-02-27 00:00:00"}, flags...), func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	cfg.Brokers = cluster.ListenAddrs()
	cfg.MySQLDSN = dsn
	cfg.Registry.URL = h.registry.URL()
	fs, err := loadFlows(cfg, tbl)
	if err != nil {
		t.Fatal(err)
	}
	h.flow = fs[0]
	h.pipe = &pipeline{cfg: cfg, flows: fs, log: newTestLog(t, slog.LevelWarn), stats: &stats.Registry{}, now: h.clock.Now, table: &tbl,
		tune: func(c *vendors.Options) {
			c.Limit = rate.Inf
			c.Backoff = backoff.Policy{Base: time.Millisecond, Max: 5 * time.Millisecond}
			c.Timeout = 2 * time.Second
		}}
	t.Cleanup(h.pipe.close)
	return h
}

// use makes a sandbox, served at url, the account of its vendor.
func (h *harness) use(vendor, url string, account map[string]string) {
	h.pipe.cfg.useSandbox(vendor, url, sandbox.Served{Account: account})
}

// serve serves a source vendor's sandbox and returns its endpoint (path
// appended). Each of its calls takes a second of the vendors' time, but
// for a detail call (one record by id, Kingdee's customer_detail), which
// takes a tenth: a flow that reads each record again must keep up with
// the changes, as it must against the vendor, where a detail call is
// small and a list page is not.
func (h *harness) serve(vendor http.Handler, path string) string {
	return h.serveTarget(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := h.calls.Add(1)
		if f := h.onCall.Load(); f != nil {
			(*f)(n)
		}
		took := time.Second
		if strings.HasSuffix(r.URL.Path, "_detail") {
			took = time.Second / 10
		}
		h.clock.Advance(took)
		vendor.ServeHTTP(w, r)
	}), path)
}

// serveTarget serves a target vendor's sandbox, whose calls come from the
// sinks in the background: they leave the clock to the source's calls, so
// what the source does stays a function of the seed.
func (h *harness) serveTarget(vendor http.Handler, path string) string {
	srv := httptest.NewServer(vendor)
	h.t.Cleanup(srv.Close)
	return srv.URL + path
}

// whenCalled sets (or, with nil, clears) the hook run before each vendor
// call; calls still in flight from a stopped producer may run it.
func (h *harness) whenCalled(f func(n int64)) {
	if f == nil {
		h.onCall.Store(nil)
		return
	}
	h.onCall.Store(&f)
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
	ps[0].Naive = h.naive
	ps[0].MaxWindowRecords = h.split
	return ps[0].Sync(ctx)
}

// churn syncs n times, the vendors' clock moving on between passes.
func (h *harness) churn(n int, step time.Duration) {
	for range n {
		if err := h.sync(h.ctx); err != nil {
			h.t.Fatal(err)
		}
		h.clock.Advance(step)
	}
}

// frozen is what settle needs of a sandbox.
type frozen interface {
	Freeze()
	SetFaults(sandbox.Faults)
}

// settle stops the sandboxes' changes and faults, lets the vendors' clock
// pass the flow's lag (and extra) so every change is visible and inside a
// window, syncs once more and waits until the pipeline drained.
func (h *harness) settle(extra time.Duration, sbs ...frozen) {
	for _, s := range sbs {
		s.Freeze()
		s.SetFaults(sandbox.Faults{})
	}
	h.clock.Advance(h.flow.Source.Window.Lag.D() + time.Minute + extra)
	if err := h.sync(h.ctx); err != nil {
		h.t.Fatal(err)
	}
	if err := drained(h.ctx, h.pipe.cfg.Brokers, h.flow); err != nil {
		h.t.Fatal(err)
	}
}

// canonical reads the flow's canonical topic: every record decoded, in
// order.
func (h *harness) canonical() []map[string]any {
	h.t.Helper()
	s, err := loadSchema(h.flow)
	if err != nil {
		h.t.Fatal(err)
	}
	codec, err := h.pipe.codec(h.ctx, h.flow, s, false)
	if err != nil {
		h.t.Fatal(err)
	}
	var out []map[string]any
	err = bus.ReadAll(h.ctx, h.pipe.cfg.Brokers, h.flow.CanonicalTopic(), func(m kafka.Message) {
		rec, err := codec.Decode(m.Value)
		if err != nil {
			h.t.Fatalf("canonical record %s@%d (% x…, %d bytes): %v", m.Key, m.Offset, m.Value[:min(len(m.Value), 12)], len(m.Value), err)
		}
		out = append(out, rec)
	})
	if err != nil {
		h.t.Fatal(err)
	}
	return out
}

// deadLetters reads the flow's dead-letter topic.
func (h *harness) deadLetters() []kafka.Message {
	h.t.Helper()
	var out []kafka.Message
	if err := bus.ReadAll(h.ctx, h.pipe.cfg.Brokers, h.flow.DeadLetterTopic(), func(m kafka.Message) { out = append(out, m) }); err != nil {
		h.t.Fatal(err)
	}
	return out
}

// diff compares what the target holds with the source's truth, by id.
func diff[T comparable](t *testing.T, want, got map[string]T) {
	t.Helper()
	var missing, stale, extra []string
	for id, w := range want {
		g, ok := got[id]
		switch {
		case !ok:
			missing = append(missing, id)
		case g != w:
			stale = append(stale, id+": got "+fmtAny(g)+", want "+fmtAny(w))
		}
	}
	for id := range got {
		if _, ok := want[id]; !ok {
			extra = append(extra, id)
		}
	}
	if len(missing)+len(stale)+len(extra) > 0 {
		t.Fatalf("target differs from the source's truth (%d records): %d missing %v, %d stale %v, %d extra %v",
			len(want), len(missing), head(missing), len(stale), head(stale), len(extra), head(extra))
	}
	t.Logf("target equals the source's truth: %d records", len(want))
}

func head(xs []string) []string {
	if len(xs) > 5 {
		return xs[:5]
	}
	return xs
}

// testLog is a test's slog output. It keeps only the last logKeep lines
// and shows them when the test fails: hundreds of chaos seeds log
// warnings nobody reads, and testing would hold every line of a passing
// subtest until its parent ends. Lines written once the test is over (by
// a goroutine that outlived it) are dropped instead of landing in the
// parent's output.
type testLog struct {
	t       testing.TB
	mu      sync.Mutex
	lines   []string // a ring of the last logKeep lines
	next    int      // where the next line goes in lines
	dropped int      // lines pushed out of the ring
	over    bool
}

const logKeep = 200

// newTestLog returns a logger at level writing to a testLog of t.
func newTestLog(t testing.TB, level slog.Level) *slog.Logger {
	l := &testLog{t: t}
	t.Cleanup(l.flush)
	return slog.New(slog.NewTextHandler(l, &slog.HandlerOptions{Level: level}))
}

func (l *testLog) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.over {
		return len(b), nil
	}
	line := strings.TrimSpace(string(b))
	if len(l.lines) < logKeep {
		l.lines = append(l.lines, line)
	} else {
		l.lines[l.next] = line
		l.dropped++
	}
	l.next = (l.next + 1) % logKeep
	return len(b), nil
}

// flush ends the log and, when the test failed, shows what it kept.
func (l *testLog) flush() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.over = true
	if !l.t.Failed() || len(l.lines) == 0 {
		return
	}
	if l.dropped > 0 {
		l.t.Logf("log: %d earlier lines not kept", l.dropped)
	}
	for i := range l.lines {
		l.t.Log(l.lines[(l.next+i)%len(l.lines)])
	}
}

// churning are the sandbox settings every scheme's test runs under.
var churning = struct {
	mutations, creations float64
	perCall              int
	lag                  time.Duration
	faults               sandbox.Faults
}{3, 1, 1, 20 * time.Second, sandbox.Faults{ThrottleRate: 0.05, FailRate: 0.05, SlowDelay: 5 * time.Millisecond}}

// sureTraps makes certain that a run under churning meets both kinds of
// trouble, whatever its seed draws: the sandbox throttles the second call
// and fails the third; the random faults go on around them.
func (h *harness) sureTraps(sb frozen) {
	h.whenCalled(func(n int64) {
		switch n {
		case 2:
			sb.SetFaults(sandbox.Faults{ThrottleRate: 1})
		case 3:
			sb.SetFaults(sandbox.Faults{FailRate: 1, SlowDelay: churning.faults.SlowDelay})
		case 4:
			sb.SetFaults(churning.faults)
		}
	})
}
