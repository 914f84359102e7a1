package banniu_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/time/rate"

	"github.com/ferry-data/ferry/internal/backoff"
	"github.com/ferry-data/ferry/internal/sandbox"
	"github.com/ferry-data/ferry/internal/vendortest"
	"github.com/ferry-data/ferry/sinks/banniu"
	"github.com/ferry-data/ferry/sinks/banniu/banniusandbox"
	"github.com/ferry-data/ferry/vendors"
)

const project = banniusandbox.DefaultProject

type fixture struct {
	sb    *banniusandbox.Sandbox
	clock *sandbox.Clock
	srv   *httptest.Server
	calls atomic.Int64
	logs  *vendortest.LogWatch
	cfg   banniu.Config
	// before runs before the sandbox answers call n (1-based).
	before func(n int64)
}

// newFixture serves a sandbox on a settable clock. The clock stands still,
// so the sandbox's per-second quota is off unless sc sets one.
func newFixture(t testing.TB, sc banniusandbox.Config) *fixture {
	t.Helper()
	clock := sandbox.NewClock(time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC))
	sc.Now = clock.Now
	if sc.PerSecond == 0 {
		sc.PerSecond = -1
	}
	f := &fixture{sb: banniusandbox.New(sc), clock: clock, logs: &vendortest.LogWatch{}}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := f.calls.Add(1)
		if f.before != nil {
			f.before(n)
		}
		f.sb.ServeHTTP(w, r)
	}))
	t.Cleanup(f.srv.Close)
	c := f.sb.Config()
	f.cfg = banniu.Config{
		URL: f.srv.URL + "/gateway/api/miniAPI", AppKey: c.AppKey, AppSecret: c.AppSecret, AccessToken: c.AccessToken,
		Options: vendors.Options{Limit: rate.Inf, Backoff: backoff.Policy{Base: time.Millisecond, Max: 2 * time.Millisecond}, Timeout: time.Second, Now: clock.Now, Logger: f.logs.Logger()},
	}
	return f
}

