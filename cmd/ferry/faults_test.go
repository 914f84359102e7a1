package main

import (
	"bytes"
	"context"
	"database/sql"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/ferry-data/ferry/flows"
	"github.com/ferry-data/ferry/internal/bus"
	"github.com/ferry-data/ferry/internal/mysqltest"
	"github.com/ferry-data/ferry/internal/sandbox"
	"github.com/ferry-data/ferry/internal/vendortest"
	"github.com/ferry-data/ferry/producers/jackyun/jackyunsandbox"
	"github.com/ferry-data/ferry/producers/wdt/wdtsandbox"
	"github.com/ferry-data/ferry/sinks/banniu/banniusandbox"
)

var (
	faultsSeed     = flag.Uint64("faults.seed", 1, "seed of TestFaults' schedule")
	faultsDuration = flag.Duration("faults.duration", 40*time.Second, "how long TestFaults injects faults (longer for a soak)")
)

// faultyListener hands out connections that the test can cut, all at
// once, or stall for a while: in front of kfake (whose advertised address
// it is, so every client of ferry goes through it) and of MariaDB.
type faultyListener struct {
	net.Listener
	mu    sync.Mutex
	conns map[net.Conn]bool
	gate  chan struct{} // while open, reads and writes wait; nil: none
}

func (l *faultyListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	fc := &faultyConn{Conn: c, l: l}
	l.mu.Lock()
	if l.conns == nil {
		l.conns = map[net.Conn]bool{}
	}
	l.conns[fc] = true
	l.mu.Unlock()
	return fc, nil
}

// cut closes every open connection.
func (l *faultyListener) cut() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := len(l.conns)
	for c := range l.conns {
		c.(*faultyConn).Conn.Close()
	}
	l.conns = map[net.Conn]bool{}
	return n
}

// stall holds every read and write for d.
func (l *faultyListener) stall(d time.Duration) {
	gate := make(chan struct{})
	l.mu.Lock()
	l.gate = gate
	l.mu.Unlock()
	time.AfterFunc(d, func() { close(gate) })
}

// wait holds a read or a write while the connections are stalled.
func (l *faultyListener) wait() {
	l.mu.Lock()
	gate := l.gate
	l.mu.Unlock()
	if gate != nil {
		<-gate
	}
}

type faultyConn struct {
	net.Conn
	l *faultyListener
}

func (c *faultyConn) Read(b []byte) (int, error)  { c.l.wait(); return c.Conn.Read(b) }
func (c *faultyConn) Write(b []byte) (int, error) { c.l.wait(); return c.Conn.Write(b) }
func (c *faultyConn) Close() error {
	c.l.mu.Lock()
	delete(c.l.conns, c)
	c.l.mu.Unlock()
	return c.Conn.Close()
}

// proxyTo forwards the listener's connections to target.
func proxyTo(l *faultyListener, target string) {
	for {
		c, err := l.Accept()
		if err != nil {
			return
		}
		u, err := net.Dial("tcp", target)
		if err != nil {
			c.Close()
			continue
		}
		go func() { io.Copy(u, c); u.Close() }()
		go func() { io.Copy(c, u); c.Close() }()
	}
}

// roleProcess is one ferry role run as a process of its own (the test
// binary as ferry, see TestMain), restarted by the test after each kill.
type roleProcess struct {
	role string
	bin  string
	args []string
	env  []string
	log  *syncBuffer // every incarnation's stderr

	mu     sync.Mutex
	cmd    *exec.Cmd
	done   chan struct{}
	killed bool
	exits  []string // exits the test did not cause
}

func (p *roleProcess) start(t *testing.T) {
	p.mu.Lock()
	defer p.mu.Unlock()
	cmd := exec.Command(p.bin, p.args...)
	cmd.Env, cmd.Stderr, cmd.Stdout = p.env, p.log, io.Discard
	fmt.Fprintf(p.log, "--- start %s\n", p.role)
	if err := cmd.Start(); err != nil {
		t.Fatalf("%s: %v", p.role, err)
	}
	done := make(chan struct{})
	p.cmd, p.done, p.killed = cmd, done, false
	mark := len(p.log.String())
	go func() {
		err := cmd.Wait()
		p.mu.Lock()
		if !p.killed {
			p.exits = append(p.exits, fmt.Sprintf("%v after:\n%s", err, lastLines(p.log.String()[mark:], 5)))
		}
		p.mu.Unlock()
		close(done)
	}()
}

