package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/ferry-data/ferry/rebuild"
)

// rebuildFlow rebuilds the flow's MySQL table from its canonical topic and
// swaps it in.
func rebuildFlow(ctx context.Context, p *pipeline, out io.Writer) error {
	f := p.flows[0]
	if f.Target.Kind != "mysql" {
		return fmt.Errorf("ferry rebuild: flow %s writes no MySQL table (target %s)", f.Name, f.Target.Kind)
	}
	s, err := loadSchema(f)
	if err != nil {
		return err
	}
	if err := p.openDB(ctx, f); err != nil {
		return err
	}
	codec, err := p.codec(ctx, f, s, false)
	if err != nil {
		return err
	}
	var from time.Time
	if p.cfg.RebuildFrom != "" {
		if from, err = parseTime(p.cfg.RebuildFrom, time.Now()); err != nil {
			return err
		}
	}
	return rebuild.Run(ctx, rebuild.Config{Flow: f, Schema: s, Codec: codec, DB: p.db, Brokers: p.cfg.Brokers,
		Topics: p.topics(f), Session: p.cfg.Session, From: from, Keep: p.cfg.RebuildKeep, Abandon: p.cfg.RebuildAbandon,
		Progress: out, Log: p.log})
}