func (f *fixture) client(t testing.TB) *banniu.Client {
	t.Helper()
	c, err := banniu.New(f.cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func (f *fixture) task(t *testing.T, id int64) banniusandbox.Task {
	t.Helper()
	for _, tk := range f.sb.Tasks(project) {
		if tk.ID == id {
			return tk
		}
	}
	t.Fatalf("no task %d", id)
	return banniusandbox.Task{}
}

func TestTaskListPages(t *testing.T) {
	f := newFixture(t, banniusandbox.Config{Tasks: 25, Settings: sandbox.Settings{Seed: 1}})
	c := f.client(t)
	seen := map[int64]bool{}
	for pg, want := range []int{10, 10, 5} {
		rows, err := c.TaskList(context.Background(), project, nil, pg+1, 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) != want {
			t.Fatalf("page %d: %d rows, want %d", pg+1, len(rows), want)
		}
		for _, r := range rows {
			id, err := banniu.TaskID(r)
			if err != nil {
				t.Fatal(err)
			}
			seen[id] = true
		}
	}
	if len(seen) != 25 {
		t.Fatalf("three pages held %d distinct tasks, want 25", len(seen))
	}
	if _, err := c.TaskList(context.Background(), project, nil, 0, 10); err == nil || f.calls.Load() != 3 {
		t.Fatalf("page 0 was sent (err %v)", err)
	}
	if _, err := c.TaskList(context.Background(), project, nil, 1, banniu.MaxPageSize+1); err == nil || f.calls.Load() != 3 {
		t.Fatalf("an oversized page was sent (err %v)", err)
	}
}

// TestTaskListSearchesAColumn: condition_column finds a task by a custom
// column's text; rows carry the id as "-1" (string) and "0" (number).
func TestTaskListSearchesAColumn(t *testing.T) {
	f := newFixture(t, banniusandbox.Config{Tasks: 40, Settings: sandbox.Settings{Seed: 2}})
	id := f.sb.AddTask(project, map[string]any{"77213": "3896512277430159921"})
	rows, err := f.client(t).TaskList(context.Background(), project, []banniu.Condition{banniu.Equals(77213, "3896512277430159921")}, 1, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 1 {
		t.Fatalf("%d rows, want 1", len(rows))
	}
	got, err := banniu.TaskID(rows[0])
	if err != nil || got != id || rows[0]["0"] != float64(id) || rows[0]["77213"] != "3896512277430159921" {
		t.Fatalf("row %v (id %d, %v), want task %d", rows[0], got, err, id)
	}
}

func TestUpdateTask(t *testing.T) {
	f := newFixture(t, banniusandbox.Config{Tasks: 5, Settings: sandbox.Settings{Seed: 3}})
	id := f.sb.Tasks(project)[2].ID
	f.clock.Advance(time.Minute)
	err := f.client(t).UpdateTask(context.Background(), banniusandbox.DefaultApp, project, id, map[string]any{"78538": 78534, "77215": "已出库"})
	if err != nil {
		t.Fatal(err)
	}
	tk := f.task(t, id)
	if tk.Content["78538"] != int64(78534) || tk.Content["77215"] != "已出库" || tk.Updates != 1 || !tk.Modified.Equal(f.clock.Now()) {
		t.Fatalf("task after the update: %+v", tk)
	}
}

// TestRetriesUntilTheVendorAnswers: throttling (code 1007, HTTP 200), 502,
// slow 504 and truncated bodies are retried; the call then succeeds.
func TestRetriesUntilTheVendorAnswers(t *testing.T) {
	for _, tc := range []struct {
		name   string
		faults sandbox.Faults
		stat   func(banniusandbox.Stats) int
		logged string
	}{
		{"throttled", sandbox.Faults{ThrottleRate: 1}, func(s banniusandbox.Stats) int { return s.Throttled }, "throttled: code 1007: 调用频率超限"},
		{"failing", sandbox.Faults{FailRate: 1, SlowDelay: 5 * time.Millisecond}, func(s banniusandbox.Stats) int { return s.Failed }, "transient"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, banniusandbox.Config{Tasks: 30, Settings: sandbox.Settings{Seed: 4, Faults: tc.faults}})
			f.before = func(n int64) {
				if n == 7 {
					f.sb.SetFaults(sandbox.Faults{})
				}
			}
			rows, err := f.client(t).TaskList(context.Background(), project, nil, 1, 50)
			if err != nil {
				t.Fatal(err)
			}
			if len(rows) != 30 {
				t.Fatalf("got %d rows, want 30", len(rows))
			}
			if got := tc.stat(f.sb.Stats()); got != 6 {
				t.Fatalf("%d faults before the answer, want 6", got)
			}
			if !strings.Contains(f.logs.String(), tc.logged) || !strings.Contains(f.logs.String(), "level=WARN") {
				t.Fatalf("log does not name the failure %q at Warn:\n%s", tc.logged, f.logs)
			}
		})
	}
}

// TestQuotaThrottleIsRetried: over the sandbox's per-second quota the call
// is throttled, and retried until the next second admits it.
func TestQuotaThrottleIsRetried(t *testing.T) {
	f := newFixture(t, banniusandbox.Config{Tasks: 3, PerSecond: 2, Settings: sandbox.Settings{Seed: 5}})
	f.before = func(n int64) {
		if n == 5 {
			f.clock.Advance(time.Second)
		}
	}
	c := f.client(t)
	for range 3 {
		if _, err := c.TaskList(context.Background(), project, nil, 1, 10); err != nil {
			t.Fatal(err)
		}
	}
	if s := f.sb.Stats(); s.Served != 3 || s.Throttled != 2 {
		t.Fatalf("stats = %+v, want 3 served after 2 throttled", s)
	}
}

// TestTimeoutIsRetried: a call that outlives the client's timeout is
// retried.
func TestTimeoutIsRetried(t *testing.T) {
	f := newFixture(t, banniusandbox.Config{Tasks: 10, Settings: sandbox.Settings{Seed: 6}})
	release := make(chan struct{})
	f.before = func(n int64) {
		if n == 1 {
			<-release // hang the first call until the client gave up on it
		}
	}
	f.cfg.Timeout = 50 * time.Millisecond
	go func() {
		<-f.logs.Seen("backing off")
		close(release)
	}()
	rows, err := f.client(t).TaskList(context.Background(), project, nil, 1, 50)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 10 || f.calls.Load() < 2 {
		t.Fatalf("%d rows after %d calls", len(rows), f.calls.Load())
	}
}

// TestVendorErrorsAreNamed: refusals are not retried and reach the caller
// as *APIError with the vendor's code and message.
func TestVendorErrorsAreNamed(t *testing.T) {
	for _, tc := range []struct {
		name    string
		tweak   func(*banniu.Config)
		task    int64 // 0: a task that exists
		value   any
		code    int
		message string
	}{
		{"bad signature", func(c *banniu.Config) { c.AppSecret = "wrong" }, 0, 78534, 1001, "签名错误"},
		{"wrong token", func(c *banniu.Config) { c.AccessToken = "expired" }, 0, 78534, 1004, "access_token无效或已过期"},
		{"unknown task", nil, 1, 78534, 1008, "工单不存在: 1"},
		{"bad option", nil, 0, 12345, 1006, "列78538(销售出库)的值无效: 12345"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, banniusandbox.Config{Tasks: 5, Settings: sandbox.Settings{Seed: 7}})
			if tc.tweak != nil {
				tc.tweak(&f.cfg)
			}
			id := tc.task
			if id == 0 {
				id = f.sb.Tasks(project)[0].ID
			}
			err := f.client(t).UpdateTask(context.Background(), banniusandbox.DefaultApp, project, id, map[string]any{"78538": tc.value})
			var ae *banniu.APIError
			if !errors.As(err, &ae) {
				t.Fatalf("error %v, want an *APIError", err)
			}
			if ae.Code != tc.code || ae.Message != tc.message || ae.Method != "task.update" {
				t.Fatalf("error %+v, want code %d %q", ae, tc.code, tc.message)
			}
			if n := f.calls.Load(); n != 1 {
				t.Fatalf("a refused call was tried %d times", n)
			}
		})
	}
}