// kill SIGKILLs the process and waits until it is gone.
func (p *roleProcess) kill() {
	p.mu.Lock()
	p.killed = true
	cmd, done := p.cmd, p.done
	p.mu.Unlock()
	cmd.Process.Signal(syscall.SIGKILL)
	<-done
}

// started waits until the current incarnation logged that it started.
func (p *roleProcess) started(ctx context.Context, since int) error {
	for !strings.Contains(p.log.String()[since:], "ferry started") {
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s never started again", p.role)
		case <-time.After(20 * time.Millisecond): // polling its log
		}
	}
	return nil
}

// TestFaults runs the producer, processor and sink of a WDT flow as
// separate ferry processes, over kfake (kept alive by the test), MariaDB
// and a sandbox whose refunds keep changing, and follows a seeded schedule
// of faults: SIGKILL of single roles and of pairs, at any moment, so
// mid-batch too; broker connections cut or stalled; database connections
// cut, stalled, or killed from the database's side. A Jackyun flow writes
// 班牛 tasks through the same processes. Then it lets the flows settle and
// compares the table with the WDT sandbox's truth (nothing missing,
// nothing stale) and the 班牛 tasks with the Jackyun trades (every update
// applied). It prints the faults, the duplicates each hop saw and the time
// each killed role took to start again; on failure, the command that
// replays the schedule. -faults.duration makes it a soak.
func TestFaults(t *testing.T) {
	seed, rnd := *faultsSeed, rand.New(rand.NewPCG(*faultsSeed, 17))
	replay := fmt.Sprintf("go test ./cmd/ferry -run '^TestFaults$' -faults.seed %d -faults.duration %s", seed, *faultsDuration)
	defer func() {
		if t.Failed() {
			t.Logf("replay: %s", replay)
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), *faultsDuration+4*time.Minute)
	defer cancel()

	dir := t.TempDir()
	bin := os.Args[0] // the test binary, which runs as ferry with FERRY_TEST_MAIN=1

	broker := &faultyListener{}
	cluster, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.GroupMinSessionTimeout(time.Second),
		kfake.ListenFn(func(network, addr string) (net.Listener, error) {
			ln, err := net.Listen(network, addr)
			broker.Listener = ln
			return broker, err
		}))
	if err != nil {
		t.Fatal(err)
	}
	defer cluster.Close()
	brokers := cluster.ListenAddrs()

	db, dsn := mysqltest.New(t)
	d, err := mysql.ParseDSN(dsn)
	if err != nil {
		t.Fatal(err)
	}
	user := fmt.Sprintf("faults_%08x", rnd.Uint32())
	for _, q := range []string{
		fmt.Sprintf("CREATE USER '%s'@'%%' IDENTIFIED BY 'faults'", user),
		fmt.Sprintf("GRANT ALL ON `%s`.* TO '%s'@'%%'", d.DBName, user),
	} {
		if _, err := db.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() { db.Exec(fmt.Sprintf("DROP USER '%s'@'%%'", user)) })
	dbProxy := &faultyListener{}
	if dbProxy.Listener, err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	defer dbProxy.Close()
	go proxyTo(dbProxy, d.Addr)
	d.User, d.Passwd, d.Addr = user, "faults", dbProxy.Addr().String()

	// The refunds' stamps start a minute after the flows' start
	// (FERRY_SINCE=6h, whenever the producer computes it): a refund
	// stamped before would lie outside every window, and rightly never be
	// read.
	sb := wdtsandbox.New(wdtsandbox.Config{Records: 300,
		Settings: sandbox.Settings{Seed: int64(seed), Since: time.Now().Add(-6*time.Hour + time.Minute), MutationsPerSecond: 4, CreationsPerSecond: 2, MutationsPerCall: 1,
			VisibilityLag: 2 * time.Second, Faults: sandbox.Faults{ThrottleRate: 0.03, FailRate: 0.03, SlowDelay: 5 * time.Millisecond}}})
	vendor := vendortest.Serve(t, sb)
	// Jackyun trades whose 班牛 tasks all exist from the start (no
	// creations, so none is parked for a task that comes late): a status
	// change must reach its task through every fault.
	jky := jackyunsandbox.New(jackyunsandbox.Config{Trades: 150, PerSecond: -1, PerMinute: -1,
		Settings: sandbox.Settings{Seed: int64(seed), Since: time.Now().Add(-6 * time.Hour), MutationsPerSecond: 3, MutationsPerCall: 1,
			VisibilityLag: 2 * time.Second, Faults: sandbox.Faults{ThrottleRate: 0.03, FailRate: 0.03, SlowDelay: 5 * time.Millisecond}}})
	bn := banniusandbox.New(banniusandbox.Config{Tasks: -1, PerSecond: -1,
		Settings: sandbox.Settings{Seed: int64(seed), Faults: sandbox.Faults{ThrottleRate: 0.03, FailRate: 0.03, SlowDelay: 5 * time.Millisecond}}})
	for _, tr := range jky.Truth() {
		bn.AddTask(banniusandbox.DefaultProject, map[string]any{"77213": tr["onlineTradeNo"]})
	}
	jkyServer, bnServer := vendortest.Serve(t, jky), vendortest.Serve(t, bn)

	// The shipped flows, with a lag and a poll that let them settle in
	// seconds, budgets that keep up with the sandboxes' changes, and the
	// Jackyun windows on consign time not shifted a day back (the seed's
	// −86400), so that today's shipments are read today. The overlap
	// shrinks with the poll (still five times the sandboxes' visibility
	// lag): every pass reads the overlap again, and five minutes of it
	// read every second would bury the processor in duplicates, a load
	// thirty times the shipped settings' (5m read every 30s).
	flowDir := filepath.Join(dir, "flows")
	os.MkdirAll(flowDir, 0o755)
	for name, edits := range map[string][][2]string{
		"wdt_refunds":           {{"lag: 2m", "lag: 1s"}, {"overlap: 5m", "overlap: 10s"}, {"rate: 1/s", "rate: 50/s"}},
		"jackyun_trades_banniu": {{"lag: 2m", "lag: 1s"}, {"overlap: 5m", "overlap: 10s"}, {"rate: 10/s", "rate: 50/s"}, {"-86400", "-0"}, {"-86400", "-0"}},
	} {
		text, err := os.ReadFile(filepath.Join("..", "..", "flows", name+".yaml"))
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range edits {
			text = bytes.Replace(text, []byte(e[0]), []byte(e[1]), 1)
		}
		if _, err := flows.Parse(name+".yaml", text); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(flowDir, name+".yaml"), text, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	env := append(os.Environ(), "FERRY_TEST_MAIN=1",
		"FERRY_KAFKA_BROKERS="+strings.Join(brokers, ","),
		"FERRY_MYSQL_DSN="+d.FormatDSN(),
		"FERRY_WDT_URL="+vendor.URL+"/openapi",
		"FERRY_JACKYUN_URL="+jkyServer.URL+"/open/openapi/do",
		"FERRY_BANNIU_URL="+bnServer.URL+"/gateway/api/miniAPI",
		"FERRY_SINCE=6h",
		"FERRY_POLL_INTERVAL=1s",
		"FERRY_GROUP_SESSION_TIMEOUT=1s",
		"FERRY_LOG_LEVEL=info",
	)
	for prefix, account := range map[string]map[string]string{"WDT": sb.Account(), "JACKYUN": jky.Account(), "BANNIU": bn.Account()} {
		for k, v := range account {
			env = append(env, "FERRY_"+prefix+"_"+k+"="+v)
		}
	}
	// Trades consigned from a minute after the flows' start are in their
	// windows, whenever each producer computes FERRY_SINCE.
	since := time.Now().Add(-6*time.Hour + time.Minute).In(cst).Format(time.DateTime)
	var procs []*roleProcess
	for _, role := range []string{"producer", "processor", "sink"} {
		p := &roleProcess{role: role, bin: bin, args: []string{role, "--flows", flowDir, "--flow", "wdt_refunds", "--flow", "jackyun_trades_banniu"}, env: env, log: &syncBuffer{}}
		procs = append(procs, p)
		p.start(t)
	}
	// The faults strike a running pipeline: each role has started once.
	for _, p := range procs {
		if err := p.started(ctx, 0); err != nil {
			t.Fatal(err)
		}
	}
	defer func() {
		for _, p := range procs {
			p.kill()
			if t.Failed() {
				path := artifact(t, "faults-"+p.role+".log")
				os.WriteFile(path, []byte(p.log.String()), 0o644)
				t.Logf("%s's log (whole in %s):\n%s", p.role, path, lastLines(p.log.String(), 60))
			}
		}
	}()

	// The schedule.
	counts := map[string]int{}
	var resumes []time.Duration
	restart := func(ps ...*roleProcess) {
		marks := make([]int, len(ps))
		killed := time.Now()
		for i, p := range ps {
			p.kill()
			marks[i] = len(p.log.String())
		}
		for i, p := range ps {
			p.start(t)
			if err := p.started(ctx, marks[i]); err != nil {
				t.Fatal(err)
			}
		}
		resumes = append(resumes, time.Since(killed))
	}
	// A fault strikes after every few vendor calls, whenever the flows
	// have moved on since the last.
	calls := func() int64 { return vendor.Calls() + jkyServer.Calls() + bnServer.Calls() }
	began := time.Now()
	end := began.Add(*faultsDuration)
	for time.Now().Before(end) {
		for next := calls() + int64(3+rnd.IntN(8)); calls() < next; {
			select {
			case <-ctx.Done():
				t.Fatalf("the flows stopped calling the vendors (%d calls)", calls())
			case <-time.After(20 * time.Millisecond): // polling the sandboxes' call counts
			}
		}
		switch f := rnd.IntN(7); f {
		case 0:
			restart(procs[rnd.IntN(3)])
			counts["kill one role"]++
		case 1:
			i := rnd.IntN(3)
			restart(procs[i], procs[(i+1+rnd.IntN(2))%3])
			counts["kill two roles"]++
		case 2:
			counts["broker connections cut"] += broker.cut()
		case 3:
			broker.stall(time.Duration(500+rnd.IntN(1500)) * time.Millisecond)
			counts["broker stalls"]++
		case 4:
			counts["database connections cut"] += dbProxy.cut()
		case 5:
			counts["database connections killed by the server"] += killSessions(t, ctx, db, user)
		case 6:
			dbProxy.stall(time.Duration(500+rnd.IntN(1500)) * time.Millisecond)
			counts["database stalls"]++
		}
	}

	// Settle: the sandboxes stop changing, and the flows catch up.
	faulted := time.Since(began)
	sb.Freeze()
	jky.Freeze()
	var missing, stale, unapplied []string
	var tasks int
	deadline := time.After(2 * time.Minute)
settle:
	for {
		missing, stale = compareRefunds(t, ctx, db, sb)
		unapplied, tasks = compareTasks(jky, bn, since)
		if len(missing)+len(stale)+len(unapplied) == 0 {
			break
		}
		select {
		case <-deadline:
			t.Errorf("after settling: %d missing (%v…), %d stale (%v…), %d 班牛 tasks not as their trades say (%v…)",
				len(missing), first(missing), len(stale), first(stale), len(unapplied), first(unapplied))
			for _, id := range first(append(missing, stale...)) {
				t.Logf("refund %s: raw at %v; canonical at %v", id,
					locate(t, brokers, "raw.wdt.refunds", id), locate(t, brokers, "canonical.refund.v1", id))
			}
			break settle
		case <-ctx.Done():
			t.Fatalf("the test ran out of time while settling, after %s of faults", faulted.Round(time.Second))
		case <-time.After(200 * time.Millisecond): // polling the table and the tasks while the flows catch up
		}
	}
	settled := time.Since(began) - faulted
	for _, p := range procs {
		p.mu.Lock()
		if len(p.exits) > 0 {
			t.Errorf("the %s exited on its own %d times:\n%s", p.role, len(p.exits), strings.Join(p.exits, "\n"))
		}
		p.mu.Unlock()
	}

	raw, rawKeys := topicCounts(t, ctx, brokers, "raw.wdt.refunds")
	canon, canonKeys := topicCounts(t, ctx, brokers, "canonical.refund.v1")
	sort.Slice(resumes, func(i, j int) bool { return resumes[i] < resumes[j] })
	var names []string
	for k := range counts {
		names = append(names, k)
	}
	sort.Strings(names)
	var b strings.Builder
	fmt.Fprintf(&b, "seed %d, %s of faults (%s with the last fault's wait), settled in %s:\n", seed, *faultsDuration,
		faulted.Round(time.Second), settled.Round(time.Second))
	for _, k := range names {
		fmt.Fprintf(&b, "  %-42s %d\n", k, counts[k])
	}
	fmt.Fprintf(&b, "  raw records %d for %d ids (duplicates %d); canonical records %d for %d keys (duplicates %d)\n",
		raw, rawKeys, raw-rawKeys, canon, canonKeys, canon-canonKeys)
	if len(resumes) > 0 {
		fmt.Fprintf(&b, "  time to start again after a kill: median %v, max %v\n", resumes[len(resumes)/2].Round(time.Millisecond), resumes[len(resumes)-1].Round(time.Millisecond))
	}
	fmt.Fprintf(&b, "  refunds: missing %d, stale %d; 班牛 tasks the flow updates %d, not applied %d\n", len(missing), len(stale), tasks, len(unapplied))
	fmt.Fprintf(&b, "  sandboxes: wdt %+v; jackyun %+v; banniu %+v", sb.Stats(), jky.Stats(), bn.Stats())
	t.Log(b.String())
	// go test shows a passing test's log only with -v: scripts/test.sh
	// prints this file instead, so that every CI log has the counts.
	if err := os.WriteFile(artifact(t, "faults-summary.txt"), []byte(b.String()+"\n"), 0o644); err != nil {
		t.Error(err)
	}
}

