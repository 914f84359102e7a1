package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"runtime/debug"
	"slices"
	"sync"
	"time"

	mysqldriver "github.com/go-sql-driver/mysql"
	"github.com/segmentio/kafka-go"
	"golang.org/x/sync/errgroup"

	"github.com/ferry-data/ferry/flows"
	"github.com/ferry-data/ferry/internal/backoff"
	"github.com/ferry-data/ferry/internal/bus"
	"github.com/ferry-data/ferry/internal/checkpoint"
	"github.com/ferry-data/ferry/internal/deadletter"
	"github.com/ferry-data/ferry/internal/lease"
	"github.com/ferry-data/ferry/internal/registry"
	"github.com/ferry-data/ferry/internal/stats"
	"github.com/ferry-data/ferry/internal/telemetry"
	"github.com/ferry-data/ferry/processors"
	"github.com/ferry-data/ferry/producers"
	"github.com/ferry-data/ferry/reconcile"
	"github.com/ferry-data/ferry/schemas"
	"github.com/ferry-data/ferry/sinks"
	"github.com/ferry-data/ferry/sinks/mysql"
	"github.com/ferry-data/ferry/vendors"
)

// run carries out a parsed command.
func run(ctx context.Context, cfg Config, stdout io.Writer, log *slog.Logger) error {
	if cfg.Command == "sandbox" {
		return serveSandbox(ctx, cfg, log)
	}
	if cfg.Command == "flow import" {
		return importFlow(cfg, stdout)
	}
	if cfg.Command == "schemas export" {
		return exportSchemas(cfg.ExportDir, stdout)
	}
	fs, err := loadFlows(cfg, table)
	if err != nil {
		return err
	}
	if cfg.Command == "topics" {
		return listTopics(cfg, fs, stdout)
	}
	logNotes(log, fs)
	if err := reachKafka(ctx, cfg); err != nil {
		return err
	}
	if cfg.Command == "up" {
		return up(ctx, cfg, fs, stdout, log)
	}
	if cfg.Command == "reconcile" {
		p := &pipeline{cfg: cfg, flows: fs, log: log, stats: &stats.Registry{}}
		defer p.close()
		return reconcileFlows(ctx, p, stdout)
	}
	if cfg.Command == "rebuild" {
		p := &pipeline{cfg: cfg, flows: fs, log: log, stats: &stats.Registry{}}
		defer p.close()
		return rebuildFlow(ctx, p, stdout)
	}
	if cfg.Command == "tail" {
		return tail(ctx, &pipeline{cfg: cfg, flows: fs, log: log}, stdout)
	}
	if cfg.Command == "dlq" {
		p := &pipeline{cfg: cfg, flows: fs, log: log}
		defer p.close()
		return deadLetters(ctx, p, stdout)
	}
	if cfg.Command == "trace" {
		p := &pipeline{cfg: cfg, flows: fs, log: log}
		defer p.close()
		return traceRecord(ctx, p, stdout)
	}
	p := newPipeline(cfg, fs, log)
	log = p.log
	defer p.close()
	g, ctx := errgroup.WithContext(ctx)
	switch cfg.Command {
	case "producer":
		err = p.startProducers(ctx, g)
	case "processor":
		err = p.startProcessors(ctx, g)
	case "sink":
		err = p.startSinks(ctx, g)
	}
	if err != nil {
		return err
	}
	if err := p.serveMetrics(ctx, g); err != nil {
		return err
	}
	log.Info("ferry started", "command", cfg.Command, "flows", names(fs), "brokers", cfg.Brokers)
	if err := clean(g.Wait()); err != nil {
		return err
	}
	log.Info("ferry stopped", "command", cfg.Command)
	return nil
}

// clean turns the cancellation of a shutdown into success.
func clean(err error) error {
	if errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}

// loadFlows reads the flows the command serves, and refuses one whose
// vendor the table has no connector for.
func loadFlows(cfg Config, t vendorTable) ([]*flows.Flow, error) {
	var all []*flows.Flow
	var err error
	if cfg.FlowDir != "" {
		all, err = flows.LoadDir(cfg.FlowDir)
	} else {
		all, err = flows.Shipped()
	}
	if err != nil {
		return nil, err
	}
	for _, f := range all {
		if err := f.CheckVendors(t.flows()); err != nil {
			return nil, err
		}
	}
	if len(cfg.Flows) == 0 {
		return all, nil
	}
	var out []*flows.Flow
	for _, name := range cfg.Flows {
		i := slices.IndexFunc(all, func(f *flows.Flow) bool { return f.Name == name })
		if i < 0 {
			return nil, fmt.Errorf("no flow %q (flows: %v)", name, names(all))
		}
		out = append(out, all[i])
	}
	return out, nil
}

