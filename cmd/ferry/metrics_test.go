package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ferry-data/ferry/internal/telemetry"
	"github.com/ferry-data/ferry/reconcile"
	"github.com/twmb/franz-go/pkg/kfake"
)

// catalogRow is a metric's row in README.md's catalog.
func catalogRow(m telemetry.Metric) string {
	return fmt.Sprintf("| `%s` | %s | %s | %s |", m.Name, m.Type, strings.Join(m.Labels, ", "), m.Help)
}

// TestREADMECatalogFollowsTheMetrics: README.md's metrics catalog has
// one row for each metric ferry exports, saying what the code says, and
// no other.
func TestREADMECatalogFollowsTheMetrics(t *testing.T) {
	data, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, m := range telemetry.Catalog {
		want = append(want, catalogRow(m))
	}
	var got []string
	for _, l := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(l, "| `ferry_") {
			got = append(got, l)
		}
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("README.md's metrics catalog differs from the code's; want\n%s", strings.Join(want, "\n"))
	}
}

// watched is a log handler that passes records on to Handler and shows
// every record, whatever its level, to seen.
type watched struct {
	slog.Handler
	seen func(slog.Record)
}

func (w watched) Enabled(context.Context, slog.Level) bool { return true }

func (w watched) Handle(ctx context.Context, r slog.Record) error {
	w.seen(r)
	if w.Handler.Enabled(ctx, r.Level) {
		return w.Handler.Handle(ctx, r)
	}
	return nil
}

func (w watched) WithAttrs(as []slog.Attr) slog.Handler {
	return watched{w.Handler.WithAttrs(as), w.seen}
}

func (w watched) WithGroup(name string) slog.Handler {
	return watched{w.Handler.WithGroup(name), w.seen}
}

// logged returns a logger for t that sends the value of attr of the first
// record with message msg, for each of the given messages.
func logged(t *testing.T, want map[string]string) (*slog.Logger, map[string]chan string) {
	chans := map[string]chan string{}
	for msg := range want {
		chans[msg] = make(chan string, 1)
	}
	var mu sync.Mutex
	sent := map[string]bool{}
	seen := func(r slog.Record) {
		attr, ok := want[r.Message]
		if !ok {
			return
		}
		r.Attrs(func(a slog.Attr) bool {
			if a.Key != attr {
				return true
			}
			mu.Lock()
			defer mu.Unlock()
			if !sent[r.Message] {
				sent[r.Message] = true
				chans[r.Message] <- a.Value.String()
			}
			return false
		})
	}
	return slog.New(watched{newTestLog(t, slog.LevelWarn).Handler(), seen}), chans
}

// TestUpServesTheCatalog scrapes a running ferry up on its embedded
// defaults: every metric of the catalog is there, with the flows' records
// written, once a reconcile result has been published.
func TestUpServesTheCatalog(t *testing.T) {
	cfg, err := parse([]string{"up", "--metrics", "127.0.0.1:0"}, func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	log, addrs := logged(t, map[string]string{"serving metrics": "addr", "embedded Kafka-protocol broker": "brokers"})
	done := make(chan error, 1)
	go func() { done <- run(ctx, cfg, io.Discard, log) }()
	var addr, brokers string
	for addr == "" || brokers == "" {
		select {
		case addr = <-addrs["serving metrics"]:
		case brokers = <-addrs["embedded Kafka-protocol broker"]:
		case err := <-done:
			t.Fatalf("ferry up ended: %v", err)
		}
	}
	report := reconcile.Report{Flow: "wdt_refunds", Windows: []reconcile.Window{{}}}
	if err := reconcile.Publish(ctx, strings.Split(strings.Trim(brokers, "[]"), " "), cfg.Topics, report, time.Now()); err != nil {
		t.Fatal(err)
	}
	var body string
	for {
		body = scrape(t, ctx, "http://"+addr+"/metrics")
		missing := ""
		for _, m := range telemetry.Catalog {
			if !strings.Contains(body, "\n"+m.Name) {
				missing = m.Name
			}
		}
		if missing == "" && strings.Contains(body, `ferry_records_total{flow="wdt_refunds",stage="written"} `) &&
			!strings.Contains(body, `ferry_records_total{flow="wdt_refunds",stage="written"} 0`) {
			break
		}
		select {
		case <-ctx.Done():
			t.Fatalf("the metrics never held %s, or wdt_refunds' written records:\n%s", missing, body)
		case err := <-done:
			t.Fatalf("ferry up ended: %v", err)
		case <-time.After(100 * time.Millisecond): // polling the endpoint while ferry up works
		}
	}
	for _, want := range []string{
		`ferry_vendor_calls_total{flow="wdt_refunds",outcome="ok",vendor="wdt"}`,
		`ferry_consumer_lag_records{flow="wdt_refunds",group="ferry-sink-wdt_refunds"`,
		`ferry_reconcile_clean{flow="wdt_refunds"} 1`,
		`ferry_dead_letter_records{flow="jackyun_trades_banniu"}`,
		`ferry_retry_records{flow="jackyun_trades_banniu"}`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("the metrics lack %s", want)
		}
	}
	if health := scrape(t, ctx, "http://"+addr+"/healthz"); health != "ok\n" {
		t.Errorf("/healthz: %q", health)
	}
	cancel()
	if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
		t.Fatalf("ferry up: %v", err)
	}
	if t.Failed() {
		t.Logf("metrics:\n%s", body)
	}
}

