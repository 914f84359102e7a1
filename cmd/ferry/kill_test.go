package main

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ferry-data/ferry/internal/bus"
	"github.com/ferry-data/ferry/internal/sandbox"
	"github.com/ferry-data/ferry/processors"
	"github.com/ferry-data/ferry/producers/wdt/wdtsandbox"
)

// TestMain lets the test binary run as ferry itself, for tests that run
// ferry's roles as processes of their own.
func TestMain(m *testing.M) {
	if os.Getenv("FERRY_TEST_MAIN") == "1" {
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// process is one ferry role running as a process of its own.
type process struct {
	role string
	cmd  *exec.Cmd
	done chan error
}

// startProcess runs ferry <role> for the harness's flow, against its
// broker and database, with a session timeout of two seconds.
func (h *harness) startProcess(role string) *process {
	h.t.Helper()
	cmd := exec.Command(os.Args[0], role, "--flow", h.flow.Name)
	cmd.Env = append(os.Environ(), "FERRY_TEST_MAIN=1",
		"FERRY_KAFKA_BROKERS="+h.pipe.cfg.Brokers[0], "FERRY_MYSQL_DSN="+h.pipe.cfg.MySQLDSN,
		"FERRY_GROUP_SESSION_TIMEOUT=2s", "FERRY_LOG_LEVEL=info", "FERRY_SCHEMA_REGISTRY_URL="+h.pipe.cfg.Registry.URL)
	out := &testLog{t: h.t}
	h.t.Cleanup(out.flush)
	h.procs++
	w := prefixed{fmt.Sprintf("%s#%d: ", role, h.procs), out}
	cmd.Stdout, cmd.Stderr = w, w
	if err := cmd.Start(); err != nil {
		h.t.Fatal(err)
	}
	p := &process{role: role, cmd: cmd, done: make(chan error, 1)}
	go func() { p.done <- cmd.Wait() }()
	h.t.Cleanup(func() { p.kill(syscall.SIGTERM) })
	return p
}

// prefixed writes lines with a prefix.
type prefixed struct {
	prefix string
	w      io.Writer
}

func (p prefixed) Write(b []byte) (int, error) {
	for _, line := range strings.SplitAfter(string(b), "\n") {
		if line != "" {
			p.w.Write([]byte(p.prefix + line))
		}
	}
	return len(b), nil
}

// kill signals the process and waits for it to end.
func (p *process) kill(sig syscall.Signal) {
	if p.cmd.ProcessState != nil {
		return
	}
	_ = p.cmd.Process.Signal(sig)
	<-p.done
	p.done <- nil // for a second kill
}

// TestKilledReplicasResume runs the WDT flow's processor and sink as two
// processes each, with a two-second session timeout, and the producer in
// the test. Round after round it kills a replica with SIGKILL (chosen by
// a seeded draw), starts another at once, as Kubernetes would, publishes
// a new pass, and measures the time from the kill until both groups have
// consumed everything published: the time to resume. It prints each and
// the median (goal: 5s or less), and the table must then equal the
// sandbox's truth.
func TestKilledReplicasResume(t *testing.T) {
	h, sb := newWDT(t, wdtsandbox.Config{Records: 800, Settings: sandbox.Settings{Seed: 21, MutationsPerSecond: churning.mutations, CreationsPerSecond: churning.creations, MutationsPerCall: churning.perCall}})
	// The topics exist before the processes start, so that the test can
	// wait on them from the first pass.
	if err := bus.EnsureTopics(h.ctx, h.pipe.cfg.Brokers, nil, processors.Topics(h.flow, h.pipe.topics(h.flow))...); err != nil {
		t.Fatal(err)
	}
	var ps []*process
	for _, role := range []string{"processor", "processor", "sink", "sink"} {
		ps = append(ps, h.startProcess(role))
	}
	if err := h.sync(h.ctx); err != nil {
		t.Fatal(err)
	}
	if err := drained(h.ctx, h.pipe.cfg.Brokers, h.flow); err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(21, 9))
	var took []time.Duration
	for round := range 6 {
		i := rng.IntN(len(ps))
		killed := time.Now()
		ps[i].kill(syscall.SIGKILL)
		ps[i] = h.startProcess(ps[i].role)
		// Three minutes of the vendor's changes, past the flow's lag: a
		// pass with records for every partition.
		h.clock.Advance(3 * time.Minute)
		before, _ := bus.EndOffsets(h.ctx, h.pipe.cfg.Brokers, h.flow.Source.Topic)
		if err := h.sync(h.ctx); err != nil {
			t.Fatal(err)
		}
		after, _ := bus.EndOffsets(h.ctx, h.pipe.cfg.Brokers, h.flow.Source.Topic)
		var fresh []int64
		for p := range len(after) {
			fresh = append(fresh, after[p]-before[p])
		}
		ctx, cancel := context.WithTimeout(h.ctx, time.Minute)
		err := drained(ctx, h.pipe.cfg.Brokers, h.flow)
		cancel()
		if err != nil {
			t.Fatalf("round %d: after a %s was killed: %v", round, ps[i].role, err)
		}
		took = append(took, time.Since(killed))
		t.Logf("round %d: a %s killed; the pass (%v raw records by partition) consumed %v later", round, ps[i].role, fresh, took[round].Round(10*time.Millisecond))
	}
	slices.Sort(took)
	t.Logf("resume after SIGKILL: median %v, slowest %v (goal: median 5s or less)", took[len(took)/2].Round(10*time.Millisecond), took[len(took)-1].Round(10*time.Millisecond))
	h.settle(0, sb)
	assertRefunds(h, sb)
}