// logNotes logs, once at start, what the loader chose or translated for
// each flow and the seed keys it does not act on.
func logNotes(log *slog.Logger, fs []*flows.Flow) {
	for _, f := range fs {
		for _, n := range f.Notes {
			level := slog.LevelInfo
			if n.Warn {
				level = slog.LevelWarn
			}
			log.Log(context.Background(), level, n.Text, "flow", f.Name, "at", fmt.Sprintf("%s:%d", f.Path, n.Line), "key", n.Path)
		}
	}
}

func names(fs []*flows.Flow) []string {
	var out []string
	for _, f := range fs {
		out = append(out, f.Name)
	}
	return out
}

// pipeline builds and starts the roles of a process.
type pipeline struct {
	cfg    Config
	flows  []*flows.Flow
	log    *slog.Logger
	stats  *stats.Registry
	now    func() time.Time
	writer *kafka.Writer
	db     *sql.DB
	// checkpoints is the producers' store, once they are built.
	checkpoints *checkpoint.Store
	// tune adjusts every vendor client (tests shorten backoffs).
	tune func(*vendors.Options)
	// retryAfter is the pause before API sinks retry a parked record;
	// default a minute.
	retryAfter time.Duration
	// table is the vendor table; nil for ferry's own (tests add vendors).
	table *vendorTable
	// clients holds one client per vendor account, so that every flow of
	// an account draws on one call budget; clocks one clock per vendor.
	clients  map[string]vendors.Client
	clocks   map[string]*producers.VendorClock
	closers  []func() error
	registry *registry.Registry
	// owned are the flows whose lease this process holds.
	owned owned
	// metricsAddr is where the process serves its metrics, once it does.
	metricsAddr string
	// recent keeps the warnings and errors logged of each flow, for the
	// status page.
	recent *telemetry.Recent
}

// newPipeline returns the pipeline of a long-running process (a role, or
// up), whose log also feeds the status page's recent errors.
func newPipeline(cfg Config, fs []*flows.Flow, log *slog.Logger) *pipeline {
	recent := &telemetry.Recent{}
	return &pipeline{cfg: cfg, flows: fs, log: slog.New(recent.Handler(log.Handler())), stats: &stats.Registry{}, recent: recent}
}

// owned are the flows a producer process owns now; only their checkpoint
// ages are its to report: a standby's view of another owner's checkpoint
// is stale, and would raise a false alert.
type owned struct {
	mu    sync.Mutex
	flows map[string]bool
}

func (o *owned) set(flow string, on bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.flows == nil {
		o.flows = map[string]bool{}
	}
	o.flows[flow] = on
}

// ownedEnds are the checkpoint ends of the flows the process owns.
type ownedEnds struct {
	store *checkpoint.Store
	owned *owned
}

func (e ownedEnds) Ends() map[string]time.Time {
	out := map[string]time.Time{}
	e.owned.mu.Lock()
	defer e.owned.mu.Unlock()
	for flow, end := range e.store.Ends() {
		if e.owned.flows[flow] {
			out[flow] = end
		}
	}
	return out
}

// codec returns how a flow's canonical records are written and read:
// single-object encoding without a registry; with one, its wire format,
// the processor (write) registering the flow's schema first.
func (p *pipeline) codec(ctx context.Context, f *flows.Flow, s *schemas.Schema, write bool) (schemas.Codec, error) {
	if p.cfg.Registry.URL == "" {
		return s, nil
	}
	if p.registry == nil {
		r, err := registry.New(p.cfg.Registry)
		if err != nil {
			return nil, err
		}
		p.registry = r
	}
	if !write {
		return p.registry.Decoder(s), nil
	}
	c, err := p.registry.Prepare(ctx, f.CanonicalTopic(), s, f.Processor.Compatibility)
	if err != nil {
		return nil, fmt.Errorf("flow %s: %w", f.Name, err)
	}
	return c, nil
}

func (p *pipeline) close() {
	for i := len(p.closers) - 1; i >= 0; i-- {
		p.closers[i]()
	}
}

// topics are the settings of a flow's topics: its own over the process's.
func (p *pipeline) topics(f *flows.Flow) bus.Settings {
	t := f.Topics
	return bus.Settings{Partitions: int(t.Partitions), ReplicationFactor: int(t.ReplicationFactor), MinInsyncReplicas: int(t.MinInsyncReplicas),
		CanonicalCleanup: t.CanonicalCleanupPolicy}.Over(p.cfg.Topics)
}

