package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/ferry-data/ferry/flows"
	"github.com/ferry-data/ferry/internal/bus"
)

// browser returns the path of Debian's chromium, which scripts/test.sh
// installs where it is missing; without it the test fails.
func browser(t *testing.T) string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Fatal("no chromium on PATH (apt-get install chromium, as scripts/test.sh does)")
	return ""
}

// artifact is where a test keeps what a person may want to look at after
// a run: FERRY_ARTIFACTS, or a folder in the temporary directory.
func artifact(t *testing.T, name string) string {
	dir := os.Getenv("FERRY_ARTIFACTS")
	if dir == "" {
		dir = filepath.Join(os.TempDir(), "ferry-artifacts")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return filepath.Join(dir, name)
}

// TestStatusPageInChromium opens the status page of a running ferry up in
// headless Chromium: it loads without a console error, and shows every
// flow with its state, window, checkpoint age and records a second by
// stage once it has refreshed; a flow's dead-letter count links to its
// dead letters grouped by reason. The screenshot is kept (artifact).
func TestStatusPageInChromium(t *testing.T) {
	exe := browser(t)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	// ferry up over the test's broker, which holds two dead letters of
	// the WDT flow.
	cluster, err := kfake.NewCluster(kfake.NumBrokers(1))
	if err != nil {
		t.Fatal(err)
	}
	defer cluster.Close()
	brokers := cluster.ListenAddrs()
	wdt, err := flows.Named("wdt_refunds")
	if err != nil {
		t.Fatal(err)
	}
	if err := bus.EnsureTopics(ctx, brokers, nil, bus.Topic{Name: wdt.DeadLetterTopic()}); err != nil {
		t.Fatal(err)
	}
	w := bus.NewWriter(brokers, nil)
	defer w.Close()
	for _, id := range []string{"1", "2"} {
		m := kafka.Message{Topic: wdt.Source.Topic, Partition: 0, Offset: 7, Key: []byte(id), Value: []byte(`{"refund_id":` + id + `}`)}
		if err := w.WriteMessages(ctx, bus.DeadLetter(m, wdt.DeadLetterTopic(), fmt.Errorf("field status: %q is not an integer", "x"+id))); err != nil {
			t.Fatal(err)
		}
	}
	cfg, err := parse([]string{"up", "--metrics", "127.0.0.1:0"}, func(k string) string {
		if k == "FERRY_KAFKA_BROKERS" {
			return strings.Join(brokers, ",")
		}
		return ""
	})
	if err != nil {
		t.Fatal(err)
	}
	log, addrs := logged(t, map[string]string{"serving metrics": "addr"})
	done := make(chan error, 1)
	go func() { done <- run(ctx, cfg, io.Discard, log) }()
	var addr string
	select {
	case addr = <-addrs["serving metrics"]:
	case err := <-done:
		t.Fatalf("ferry up ended: %v", err)
	}

	alloc, stopAlloc := chromedp.NewExecAllocator(ctx, append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe), chromedp.NoSandbox, chromedp.Flag("headless", "new"), chromedp.WindowSize(1400, 700))...)
	defer stopAlloc()
	bctx, stopBrowser := chromedp.NewContext(alloc)
	defer stopBrowser()
	var mu sync.Mutex
	var problems []string
	listen := func(ev any) {
		mu.Lock()
		defer mu.Unlock()
		switch ev := ev.(type) {
		case *runtime.EventConsoleAPICalled:
			if ev.Type == runtime.ConsoleAPICalledTypeError || ev.Type == runtime.ConsoleAPICalledTypeWarning {
				var args []string
				for _, a := range ev.Args {
					args = append(args, a.Description+fmt.Sprint(a.Value))
				}
				problems = append(problems, fmt.Sprintf("console.%s: %s", ev.Type, strings.Join(args, " ")))
			}
		case *runtime.EventExceptionThrown:
			problems = append(problems, fmt.Sprintf("exception: %s at %d:%d", ev.ExceptionDetails.Text, ev.ExceptionDetails.LineNumber, ev.ExceptionDetails.ColumnNumber))
		case *cdplog.EventEntryAdded:
			if ev.Entry.Level == cdplog.EntryLevelError || ev.Entry.Level == cdplog.EntryLevelWarning {
				problems = append(problems, fmt.Sprintf("%s: %s %s", ev.Entry.Level, ev.Entry.Text, ev.Entry.URL))
			}
		}
	}
	if err := chromedp.Listen(bctx, listen); err != nil {
		t.Fatal(err)
	}
	shipped, err := flows.Shipped()
	if err != nil {
		t.Fatal(err)
	}
	// Every flow's row, once the page has refreshed (rates need two
	// answers) and the flow has fetched records: name, a state, a window
	// or a dash, and a rate for "fetched".
	ready := fmt.Sprintf(`(() => {
		const rows = [...document.querySelectorAll("#flows tr")];
		return rows.length === %d && rows.every(r =>
			r.cells[1].textContent !== "" && /fetched [0-9.]+ \(/.test(r.cells[4].textContent));
	})()`, len(shipped))
	fail := func(step string, err error) {
		mu.Lock()
		defer mu.Unlock()
		t.Fatalf("status page: %s: %v (browser said: %v)", step, err, problems)
	}
	if _, err := chromedp.Call(bctx, cdplog.Enable, cdp.Empty{}); err != nil {
		fail("enable the log", err)
	}
	if err := chromedp.Do(bctx, chromedp.Navigate("http://"+addr+"/")); err != nil {
		fail("load", err)
	}
	if _, err := chromedp.Run(bctx, chromedp.Poll[bool](ready, chromedp.WithPollingTimeout(3*time.Minute))); err != nil {
		fail("every flow's figures", err)
	}
	rows, err := chromedp.Run(bctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll("#flows tr")].map(r => [...r.cells].map(c => c.textContent).join(" | "))`))
	if err != nil {
		fail("read the rows", err)
	}
	// The WDT flow's dead letters, grouped, from its count's link.
	if _, err := chromedp.Run(bctx, chromedp.Poll[bool](`(() => {
		const a = document.querySelector('#flows a[data-flow="wdt_refunds"]');
		if (!a || a.textContent !== "2") return false;
		a.click();
		return true;
	})()`, chromedp.WithPollingTimeout(time.Minute))); err != nil {
		fail("the WDT flow's dead-letter link", err)
	}
	groups, err := chromedp.Run(bctx, chromedp.Poll[[]string](`(() => {
		const rows = [...document.querySelectorAll("#dead-letter-groups tr")];
		return rows.length > 0 && !document.getElementById("dead-letters").hidden &&
			rows.map(r => [...r.cells].map(c => c.textContent).join(" | "));
	})()`, chromedp.WithPollingTimeout(time.Minute)))
	if err != nil {
		fail("the WDT flow's dead letters", err)
	}
	if len(groups) != 1 || !strings.HasPrefix(groups[0], "2 | 2 | processor | ") || !strings.HasSuffix(groups[0], ` | field status: "…" is not an integer`) {
		t.Errorf("dead letters shown as %q", groups)
	}
	shot, err := chromedp.Run(bctx, chromedp.FullScreenshot(100))
	if err != nil {
		fail("screenshot", err)
	}
	path := artifact(t, "status-page.png")
	if err := os.WriteFile(path, shot, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", path)
	for _, f := range shipped {
		found := false
		for _, r := range rows {
			found = found || strings.HasPrefix(r, f.Name+" | ")
		}
		if !found {
			t.Errorf("no row for flow %s in %q", f.Name, rows)
		}
	}
	mu.Lock()
	for _, p := range problems {
		t.Errorf("browser: %s", p)
	}
	mu.Unlock()
	cancel()
	if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
		t.Fatalf("ferry up: %v", err)
	}
}
