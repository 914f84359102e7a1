package main

import (
	"bytes"
	"context"
	"database/sql"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ferry-data/ferry/flows"
	"github.com/ferry-data/ferry/internal/bus"
	"github.com/ferry-data/ferry/internal/mysqltest"
	"github.com/ferry-data/ferry/processors"
	"github.com/ferry-data/ferry/sinks"
	"github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kfake"
)

// flowRun runs ferry's commands on one flow of a flow directory, in
// process, over the test's broker and database.
type flowRun struct {
	t       *testing.T
	ctx     context.Context
	brokers []string
	db      *sql.DB
	env     map[string]string
	dir     string
	file    string // the flow's file, in dir
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

// newFlowRun gives a test a kfake broker, a MariaDB database and a flow
// directory holding the shipped flow name with each edit (old text, new
// text) made; an edit that finds nothing fails the test, since the
// shipped file moved under it. env adds settings to the broker's and the
// database's.
func newFlowRun(t *testing.T, name string, env map[string]string, edits ...[2]string) *flowRun {
	t.Helper()
	cluster, err := kfake.NewCluster(kfake.NumBrokers(1))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cluster.Close)
	t.Cleanup(kafka.DefaultTransport.(*kafka.Transport).CloseIdleConnections)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	db, dsn := mysqltest.New(t)
	dir := t.TempDir()
	r := &flowRun{t: t, ctx: ctx, brokers: cluster.ListenAddrs(), db: db, dir: dir, file: filepath.Join(dir, name+".yaml"),
		env: map[string]string{"FERRY_KAFKA_BROKERS": strings.Join(cluster.ListenAddrs(), ","), "FERRY_MYSQL_DSN": dsn}}
	maps.Copy(r.env, env)
	text, err := os.ReadFile(filepath.Join("..", "..", "flows", name+".yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range edits {
		edited := bytes.Replace(text, []byte(e[0]), []byte(e[1]), 1)
		if bytes.Equal(edited, text) {
			t.Fatalf("flows/%s.yaml no longer holds %q", name, e[0])
		}
		text = edited
	}
	r.write(text)
	return r
}

// write replaces the flow's file with text, and reads it back.
func (r *flowRun) write(text []byte) {
	r.t.Helper()
	if err := os.WriteFile(r.file, text, 0o644); err != nil {
		r.t.Fatal(err)
	}
	f, err := flows.Load(r.file)
	if err != nil {
		r.t.Fatal(err)
	}
	r.flow = f
}