func (p *pipeline) kafkaWriter() *kafka.Writer {
	if p.writer == nil {
		p.writer = bus.NewWriter(p.cfg.Brokers, p.log)
		p.closers = append(p.closers, p.writer.Close)
	}
	return p.writer
}

// buildProducers makes one producer per flow.
func (p *pipeline) buildProducers(ctx context.Context) ([]*producers.Producer, error) {
	cps, err := checkpoint.Open(ctx, p.cfg.Brokers, p.cfg.Topics)
	if err != nil {
		return nil, err
	}
	p.closers = append(p.closers, cps.Close)
	p.checkpoints = cps
	now := p.now
	if now == nil {
		now = time.Now
	}
	since, err := p.cfg.since(now())
	if err != nil {
		return nil, err
	}
	var out []*producers.Producer
	for _, f := range p.flows {
		if err := bus.EnsureTopics(ctx, p.cfg.Brokers, p.log, bus.Topic{Name: f.Source.Topic, Settings: p.topics(f)}); err != nil {
			return nil, err
		}
		src, err := p.source(f)
		if err != nil {
			return nil, err
		}
		clock := p.vendorClock(f.Source.Vendor)
		out = append(out, &producers.Producer{
			Flow:         f,
			Source:       src,
			Writer:       p.kafkaWriter(),
			Checkpoints:  cps,
			Since:        since,
			Now:          clock.Now,
			Learnt:       clock.Learnt,
			Log:          p.log,
			Stats:        p.stats.Flow(f.Name),
			PollInterval: p.cfg.PollInterval,
		})
	}
	return out, nil
}

// startProducers runs a producer for each flow whenever this process owns
// the flow's lease: replicas serving the same flows stand by for each
// other.
func (p *pipeline) startProducers(ctx context.Context, g *errgroup.Group) error {
	ps, err := p.buildProducers(ctx)
	if err != nil {
		return err
	}
	for _, pr := range ps {
		cfg := lease.Config{Brokers: p.cfg.Brokers, Flow: pr.Flow.Name, Settings: p.cfg.Topics, Mirror: p.checkpoints, Session: p.cfg.Session, Log: p.log}
		g.Go(func() error {
			return lease.Run(ctx, cfg, func(ctx context.Context, cps *lease.Checkpoints) error {
				p.owned.set(pr.Flow.Name, true)
				defer p.owned.set(pr.Flow.Name, false)
				pr.Checkpoints = cps
				return pr.Run(ctx)
			})
		})
	}
	return nil
}

func (p *pipeline) startProcessors(ctx context.Context, g *errgroup.Group) error {
	for _, f := range p.flows {
		s, err := schemas.Load(f.Processor.Entity)
		if err != nil {
			return fmt.Errorf("flow %s: %w", f.Name, err)
		}
		codec, err := p.codec(ctx, f, s, true)
		if err != nil {
			return err
		}
		pr := &processors.Processor{Flow: f, Schema: s, Codec: codec, Brokers: p.cfg.Brokers, Topics: p.topics(f), Session: p.cfg.Session, Writer: p.kafkaWriter(), Log: p.log, Stats: p.stats.Flow(f.Name), Consumers: &p.stats.Consumers}
		g.Go(func() error { return pr.Run(ctx) })
	}
	return nil
}

func (p *pipeline) startSinks(ctx context.Context, g *errgroup.Group) error {
	for _, f := range p.flows {
		if f.Target.Kind == "topic" {
			continue // the canonical topic is the target
		}
		s, err := schemas.Load(f.Processor.Entity)
		if err != nil {
			return fmt.Errorf("flow %s: %w", f.Name, err)
		}
		var run func(context.Context) error
		switch f.Target.Kind {
		case "mysql":
			if run, err = p.mysqlSink(ctx, f, s); err != nil {
				return err
			}
		default: // a target API
			w, err := p.targetWriter(f)
			if err != nil {
				return err
			}
			codec, err := p.codec(ctx, f, s, false)
			if err != nil {
				return err
			}
			sk := &sinks.APISink{Flow: f, Schema: s, Codec: codec, Brokers: p.cfg.Brokers, Topics: p.topics(f), Session: p.cfg.Session, Target: w, Writer: p.kafkaWriter(),
				RetryAfter: p.retryAfter, Now: p.now, Log: p.log, Stats: p.stats.Flow(f.Name), Consumers: &p.stats.Consumers}
			run = sk.Run
		}
		g.Go(func() error { return run(ctx) })
	}
	return nil
}