// killSessions kills the database sessions of user from the server's side.
func killSessions(t *testing.T, ctx context.Context, db *sql.DB, user string) int {
	rows, err := db.QueryContext(ctx, "SELECT ID FROM information_schema.PROCESSLIST WHERE USER = ?", user)
	if err != nil {
		t.Fatal(err)
	}
	var ids []int64
	for rows.Next() {
		var id int64
		rows.Scan(&id)
		ids = append(ids, id)
	}
	rows.Close()
	for _, id := range ids {
		db.ExecContext(ctx, fmt.Sprintf("KILL %d", id)) // it may have ended meanwhile
	}
	return len(ids)
}

// compareRefunds returns the ids of the truth missing from the table, and
// those the table holds at an older modification.
func compareRefunds(t *testing.T, ctx context.Context, db *sql.DB, sb *wdtsandbox.Sandbox) (missing, stale []string) {
	got := map[string]int64{}
	rows, err := db.QueryContext(ctx, "SELECT refund_id, CAST(UNIX_TIMESTAMP(modified) * 1000 AS SIGNED) FROM aftersales_refund_refund_search")
	if err != nil {
		if strings.Contains(err.Error(), "doesn't exist") {
			rows = nil
		} else {
			t.Fatal(err)
		}
	}
	for rows != nil && rows.Next() {
		var id string
		var mod int64
		if err := rows.Scan(&id, &mod); err != nil {
			t.Fatal(err)
		}
		got[id] = mod
	}
	if rows != nil {
		rows.Close()
	}
	for _, r := range sb.Truth() {
		id, mod := num(r["refund_id"]), int64(r["modified"].(float64))
		switch m, ok := got[id]; {
		case !ok:
			missing = append(missing, id)
		case m < mod:
			stale = append(stale, id)
		}
	}
	return missing, stale
}

