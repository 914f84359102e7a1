package producers_test

import (
	"context"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/ferry-data/ferry/flows"
	"github.com/ferry-data/ferry/internal/bus"
	"github.com/ferry-data/ferry/internal/checkpoint"
	"github.com/ferry-data/ferry/internal/sandbox"
	"github.com/ferry-data/ferry/internal/stats"
	"github.com/ferry-data/ferry/internal/vendortest"
	"github.com/ferry-data/ferry/producers"
	"github.com/ferry-data/ferry/producers/jackyun"
	"github.com/ferry-data/ferry/producers/jackyun/jackyunsandbox"
	"github.com/ferry-data/ferry/vendors"
)

// BenchmarkBudget backfills three days of the shipped Jackyun trades flow
// on the wall clock, with the flow's budget (10 calls a second), from a
// sandbox that enforces the stand-in quota of 10 calls a second and 600 a
// minute and injects no faults:
//
//	go test -run x -bench Budget -benchtime 1x ./producers/
//
// The baseline is the budget itself. Reported: the share of it the
// backfill used (vendor calls a second over the budget, from its first
// call to its last), and the calls the sandbox throttled, all of them
// ferry's doing.
func BenchmarkBudget(b *testing.B) {
	flow, err := flows.Named("jackyun_trades_banniu")
	if err != nil {
		b.Fatal(err)
	}
	var share, throttled float64
	for range b.N {
		cluster, err := kfake.NewCluster(kfake.NumBrokers(1))
		if err != nil {
			b.Fatal(err)
		}
		brokers := cluster.ListenAddrs()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
		since := time.Now().Add(-72 * time.Hour)
		sb := jackyunsandbox.New(jackyunsandbox.Config{Trades: 30000, Settings: sandbox.Settings{Seed: 1, Since: since}})
		srv := vendortest.Serve(b, sb)
		account := sb.Account()
		client, err := jackyun.New(jackyun.Config{URL: srv.URL + "/open/openapi/do", AppKey: account["APP_KEY"], Secret: account["SECRET"],
			Options: vendors.Options{Limit: flow.Source.Rate.Limit}})
		if err != nil {
			b.Fatal(err)
		}
		src, err := jackyun.NewSource(client, flow, nil)
		if err != nil {
			b.Fatal(err)
		}
		cps, err := checkpoint.Open(ctx, brokers, bus.Settings{})
		if err != nil {
			b.Fatal(err)
		}
		if err := bus.EnsureTopics(ctx, brokers, nil, bus.Topic{Name: flow.Source.Topic}); err != nil {
			b.Fatal(err)
		}
		w := bus.NewWriter(brokers, nil)
		p := &producers.Producer{Flow: flow, Source: src, Writer: w, Checkpoints: cps, Since: since.Add(-24 * time.Hour), Now: time.Now, Stats: &stats.Flow{}}
		start := time.Now()
		if err := p.Sync(ctx); err != nil {
			b.Fatal(err)
		}
		calls := float64(srv.Calls())
		// n calls at the budget's pace take (n−1)/budget seconds.
		share += (calls - 1) / float64(flow.Source.Rate.Limit) / time.Since(start).Seconds()
		throttled += float64(sb.Stats().Throttled)
		b.Logf("%.0f calls in %v, %d trades published", calls, time.Since(start).Round(time.Millisecond), p.Stats.Published.Load())
		w.Close()
		cps.Close()
		cluster.Close()
		cancel()
	}
	n := float64(b.N)
	b.ReportMetric(share/n, "budget-share")
	b.ReportMetric(throttled/n, "throttled-calls")
}