// openDB opens the target database once per process.
func (p *pipeline) openDB(ctx context.Context, f *flows.Flow) error {
	if p.db != nil {
		return nil
	}
	if p.cfg.MySQLDSN == "" {
		return fmt.Errorf("flow %s: no database (set FERRY_MYSQL_DSN)", f.Name)
	}
	c, err := writerConfig(p.cfg.MySQLDSN, p.cfg.MySQLCAFile)
	if err != nil {
		return err
	}
	connector, err := mysqldriver.NewConnector(c)
	if err != nil {
		return fmt.Errorf("database: %w", err)
	}
	db := sql.OpenDB(connector)
	p.closers = append(p.closers, db.Close)
	if err := p.atStart(ctx, "reaching the database", func() error { return mysql.Transient(db.PingContext(ctx)) }); err != nil {
		return fmt.Errorf("database: %w", err)
	}
	p.db = db
	return nil
}

// startRetries shapes atStart's tries: eight, over about a minute.
var startRetries = backoff.Policy{Base: 200 * time.Millisecond, Max: 10 * time.Second, Tries: 8}

// atStart runs a step of a role's start again while it fails transiently
// (a database or broker connection lost or refused mid-restart), a few
// times, so that a role started during a blip does not exit; a lasting
// failure still ends the start, with its cause.
func (p *pipeline) atStart(ctx context.Context, what string, op func() error) error {
	return backoff.Do(ctx, startRetries, op, func(attempt int, wait time.Duration, err error) {
		p.log.Warn(what+" failed; trying again", "attempt", attempt+1, "wait", wait, "err", err)
	})
}

func (p *pipeline) mysqlSink(ctx context.Context, f *flows.Flow, s *schemas.Schema) (func(context.Context) error, error) {
	if err := p.openDB(ctx, f); err != nil {
		return nil, err
	}
	w, err := p.mysqlWriter(ctx, f, s)
	if err != nil {
		return nil, err
	}
	codec, err := p.codec(ctx, f, s, false)
	if err != nil {
		return nil, err
	}
	sk := &sinks.Sink{Flow: f, Schema: s, Codec: codec, Brokers: p.cfg.Brokers, Topics: p.topics(f), Session: p.cfg.Session, Parallel: p.cfg.SinkParallel, Target: w, DeadLetters: p.kafkaWriter(), Log: p.log, Stats: p.stats.Flow(f.Name), Consumers: &p.stats.Consumers}
	return sk.Run, nil
}

// mysqlWriter makes the flow's table writer and creates its table when
// missing.
func (p *pipeline) mysqlWriter(ctx context.Context, f *flows.Flow, s *schemas.Schema) (*mysql.Writer, error) {
	w, err := mysql.New(p.db, s, mysql.Config{
		Table:     f.Target.Table,
		Columns:   f.Target.Columns,
		Replace:   f.Target.Mode == "replace",
		Zone:      f.Target.Zone.Loc(),
		BatchRows: int(f.Target.Limit),
	})
	if err != nil {
		return nil, fmt.Errorf("flow %s: %w", f.Name, err)
	}
	if err := p.atStart(ctx, "creating the table", func() error { return w.CreateTable(ctx) }); err != nil {
		return nil, fmt.Errorf("flow %s: %w", f.Name, err)
	}
	for _, c := range w.Changes() {
		p.log.Info("table changed to the schema", "flow", f.Name, "table", f.Target.Table, "change", c)
	}
	return w, nil
}