// TestSecretsStayOutOfLogs: the app secret, the access token and
// signatures never reach a log line or an error, even when calls fail at
// the transport level.
func TestSecretsStayOutOfLogs(t *testing.T) {
	f := newFixture(t, banniusandbox.Config{Tasks: 5, Settings: sandbox.Settings{Seed: 8, Faults: sandbox.Faults{FailRate: 1, ThrottleRate: 0.3, SlowDelay: time.Millisecond}}})
	f.before = func(n int64) {
		if n == 10 {
			f.sb.SetFaults(sandbox.Faults{})
		}
	}
	c := f.client(t)
	id := f.sb.Tasks(project)[0].ID
	if err := c.UpdateTask(context.Background(), banniusandbox.DefaultApp, project, id, map[string]any{"78538": 78534}); err != nil {
		t.Fatal(err)
	}
	// A refusal and a dead endpoint: transport errors carry the URL.
	wrong := f.cfg
	wrong.AppSecret = "another-secret"
	bad, _ := banniu.New(wrong)
	err1 := bad.UpdateTask(context.Background(), banniusandbox.DefaultApp, project, id, map[string]any{"78538": 78534})
	f.cfg.URL = "http://127.0.0.1:1/gateway/api/miniAPI"
	f.before = nil
	ctx := f.logs.CancelWhenSeen(context.Background(), "127.0.0.1:1")
	_, err2 := f.client(t).TaskList(ctx, project, []banniu.Condition{banniu.Equals(77213, "1")}, 1, 10)
	if err1 == nil || err2 == nil {
		t.Fatalf("errors %v, %v", err1, err2)
	}
	cfg := f.sb.Config()
	out := vendortest.Exposed(f.logs.String(), err1, err2)
	vendortest.NoLeak(t, out, cfg.AppSecret, "another-secret", cfg.AccessToken, "sign=", "Bearer")
}