// topicCounts reads a topic whole: its records, and its distinct keys.
func topicCounts(t *testing.T, ctx context.Context, brokers []string, topic string) (records, keys int) {
	seen := map[string]bool{}
	if err := bus.ReadAll(ctx, brokers, topic, func(m kafka.Message) {
		records++
		seen[string(m.Key)] = true
	}); err != nil {
		t.Fatal(err)
	}
	return records, len(seen)
}

// locate lists the partitions and offsets of a topic's records of key.
func locate(t *testing.T, brokers []string, topic, key string) []string {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var at []string
	if err := bus.ReadAll(ctx, brokers, topic, func(m kafka.Message) {
		if string(m.Key) == key {
			at = append(at, fmt.Sprintf("%d/%d", m.Partition, m.Offset))
		}
	}); err != nil {
		return append(at, err.Error())
	}
	return at
}

func first(ids []string) []string { return ids[:min(len(ids), 5)] }

// lastLines returns the last n lines of s.
func lastLines(s string, n int) string {
	lines := strings.Split(s, "\n")
	return strings.Join(lines[max(len(lines)-n, 0):], "\n")
}

// compareTasks returns the trades the flow selects whose 班牛 task does
// not say what the flow writes: a trade of type 92, consigned since
// (within the flows' windows), in status 6000 or 9090 must have 78534 in
// column 78538 of its task. (The flow writes, never clears: a task whose
// trade left those statuses keeps what it was given.)
func compareTasks(jky *jackyunsandbox.Sandbox, bn *banniusandbox.Sandbox, since string) (wrong []string, checked int) {
	got := map[string]any{}
	for _, tk := range bn.Tasks(banniusandbox.DefaultProject) {
		got[fmt.Sprint(tk.Content["77213"])] = tk.Content["78538"]
	}
	for _, tr := range jky.Truth() {
		no := fmt.Sprint(tr["onlineTradeNo"])
		consign, _ := tr["consignTime"].(string)
		status := num(tr["tradeStatus"])
		if num(tr["tradeType"]) != "92" || consign < since || (status != "6000" && status != "9090") {
			continue
		}
		if checked++; fmt.Sprint(got[no]) != "78534" {
			wrong = append(wrong, no)
		}
	}
	return wrong, checked
}