// writerConfig reads the DSN, lets the driver interpolate arguments, so a
// batch is one round trip instead of prepare, execute and close, and with
// a CA file speaks TLS to the database, trusting that CA (the DSN's own
// tls= parameter serves the system's CAs).
func writerConfig(dsn, caFile string) (*mysqldriver.Config, error) {
	c, err := mysqldriver.ParseDSN(dsn)
	if err != nil {
		return nil, fmt.Errorf("FERRY_MYSQL_DSN: %w", err)
	}
	c.InterpolateParams = true
	if caFile != "" {
		pem, err := os.ReadFile(caFile)
		if err != nil {
			return nil, fmt.Errorf("FERRY_MYSQL_TLS_CA_FILE: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("FERRY_MYSQL_TLS_CA_FILE %s: no PEM certificate in it", caFile)
		}
		c.TLS = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	}
	return c, nil
}

type stderr struct{}

func (stderr) Write(b []byte) (int, error) { return os.Stderr.Write(b) }

func loadSchema(f *flows.Flow) (*schemas.Schema, error) {
	s, err := schemas.Load(f.Processor.Entity)
	if err != nil {
		return nil, fmt.Errorf("flow %s: %w", f.Name, err)
	}
	return s, nil
}

// serveMetrics serves the process's metrics and health when asked to:
// every role's counters, and for producers the age of each flow's
// checkpoint and its last reconcile result.
func (p *pipeline) serveMetrics(ctx context.Context, g *errgroup.Group) error {
	if p.cfg.Metrics == "" {
		return nil
	}
	ln, err := net.Listen("tcp", p.cfg.Metrics)
	if err != nil {
		return fmt.Errorf("metrics: %w", err)
	}
	var cps telemetry.Checkpoints
	var recs telemetry.Reconciles
	if p.checkpoints != nil {
		cps = ownedEnds{p.checkpoints, &p.owned}
		r, err := reconcile.Follow(ctx, p.cfg.Brokers, p.cfg.Topics, p.log)
		if err != nil {
			ln.Close()
			return err
		}
		recs = r
	}
	now := p.now
	if now == nil {
		now = time.Now
	}
	proc := telemetry.Process{Command: p.cfg.Command, Stats: p.stats, Checkpoints: cps, Reconciles: recs, Checks: p.healthChecks(),
		Recent: p.recent, Build: buildInfo(), Now: now}
	for _, f := range p.flows {
		target := f.Target.Kind
		switch f.Target.Kind {
		case "mysql":
			target += " " + f.Target.Table
		case "topic":
			target += " " + f.CanonicalTopic()
		}
		proc.Flows = append(proc.Flows, telemetry.Flow{Name: f.Name, Source: f.Source.Vendor, Target: target})
	}
	if p.cfg.Command != "producer" {
		proc.Depths, proc.DeadLetters = p.depths, p.deadLetterGroups
	}
	p.metricsAddr = ln.Addr().String()
	p.log.Info("serving metrics", "addr", p.metricsAddr)
	g.Go(func() error { return serve(ctx, ln, proc.Handler()) })
	return nil
}

// deadLetterGroups groups a flow's dead letters by reason, for the status
// page, as ferry dlq list does.
func (p *pipeline) deadLetterGroups(ctx context.Context, flow string) ([]deadletter.Group, error) {
	for _, f := range p.flows {
		if f.Name == flow {
			letters, err := deadletter.Read(ctx, p.cfg.Brokers, f, deadletter.Filter{})
			if err != nil {
				return nil, err
			}
			return deadletter.Groups(f, letters), nil
		}
	}
	return nil, fmt.Errorf("flow %s is not served here", flow)
}

// depths reads how many records wait in each flow's dead-letter topic
// and, for a flow with an API target, in its retry topic.
func (p *pipeline) depths(ctx context.Context) ([]telemetry.Depth, error) {
	var out []telemetry.Depth
	for _, f := range p.flows {
		d := telemetry.Depth{Flow: f.Name}
		var err error
		if d.DeadLetters, err = bus.Depth(ctx, p.cfg.Brokers, f.DeadLetterTopic(), ""); err != nil {
			return nil, err
		}
		if f.Target.Vendor() {
			if d.Retry, err = bus.Depth(ctx, p.cfg.Brokers, sinks.RetryTopic(f), sinks.RetryGroup(f)); err != nil {
				return nil, err
			}
		}
		out = append(out, d)
	}
	return out, nil
}

// buildInfo names the running build from what the Go toolchain stamped into
// the binary.
func buildInfo() telemetry.Build {
	b := telemetry.Build{Version: "devel"}
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return b
	}
	if v := info.Main.Version; v != "" && v != "(devel)" {
		b.Version = v
	}
	for _, s := range info.Settings {
		if s.Key == "vcs.revision" {
			b.Revision = s.Value
		}
	}
	return b
}

// healthChecks are what /readyz asks: Kafka for every role, the flows,
// and the database for a sink that writes one.
func (p *pipeline) healthChecks() []telemetry.Check {
	checks := []telemetry.Check{
		{Name: "kafka", Run: func(ctx context.Context) error { return bus.Ping(ctx, p.cfg.Brokers) }},
		{Name: "flows", Run: func(context.Context) error {
			if len(p.flows) == 0 {
				return errors.New("no flow loaded")
			}
			return nil
		}},
	}
	if p.db != nil {
		checks = append(checks, telemetry.Check{Name: "database", Run: p.db.PingContext})
	}
	return checks
}

// reachKafka sets how the process reaches its Kafka cluster (TLS, SASL)
// and stops it at start when the cluster refuses it: a wrong password or
// an untrusted certificate comes back on every try. ferry up's embedded
// broker speaks plaintext.
func reachKafka(ctx context.Context, cfg Config) error {
	if len(cfg.Brokers) == 0 {
		return bus.Secure(bus.Security{})
	}
	if err := bus.Secure(cfg.Kafka); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	return bus.CheckAccess(ctx, cfg.Brokers)
}
