package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/ferry-data/ferry/internal/mysqltest"
	"github.com/ferry-data/ferry/internal/sandbox"
	"github.com/ferry-data/ferry/internal/vendortest"
	"github.com/ferry-data/ferry/producers/wdt/wdtsandbox"
)

// BenchmarkStartup starts each role of the WDT refunds flow as its own
// process, built as the image builds it (-tags noembeddb), against kfake,
// MariaDB and a WDT sandbox, with its metrics port open; and the baseline,
// a role written by hand with the same libraries (testdata/plainrole):
//
//	go test -run x -bench Startup -benchtime 3x ./cmd/ferry/
//
// Reported, for each: milliseconds from exec to its "ferry started" line,
// and its peak resident memory over its first second (VmHWM), in MiB;
// and each role's start time and memory over the baseline's.
func BenchmarkStartup(b *testing.B) {
	dir := b.TempDir()
	bins := map[string]string{"ferry": filepath.Join(dir, "ferry"), "plain": filepath.Join(dir, "plain")}
	for name, args := range map[string][]string{"ferry": {"-tags", "noembeddb", "."}, "plain": {"./testdata/plainrole"}} {
		cmd := exec.Command("go", append([]string{"build", "-o", bins[name]}, args...)...)
		if out, err := cmd.CombinedOutput(); err != nil {
			b.Fatalf("go build %s: %v\n%s", name, err, out)
		}
	}
	cluster, err := kfake.NewCluster(kfake.NumBrokers(1))
	if err != nil {
		b.Fatal(err)
	}
	defer cluster.Close()
	_, dsn := mysqltest.New(b)
	sb := wdtsandbox.New(wdtsandbox.Config{Records: 10, Settings: sandbox.Settings{Seed: 1}})
	vendor := vendortest.Serve(b, sb)
	env := append(os.Environ(), "FERRY_KAFKA_BROKERS="+strings.Join(cluster.ListenAddrs(), ","), "FERRY_MYSQL_DSN="+dsn,
		"FERRY_WDT_URL="+vendor.URL+"/openapi", "FERRY_METRICS_ADDR=127.0.0.1:0", "FERRY_LOG_LEVEL=info")
	for k, v := range sb.Account() {
		env = append(env, "FERRY_WDT_"+k+"="+v)
	}
	runs := map[string][]string{"plain": nil}
	for _, role := range []string{"producer", "processor", "sink"} {
		runs[role] = []string{role, "--flow", "wdt_refunds"}
	}
	start, peak := map[string]time.Duration{}, map[string]float64{}
	b.ResetTimer()
	for range b.N {
		for name, args := range runs {
			bin := bins["ferry"]
			if name == "plain" {
				bin = bins["plain"]
			}
			took, mib, err := startOnce(bin, args, env)
			if err != nil {
				b.Fatalf("%s: %v", name, err)
			}
			start[name] += took
			peak[name] += mib
		}
	}
	n := float64(b.N)
	ms := func(d time.Duration) float64 { return d.Seconds() * 1000 / n }
	b.ReportMetric(ms(start["plain"]), "plain-start-ms")
	b.ReportMetric(peak["plain"]/n, "plain-peak-MiB")
	for _, role := range []string{"producer", "processor", "sink"} {
		b.ReportMetric(ms(start[role]), role+"-start-ms")
		b.ReportMetric(peak[role]/n, role+"-peak-MiB")
		b.ReportMetric(start[role].Seconds()/start["plain"].Seconds(), role+"-start-ratio")
		b.ReportMetric(peak[role]/peak["plain"], role+"-peak-ratio")
	}
}

// startOnce runs bin until it logs "ferry started", then for a second
// more, and returns how long the start took and its peak resident memory
// in MiB; then it stops it with SIGTERM.
func startOnce(bin string, args, env []string) (time.Duration, float64, error) {
	cmd := exec.Command(bin, args...)
	cmd.Env = env
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return 0, 0, err
	}
	began := time.Now()
	if err := cmd.Start(); err != nil {
		return 0, 0, err
	}
	defer cmd.Wait()
	defer cmd.Process.Signal(syscall.SIGTERM)
	started := make(chan time.Duration, 1)
	go func() {
		s := bufio.NewScanner(stderr)
		for s.Scan() {
			if strings.Contains(s.Text(), "ferry started") {
				started <- time.Since(began)
				break
			}
		}
		io.Copy(io.Discard, stderr)
	}()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var took time.Duration
	select {
	case took = <-started:
	case <-ctx.Done():
		return 0, 0, fmt.Errorf("never said it started")
	}
	// Idle memory is measured over a span, not at an event: the peak
	// covers the role's first second.
	select {
	case <-ctx.Done():
		return 0, 0, ctx.Err()
	case <-time.After(time.Second):
	}
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", cmd.Process.Pid))
	if err != nil {
		return 0, 0, err
	}
	for line := range strings.SplitSeq(string(status), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 64)
			return took, kb / 1024, err
		}
	}
	return 0, 0, fmt.Errorf("no VmHWM in /proc/%d/status", cmd.Process.Pid)
}