// scrape returns the body of a GET of url.
func scrape(t *testing.T, ctx context.Context, url string) string {
	t.Helper()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestProducersExportOnlyTheirOwnCheckpointAges runs two producer
// processes on disjoint flows, as two flow groups of deploy/ do, against
// one broker. The second starts once the first has committed a
// checkpoint, and so loads it from ferry.checkpoints, where it never moves
// for the second (the reproduction of a false stale-checkpoint alert);
// each exports the age only of the flow it owns.
func TestProducersExportOnlyTheirOwnCheckpointAges(t *testing.T) {
	cluster, err := kfake.NewCluster(kfake.NumBrokers(1))
	if err != nil {
		t.Fatal(err)
	}
	defer cluster.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	env := map[string]string{"FERRY_KAFKA_BROKERS": strings.Join(cluster.ListenAddrs(), ",")}
	age := func(flow string) string { return fmt.Sprintf("\nferry_checkpoint_age_seconds{flow=%q}", flow) }
	type producer struct {
		flow, addr string
		done       chan error
	}
	var ps []*producer
	for _, flow := range []string{"wdt_refunds", "jst_orders"} {
		p := &producer{flow: flow, done: make(chan error, 1)}
		ps = append(ps, p)
		cfg, err := parse([]string{"producer", "--flow", flow, "--metrics", "127.0.0.1:0", "--since", "6h"}, func(k string) string { return env[k] })
		if err != nil {
			t.Fatal(err)
		}
		fs, err := loadFlows(cfg, table)
		if err != nil {
			t.Fatal(err)
		}
		log, addrs := logged(t, map[string]string{"serving metrics": "addr"})
		if err := table.serveUnset(ctx, &cfg, fs, time.Now().Add(-6*time.Hour), log); err != nil {
			t.Fatal(err)
		}
		go func() { p.done <- run(ctx, cfg, io.Discard, log) }()
		select {
		case p.addr = <-addrs["serving metrics"]:
		case err := <-p.done:
			t.Fatalf("the producer of %s ended: %v", flow, err)
		}
		for body := ""; !strings.Contains(body, age(flow)); {
			select {
			case <-ctx.Done():
				t.Fatalf("the producer of %s never exported its checkpoint age:\n%s", flow, body)
			case err := <-p.done:
				t.Fatalf("the producer of %s ended: %v", flow, err)
			case <-time.After(100 * time.Millisecond): // polling the endpoint while the producer works
			}
			body = scrape(t, ctx, "http://"+p.addr+"/metrics")
		}
	}
	for _, p := range ps {
		body := scrape(t, ctx, "http://"+p.addr+"/metrics")
		for _, q := range ps {
			if q != p && strings.Contains(body, age(q.flow)) {
				t.Errorf("the producer of %s exports the checkpoint age of %s, which it does not own", p.flow, q.flow)
			}
		}
	}
	cancel()
	for _, p := range ps {
		if err := <-p.done; err != nil && !errors.Is(err, context.Canceled) {
			t.Errorf("the producer of %s: %v", p.flow, err)
		}
	}
}
