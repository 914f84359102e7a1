package telemetry_test

import (
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/ferry-data/ferry/internal/bus"
	"github.com/ferry-data/ferry/internal/checkpoint"
	"github.com/ferry-data/ferry/internal/stats"
	"github.com/ferry-data/ferry/internal/telemetry"
	"github.com/ferry-data/ferry/reconcile"
)

// TestMetrics: a producer's metrics carry the flows' counters, the age of
// their checkpoints and their last reconcile result, read back from Kafka.
func TestMetrics(t *testing.T) {
	cluster, err := kfake.NewCluster(kfake.NumBrokers(1))
	if err != nil {
		t.Fatal(err)
	}
	defer cluster.Close()
	brokers := cluster.ListenAddrs()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	reg := &stats.Registry{}
	reg.Flow("wdt_refunds").Fetched.Add(7)
	reg.Flow("wdt_refunds").Written.Add(5)
	cps, err := checkpoint.Open(ctx, brokers, bus.Settings{})
	if err != nil {
		t.Fatal(err)
	}
	defer cps.Close()
	now := time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)
	if err := cps.Commit(ctx, "wdt_refunds", now.Add(-90*time.Second)); err != nil {
		t.Fatal(err)
	}
	dirty := reconcile.Report{Flow: "wdt_refunds", Windows: []reconcile.Window{{Missing: []string{"1", "2"}, Stale: []string{"3"}}}}
	if err := reconcile.Publish(ctx, brokers, bus.Settings{}, dirty, now); err != nil {
		t.Fatal(err)
	}
	recs, err := reconcile.Follow(ctx, brokers, bus.Settings{}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(telemetry.Process{Stats: reg, Checkpoints: cps, Reconciles: recs, Now: func() time.Time { return now }}.Handler())
	defer srv.Close()

	want := []string{
		`ferry_records_total{flow="wdt_refunds",stage="fetched"} 7`,
		`ferry_records_total{flow="wdt_refunds",stage="written"} 5`,
		`ferry_checkpoint_age_seconds{flow="wdt_refunds"} 90`,
		`ferry_reconcile_clean{flow="wdt_refunds"} 0`,
		`ferry_reconcile_differences{flow="wdt_refunds",kind="missing"} 2`,
		`ferry_reconcile_differences{flow="wdt_refunds",kind="stale"} 1`,
	}
	// The reconcile result arrives from Kafka in the background: scrape
	// until it is there.
	for {
		res, err := srv.Client().Get(srv.URL + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		missing := ""
		for _, w := range want {
			if !strings.Contains(string(body), w) {
				missing = w
			}
		}
		if missing == "" {
			break
		}
		select {
		case <-ctx.Done():
			t.Fatalf("metrics lack %s:\n%s", missing, body)
		case <-time.After(20 * time.Millisecond): // polling the endpoint for the followed result
		}
	}
	res, err := srv.Client().Get(srv.URL + "/readyz")
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("readyz: %v %v", res, err)
	}
}

// TestHealthAsksItsDependencies: /readyz answers ok while every check
// passes, and 503 naming the failing one when the broker is gone.
func TestHealthAsksItsDependencies(t *testing.T) {
	cluster, err := kfake.NewCluster(kfake.NumBrokers(1))
	if err != nil {
		t.Fatal(err)
	}
	brokers := cluster.ListenAddrs()
	kafkaUp := telemetry.Check{Name: "kafka", Run: func(ctx context.Context) error { return bus.Ping(ctx, brokers) }}
	srv := httptest.NewServer(telemetry.Process{Stats: &stats.Registry{}, Checks: []telemetry.Check{kafkaUp}}.Handler())
	defer srv.Close()
	get := func() (int, string) {
		res, err := srv.Client().Get(srv.URL + "/readyz")
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		body, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(body)
	}
	if code, body := get(); code != 200 || body != "ok\n" {
		t.Fatalf("with the broker up: %d %q", code, body)
	}
	cluster.Close()
	if code, body := get(); code != 503 || !strings.HasPrefix(body, "kafka: ") {
		t.Fatalf("with the broker gone: %d %q", code, body)
	}
}

