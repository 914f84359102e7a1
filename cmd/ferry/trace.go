package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/ferry-data/ferry/internal/checkpoint"
	"github.com/ferry-data/ferry/lineage"
	"github.com/ferry-data/ferry/reconcile"
	"github.com/ferry-data/ferry/sinks/mysql"
)

// traceRecord prints one record's way through the flow (ferry trace).
func traceRecord(ctx context.Context, p *pipeline, out io.Writer) error {
	f := p.flows[0]
	s, err := loadSchema(f)
	if err != nil {
		return err
	}
	codec, err := p.codec(ctx, f, s, false)
	if err != nil {
		return err
	}
	cps, err := checkpoint.Open(ctx, p.cfg.Brokers, p.cfg.Topics)
	if err != nil {
		return err
	}
	defer cps.Close()
	c := lineage.Config{Flow: f, Schema: s, Codec: codec, Brokers: p.cfg.Brokers,
		Checkpoint: func() (time.Time, bool) {
			cp, ok := cps.Get(f.Name)
			return cp.End, ok
		}}
	if f.Target.Kind == "mysql" {
		if p.cfg.MySQLDSN == "" {
			return fmt.Errorf("ferry trace: flow %s writes MySQL: set FERRY_MYSQL_DSN or --mysql-dsn to read its row", f.Name)
		}
		if err := p.openDB(ctx, f); err != nil {
			return err
		}
		table := reconcile.Table{DB: p.db, Name: f.Target.Table, Schema: s, Zone: f.Target.Zone.Loc()}
		c.Row = func(ctx context.Context, key string) (time.Time, bool, error) {
			v, err := table.Versions(ctx, []string{key})
			if err != nil {
				return time.Time{}, false, err
			}
			at, ok := v[key]
			return at, ok, nil
		}
		w, err := mysql.New(p.db, s, mysql.Config{Table: f.Target.Table, Columns: f.Target.Columns, Zone: f.Target.Zone.Loc()})
		if err != nil {
			return err
		}
		c.SinkAt = func(ctx context.Context, partition int) (int64, error) {
			next, _, err := w.Position(ctx, f.CanonicalTopic(), partition)
			return next, err
		}
	}
	if p.cfg.TraceSource {
		src, err := p.source(f)
		if err != nil {
			return err
		}
		c.Source, c.VendorNow = src, p.vendorClock(f.Source.Vendor).Now
	}
	t, err := lineage.Run(ctx, c, p.cfg.TraceKey)
	if err != nil {
		return fmt.Errorf("ferry trace: flow %s: %w", f.Name, err)
	}
	t.Print(out, f)
	return nil
}
