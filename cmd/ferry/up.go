package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/sr/srfake"
	"golang.org/x/sync/errgroup"

	"github.com/ferry-data/ferry/flows"
	"github.com/ferry-data/ferry/internal/bus"
	"github.com/ferry-data/ferry/internal/stats"
	"github.com/ferry-data/ferry/processors"
	"github.com/ferry-data/ferry/sinks"
)

// uses reports whether a flow reads from or writes to the vendor.
func uses(fs []*flows.Flow, vendor string) bool {
	for _, f := range fs {
		if f.Source.Vendor == vendor || f.Target.Kind == vendor {
			return true
		}
	}
	return false
}

// up runs every role in one process. What is not configured is embedded:
// an in-process Kafka-protocol broker, a schema registry speaking the
// Confluent REST API, an in-memory MySQL-protocol database, and the vendor
// sandboxes.
func up(ctx context.Context, cfg Config, fs []*flows.Flow, stdout io.Writer, log *slog.Logger) error {
	started := time.Now()
	if len(cfg.Brokers) == 0 {
		cluster, err := kfake.NewCluster(kfake.NumBrokers(1))
		if err != nil {
			return fmt.Errorf("embedded broker: %w", err)
		}
		defer cluster.Close()
		cfg.Brokers = cluster.ListenAddrs()
		log.Info("embedded Kafka-protocol broker", "brokers", cfg.Brokers)
	}
	if cfg.Registry.URL == "" {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return fmt.Errorf("embedded schema registry: %w", err)
		}
		srv := &http.Server{Handler: srfake.NewRegistry().Handler(), ReadHeaderTimeout: 10 * time.Second}
		go srv.Serve(ln)
		defer srv.Close()
		cfg.Registry.URL = "http://" + ln.Addr().String()
		log.Info("embedded schema registry (Confluent REST API)", "url", cfg.Registry.URL)
	}
	if cfg.MySQLDSN == "" {
		dsn, stop, err := startEmbeddedDB(ctx)
		if err != nil {
			return fmt.Errorf("embedded database: %w", err)
		}
		defer stop()
		cfg.MySQLDSN = dsn
		log.Info("embedded MySQL-protocol database", "database", "ferry")
	}
	rolesCtx, stopRoles := context.WithCancel(ctx)
	defer stopRoles()
	bg, bgctx := errgroup.WithContext(rolesCtx)
	since, err := cfg.since(time.Now())
	if err != nil {
		return err
	}
	sctx, stopSandboxes := context.WithCancel(context.Background())
	defer stopSandboxes()
	if err := table.serveUnset(sctx, &cfg, fs, since, log); err != nil {
		return err
	}

	p := newPipeline(cfg, fs, log)
	log = p.log
	defer p.close()
	if err := p.startProcessors(bgctx, bg); err != nil {
		return err
	}
	if err := p.startSinks(bgctx, bg); err != nil {
		return err
	}
	if !cfg.Once {
		if err := p.startProducers(bgctx, bg); err != nil {
			return err
		}
		// After the producers, whose checkpoints the metrics read.
		if err := p.serveMetrics(bgctx, bg); err != nil {
			return err
		}
		log.Info("ferry up", "flows", names(fs))
		if err := clean(bg.Wait()); err != nil {
			return err
		}
		log.Info("ferry stopped")
		p.stats.Summary(stdout, time.Since(started))
		return nil
	}

	if err := p.serveMetrics(bgctx, bg); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(bgctx, cfg.Timeout)
	defer cancel()
	if cfg.Progress != nil {
		stop := showProgress(cfg.Progress, p.stats, started)
		defer stop()
	}
	err = func() error {
		ps, err := p.buildProducers(ctx)
		if err != nil {
			return err
		}
		g, gctx := errgroup.WithContext(ctx)
		for _, pr := range ps {
			g.Go(func() error { return pr.Sync(gctx) })
		}
		if err := g.Wait(); err != nil {
			return err
		}
		for _, f := range fs {
			if err := drained(ctx, cfg.Brokers, f); err != nil {
				return err
			}
		}
		return nil
	}()
	stopRoles()
	if werr := clean(bg.Wait()); werr != nil && err == nil {
		err = werr
	}
	if err != nil {
		return err
	}
	p.stats.Summary(stdout, time.Since(started))
	return nil
}

// drained waits until the flow's processors committed everything the
// producers published, and then its sinks everything the processors did.
func drained(ctx context.Context, brokers []string, f *flows.Flow) error {
	steps := []struct{ group, topic string }{
		{processors.Group(f), f.Source.Topic},
		{sinks.Group(f), f.CanonicalTopic()},
	}
	if f.Target.Kind == "topic" {
		steps = steps[:1] // the canonical topic is the target: no sink
	}
	for _, s := range steps {
		end, err := bus.EndOffsets(ctx, brokers, s.topic)
		if err != nil {
			return err
		}
		if err := bus.WaitCaughtUp(ctx, brokers, s.group, s.topic, end); err != nil {
			return fmt.Errorf("flow %s: %w", f.Name, err)
		}
	}
	return nil
}

// showProgress keeps a progress line on w, a terminal, rewritten twice a
// second until stop, which writes it a last time and ends it.
func showProgress(w io.Writer, reg *stats.Registry, started time.Time) (stop func()) {
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(500 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-done:
				fmt.Fprintf(w, "\r%s\x1b[K\n", progressLine(reg, time.Since(started)))
				return
			case <-t.C:
				fmt.Fprintf(w, "\r%s\x1b[K", progressLine(reg, time.Since(started)))
			}
		}
	}()
	return func() {
		close(done)
		<-finished
	}
}

// progressLine sums every flow's progress: windows done of those planned,
// and records by stage.
func progressLine(reg *stats.Registry, elapsed time.Duration) string {
	var windows, planned, fetched, published, canonical, written, dead int64
	for _, n := range reg.Names() {
		f := reg.Flow(n)
		windows += f.Windows.Load()
		planned += f.Planned.Load()
		fetched += f.Fetched.Load()
		published += f.Published.Load()
		canonical += f.Canonical.Load()
		written += f.Written.Load()
		dead += f.DeadLettered.Load()
	}
	return fmt.Sprintf("windows %d/%d · fetched %d · published %d · canonical %d · written %d · dead-lettered %d · %s",
		windows, planned, fetched, published, canonical, written, dead, elapsed.Round(time.Second))
}