func TestHealthzAnswersWhileTheProcessRuns(t *testing.T) {
	down := telemetry.Check{Name: "kafka", Run: func(context.Context) error { return io.ErrUnexpectedEOF }}
	srv := httptest.NewServer(telemetry.Process{Stats: &stats.Registry{}, Checks: []telemetry.Check{down}}.Handler())
	defer srv.Close()
	res, err := srv.Client().Get(srv.URL + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 {
		t.Fatalf("/healthz %d with Kafka down", res.StatusCode)
	}
}

// TestHealthzFailsWhenALoopIsStuck: liveness fails while a loop is busy
// without progress beyond the limit, and recovers once it idles.
func TestHealthzFailsWhenALoopIsStuck(t *testing.T) {
	reg := &stats.Registry{}
	srv := httptest.NewServer(telemetry.Process{Stats: reg, Stuck: time.Nanosecond}.Handler())
	defer srv.Close()
	get := func() (int, string) {
		res, err := srv.Client().Get(srv.URL + "/healthz")
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		body, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(body)
	}
	if code, _ := get(); code != 200 {
		t.Fatalf("nothing begun: %d", code)
	}
	reg.Flow("wdt_refunds").Pulse().Beat()
	if code, body := get(); code != 503 || !strings.Contains(body, "wdt_refunds") {
		t.Fatalf("a stuck flow: %d %q", code, body)
	}
	reg.Flow("wdt_refunds").Pulse().Idle()
	if code, _ := get(); code != 200 {
		t.Fatalf("an idle flow: %d", code)
	}
}

// TestCatalogMetricsCarryTheirLabels: vendor calls, consumer lag, topic
// depths and latencies come out with the catalog's names and labels.
func TestCatalogMetricsCarryTheirLabels(t *testing.T) {
	reg := &stats.Registry{}
	f := reg.Flow("jackyun_trades_banniu")
	ctx := stats.WithFlow(context.Background(), f)
	stats.FlowOf(ctx).Call("banniu", "auth_refused")
	stats.FlowOf(ctx).Request("banniu", 30*time.Millisecond)
	stats.FlowOf(ctx).Backoff("banniu", 1500*time.Millisecond)
	f.Produce.Observe(4 * time.Millisecond)
	f.Window(time.Unix(0, 0), time.Unix(3600, 0))
	p := stats.Partition{Flow: "jackyun_trades_banniu", Group: "ferry-sink-jackyun_trades_banniu", Topic: "canonical.trades", Partition: 2}
	reg.Consumers.Own(p)
	reg.Consumers.Update(p, func(o *stats.Owned) { o.Lag = 42 })
	reg.Consumers.Rebalanced(p.Group)
	depths := func(context.Context) ([]telemetry.Depth, error) {
		return []telemetry.Depth{{Flow: "jackyun_trades_banniu", DeadLetters: 3, Retry: 1}}, nil
	}
	srv := httptest.NewServer(telemetry.Process{Stats: reg, Depths: depths, Build: telemetry.Build{Version: "v1.2.3"}}.Handler())
	defer srv.Close()
	res, err := srv.Client().Get(srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	for _, want := range []string{
		`ferry_build_info{go_version="go`,
		`version="v1.2.3"} 1`,
		`ferry_vendor_calls_total{flow="jackyun_trades_banniu",outcome="auth_refused",vendor="banniu"} 1`,
		`ferry_vendor_calls_total{flow="jackyun_trades_banniu",outcome="ok",vendor="banniu"} 0`,
		`ferry_vendor_request_duration_seconds_bucket{flow="jackyun_trades_banniu",vendor="banniu",le="0.05"} 1`,
		`ferry_vendor_backoff_seconds_total{flow="jackyun_trades_banniu",vendor="banniu"} 1.5`,
		`ferry_kafka_produce_duration_seconds_count{flow="jackyun_trades_banniu"} 1`,
		`ferry_window_seconds{flow="jackyun_trades_banniu"} 3600`,
		`ferry_consumer_lag_records{flow="jackyun_trades_banniu",group="ferry-sink-jackyun_trades_banniu",partition="2",topic="canonical.trades"} 42`,
		`ferry_consumer_lag_seconds{flow="jackyun_trades_banniu",group="ferry-sink-jackyun_trades_banniu",partition="2",topic="canonical.trades"} 0`,
		`ferry_consumer_rebalances_total{group="ferry-sink-jackyun_trades_banniu"} 1`,
		`ferry_dead_letter_records{flow="jackyun_trades_banniu"} 3`,
		`ferry_retry_records{flow="jackyun_trades_banniu"} 1`,
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	if t.Failed() {
		t.Logf("metrics:\n%s", body)
	}
}
