package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/ferry-data/ferry/flows"
	"github.com/ferry-data/ferry/internal/bus"
	"github.com/ferry-data/ferry/producers"
	"github.com/ferry-data/ferry/reconcile"
	"github.com/ferry-data/ferry/schemas"
)

// errDifferences makes ferry reconcile exit 1 after printing its report.
var errDifferences = errors.New("the target differs from the source")

// reconcileFlows reconciles each flow named, in turn: it goes on past a
// flow that differs, and reports ErrDifferences at the end if any did.
func reconcileFlows(ctx context.Context, p *pipeline, stdout io.Writer) error {
	ps, err := p.buildProducers(ctx)
	if err != nil {
		return err
	}
	differ := false
	for i, f := range p.flows {
		err := reconcileFlow(ctx, p, f, ps[i], stdout)
		if errors.Is(err, errDifferences) {
			differ = true
		} else if err != nil {
			return fmt.Errorf("flow %s: %w", f.Name, err)
		}
	}
	if differ {
		return errDifferences
	}
	return nil
}

// reconcileFlow compares a flow's target with its source over the range,
// prints the report, and with --repair re-polls the windows that differ
// through the producer path, waits until the pipeline drained, and
// compares again.
func reconcileFlow(ctx context.Context, p *pipeline, f *flows.Flow, prod *producers.Producer, stdout io.Writer) error {
	now := time.Now
	if p.now != nil {
		now = p.now
	}
	from, err := parseTime(p.cfg.From, now())
	if err != nil {
		return err
	}
	to, err := parseTime(p.cfg.To, now())
	if err != nil {
		return err
	}
	s, err := loadSchema(f)
	if err != nil {
		return err
	}
	check := func() (reconcile.Report, error) {
		dst, err := p.reconcileTarget(ctx, f, s)
		if err != nil {
			return reconcile.Report{}, err
		}
		return reconcile.Check(ctx, f, s, prod, dst, from, to)
	}
	report, err := check()
	if err != nil {
		return err
	}
	report.Print(stdout)
	if err := reconcile.Publish(ctx, p.cfg.Brokers, p.cfg.Topics, report, now()); err != nil {
		return err
	}
	if report.Clean() || !p.cfg.Repair {
		if !report.Clean() {
			return errDifferences
		}
		return nil
	}
	for _, w := range report.Windows {
		if w.Clean() {
			continue
		}
		p.log.Info("repairing a window", "flow", f.Name, "window", w.Window, "missing", len(w.Missing), "stale", len(w.Stale))
		if err := prod.Repoll(ctx, w.Window); err != nil {
			return err
		}
	}
	if f.Target.Deletes == "tombstone" {
		if err := tombstone(ctx, p, f, s, prod, report, to); err != nil {
			return err
		}
	}
	if err := drained(ctx, p.cfg.Brokers, f); err != nil {
		return err
	}
	if report, err = check(); err != nil {
		return err
	}
	fmt.Fprintln(stdout, "after repair:")
	report.Print(stdout)
	if err := reconcile.Publish(ctx, p.cfg.Brokers, p.cfg.Topics, report, now()); err != nil {
		return err
	}
	if !report.Clean() {
		return errDifferences
	}
	return nil
}

// tombstone publishes a tombstone to the canonical topic for every key the
// source no longer returns, once the time since the range showed that the
// record was not merely modified since.
func tombstone(ctx context.Context, p *pipeline, f *flows.Flow, s *schemas.Schema, prod *producers.Producer, report reconcile.Report, to time.Time) error {
	var gone []string
	for _, w := range report.Windows {
		gone = append(gone, w.Gone...)
	}
	if len(gone) == 0 {
		return nil
	}
	since := map[string]bool{}
	if !report.Windows[0].Full() {
		var err error
		if since, err = reconcile.Returned(ctx, f, s, prod, to, prod.Now().Add(-f.Source.Window.Lag.D())); err != nil {
			return err
		}
	}
	var msgs []kafka.Message
	for _, k := range gone {
		if since[k] {
			continue // modified after the range, not deleted
		}
		msgs = append(msgs, kafka.Message{Topic: f.CanonicalTopic(), Key: []byte(k), Headers: []kafka.Header{
			{Key: bus.HeaderFlow, Value: []byte(f.Name)},
			{Key: bus.HeaderError, Value: []byte("no longer returned by the source")},
		}})
	}
	p.log.Info("publishing tombstones for records gone upstream", "flow", f.Name, "keys", len(msgs))
	if err := p.kafkaWriter().WriteMessages(ctx, msgs...); err != nil {
		return fmt.Errorf("tombstones: %w", err)
	}
	return nil
}

// reconcileTarget is what a flow's target holds, as reconcile reads it:
// the MySQL table, or the canonical topic read to its end.
func (p *pipeline) reconcileTarget(ctx context.Context, f *flows.Flow, s *schemas.Schema) (reconcile.Target, error) {
	switch f.Target.Kind {
	case "mysql":
		if err := p.openDB(ctx, f); err != nil {
			return nil, err
		}
		return reconcile.Table{DB: p.db, Name: f.Target.Table, Schema: s, Zone: f.Target.Zone.Loc()}, nil
	case "topic":
		codec, err := p.codec(ctx, f, s, false)
		if err != nil {
			return nil, err
		}
		return reconcile.ReadTopic(ctx, p.cfg.Brokers, f.CanonicalTopic(), s, codec)
	}
	return nil, fmt.Errorf("flow %s: reconcile does not read %s targets", f.Name, f.Target.Kind)
}
