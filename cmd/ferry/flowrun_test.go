package main

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/ferry-data/ferry/flows"
	"github.com/ferry-data/ferry/internal/bus"
	"github.com/ferry-data/ferry/processors"
	"github.com/ferry-data/ferry/sinks"
)

// flowRun runs ferry's commands on one flow of a flow directory, in
// process, over the test's broker and database.
type flowRun struct {
	t       *testing.T
	ctx     context.Context
	brokers []string
	env     map[string]string
	dir     string
	flow    *flows.Flow
}

// ferry runs a command on the flow and returns what it printed.
func (r *flowRun) ferry(args ...string) string {
	r.t.Helper()
	cfg, err := parse(append(args, "--flows", r.dir, "--flow", r.flow.Name), func(k string) string { return r.env[k] })
	if err != nil {
		r.t.Fatal(err)
	}
	var out bytes.Buffer
	if err := run(r.ctx, cfg, &out, slog.New(slog.DiscardHandler)); err != nil {
		r.t.Fatalf("ferry %s: %v\n%s", strings.Join(args, " "), err, out.String())
	}
	return out.String()
}

// drain runs the flow's processor and sink until both have handled
// everything in their topics.
func (r *flowRun) drain() {
	r.t.Helper()
	ctx, stop := context.WithCancel(r.ctx)
	var wg sync.WaitGroup
	for _, role := range []string{"processor", "sink"} {
		cfg, err := parse([]string{role, "--flows", r.dir, "--flow", r.flow.Name}, func(k string) string { return r.env[k] })
		if err != nil {
			r.t.Fatal(err)
		}
		wg.Go(func() { _ = run(ctx, cfg, &bytes.Buffer{}, slog.New(slog.DiscardHandler)) })
	}
	// The processor first: the sink's end is what the processor wrote.
	for _, gt := range [][2]string{{processors.Group(r.flow), r.flow.Source.Topic}, {sinks.Group(r.flow), r.flow.CanonicalTopic()}} {
		group, topic := gt[0], gt[1]
		if err := waitTopic(r.ctx, r.brokers, topic); err != nil {
			r.t.Fatal(err)
		}
		end, err := bus.EndOffsets(r.ctx, r.brokers, topic)
		if err != nil {
			r.t.Fatal(err)
		}
		if err := bus.WaitCaughtUp(r.ctx, r.brokers, group, topic, end); err != nil {
			r.t.Fatal(err)
		}
	}
	stop()
	wg.Wait()
}
