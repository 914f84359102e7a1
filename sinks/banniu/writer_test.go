package banniu_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/ferry-data/ferry/flows"
	"github.com/ferry-data/ferry/internal/sandbox"
	"github.com/ferry-data/ferry/sinks/banniu"
	"github.com/ferry-data/ferry/sinks/banniu/banniusandbox"
)

// seedTarget is seed 002's target block as its flow file writes it.
const seedTarget = `target:
  kind: banniu
  api: task.update
  effect: EXECUTE
  method: POST
  idCheck: true
  rate: 10/s
  giveUp: 24h
  request:
    - {field: app_id, label: 小程序id, type: int, value: "21151"}
    - {field: project_id, label: 群组ID, type: int, value: "77206"}
    - field: task_id
      label: 工单id
      type: int
      value: '_mongoQuery 73f95f22-03a2-3f8a-aa21-4c08c541daf4 findField=id where={"content.77213":{"$eq":"{onlineTradeNo}"}}'
    - field: contents
      label: contents
      type: object
      children:
        - {field: "78538", label: 销售出库, type: int, value: 78534}
`

// flow returns seed 002's flow with the given target block.
func flow(t *testing.T, target string) *flows.Flow {
	t.Helper()
	f, err := flows.Parse("jackyun_trades_banniu.yaml", []byte(`name: jackyun_trades_banniu
source:
  vendor: jackyun
  api: jackyun.tradenotsensitiveinfos.list.get
  id: tradeNo
  pagination: {pageSize: 1000}
  topic: raw.jackyun.trades
  rate: 10/s
processor:
  entity: trade_status
  zone: Asia/Shanghai
`+target))
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *fixture) writer(t *testing.T) *banniu.Writer {
	t.Helper()
	w, err := banniu.NewWriter(f.client(t), flow(t, seedTarget))
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// trade is a canonical trade-status record of seed 002.
func trade(onlineTradeNo string) map[string]any {
	return map[string]any{"tradeNo": "JY202403010001", "onlineTradeNo": onlineTradeNo, "tradeStatus": 9090}
}

// TestWriterUpdatesTheTaskOfTheTrade: the task whose 线上订单号 (77213) is
// the record's onlineTradeNo gets contents {78538: 78534}; no other task
// changes; the lookup and the update are one call each.
func TestWriterUpdatesTheTaskOfTheTrade(t *testing.T) {
	f := newFixture(t, banniusandbox.Config{Tasks: 60, Settings: sandbox.Settings{Seed: 11}})
	id := f.sb.AddTask(project, map[string]any{"77213": "3896512277430159921", "78538": 78535})
	before := f.sb.Tasks(project)

	if err := f.writer(t).WriteRecord(context.Background(), trade("3896512277430159921")); err != nil {
		t.Fatal(err)
	}
	for i, tk := range f.sb.Tasks(project) {
		switch {
		case tk.ID == id:
			if tk.Content["78538"] != int64(78534) || tk.Updates != 1 || tk.Content["77213"] != "3896512277430159921" {
				t.Fatalf("the trade's task after the write: %+v", tk)
			}
		case tk.Updates != 0 || !tk.Modified.Equal(before[i].Modified):
			t.Fatalf("task %d changed too", tk.ID)
		}
	}
	if n := f.calls.Load(); n != 2 {
		t.Fatalf("%d calls, want task.list + task.update", n)
	}
}

// TestWriterWaitsForTheTask: with no task for the trade yet, WriteRecord
// says ErrNotYet and changes nothing; once staff opened the task, and it
// showed after the sandbox's visibility lag, the same record lands.
func TestWriterWaitsForTheTask(t *testing.T) {
	const lag = 2 * time.Minute
	f := newFixture(t, banniusandbox.Config{Tasks: 30, Settings: sandbox.Settings{Seed: 12, VisibilityLag: lag}})
	w := f.writer(t)
	rec := trade("4120093357781026")

	err := w.WriteRecord(context.Background(), rec)
	var ae *banniu.APIError
	if !errors.Is(err, banniu.ErrNotYet) || errors.As(err, &ae) || !strings.Contains(err.Error(), "4120093357781026") {
		t.Fatalf("error %v, want ErrNotYet naming the trade", err)
	}
	id := f.sb.AddTask(project, map[string]any{"77213": "4120093357781026"})
	if err := w.WriteRecord(context.Background(), rec); !errors.Is(err, banniu.ErrNotYet) {
		t.Fatalf("a task still hidden by the lag was found: %v", err)
	}
	f.clock.Advance(lag)
	if err := w.WriteRecord(context.Background(), rec); err != nil {
		t.Fatal(err)
	}
	if tk := f.task(t, id); tk.Content["78538"] != int64(78534) || tk.Updates != 1 {
		t.Fatalf("task after the write: %+v", tk)
	}
	if s := f.sb.Stats(); s.Updates != 1 {
		t.Fatalf("stats = %+v, want one update", s)
	}
}

// TestWriterIsIdempotent: writing the same record again leaves the same
// contents.
func TestWriterIsIdempotent(t *testing.T) {
	f := newFixture(t, banniusandbox.Config{Tasks: 10, Settings: sandbox.Settings{Seed: 13}})
	id := f.sb.AddTask(project, map[string]any{"77213": "250301224466880"})
	w := f.writer(t)
	for range 2 {
		if err := w.WriteRecord(context.Background(), trade("250301224466880")); err != nil {
			t.Fatal(err)
		}
	}
	if tk := f.task(t, id); tk.Content["78538"] != int64(78534) || tk.Updates != 2 || len(tk.Content) != 2 {
		t.Fatalf("task after two writes: %+v", tk)
	}
}

// TestWriterPicksTheOldestOfSeveralTasks: two tasks for one trade is a
// data problem on the Banniu side; the oldest is updated, and the writer
// says so.
func TestWriterPicksTheOldestOfSeveralTasks(t *testing.T) {
	f := newFixture(t, banniusandbox.Config{Tasks: 10, Settings: sandbox.Settings{Seed: 14}})
	first := f.sb.AddTask(project, map[string]any{"77213": "777000111"})
	second := f.sb.AddTask(project, map[string]any{"77213": "777000111"})
	if err := f.writer(t).WriteRecord(context.Background(), trade("777000111")); err != nil {
		t.Fatal(err)
	}
	if f.task(t, first).Updates != 1 || f.task(t, second).Updates != 0 {
		t.Fatal("the oldest task was not the one updated")
	}
	if !strings.Contains(f.logs.String(), "several tasks match") {
		t.Fatalf("no warning:\n%s", f.logs)
	}
}

// TestWriterRetriesThrottling: throttled calls are retried by the writer
// itself, with the vendor's code in the log.
func TestWriterRetriesThrottling(t *testing.T) {
	f := newFixture(t, banniusandbox.Config{Tasks: 10, Settings: sandbox.Settings{Seed: 15, Faults: sandbox.Faults{ThrottleRate: 1}}})
	id := f.sb.AddTask(project, map[string]any{"77213": "5566778899"})
	f.before = func(n int64) {
		switch n {
		case 4:
			f.sb.SetFaults(sandbox.Faults{}) // the lookup gets through
		case 5:
			f.sb.SetFaults(sandbox.Faults{ThrottleRate: 1}) // the update is throttled
		case 8:
			f.sb.SetFaults(sandbox.Faults{})
		}
	}
	if err := f.writer(t).WriteRecord(context.Background(), trade("5566778899")); err != nil {
		t.Fatal(err)
	}
	if s := f.sb.Stats(); s.Throttled != 6 || s.Updates != 1 {
		t.Fatalf("stats = %+v, want 6 throttled and 1 update", s)
	}
	if f.task(t, id).Updates != 1 || !strings.Contains(f.logs.String(), "code 1007: 调用频率超限") {
		t.Fatalf("log:\n%s", f.logs)
	}
}

// TestWriterRefusals: a bad signature is a *APIError with code 1001, not a
// wait; a record without the lookup value is refused without a call.
func TestWriterRefusals(t *testing.T) {
	f := newFixture(t, banniusandbox.Config{Tasks: 10, Settings: sandbox.Settings{Seed: 16}})
	f.sb.AddTask(project, map[string]any{"77213": "112233"})
	f.cfg.AppSecret = "not-the-secret"
	err := f.writer(t).WriteRecord(context.Background(), trade("112233"))
	var ae *banniu.APIError
	if !errors.As(err, &ae) || ae.Code != 1001 || ae.Message != "签名错误" || errors.Is(err, banniu.ErrNotYet) {
		t.Fatalf("error %v, want *APIError code 1001", err)
	}
	if n := f.calls.Load(); n != 1 {
		t.Fatalf("a refused call was tried %d times", n)
	}

	f.calls.Store(0)
	err = f.writer(t).WriteRecord(context.Background(), map[string]any{"tradeNo": "JY1"})
	if err == nil || errors.Is(err, banniu.ErrNotYet) || errors.As(err, &ae) || f.calls.Load() != 0 {
		t.Fatalf("a record without onlineTradeNo: error %v after %d calls", err, f.calls.Load())
	}
	if strings.Contains(f.logs.String()+err.Error(), "not-the-secret") {
		t.Fatal("the secret leaked")
	}
}

func TestNewWriterChecksTheTarget(t *testing.T) {
	f := newFixture(t, banniusandbox.Config{Tasks: -1, Settings: sandbox.Settings{Seed: 17}})
	c := f.client(t)
	for _, tc := range []struct{ from, to, want string }{
		{"api: task.update", "api: task.create", `api "task.create" is not supported`},
		{"method: POST", "method: GET", "task.update is a POST"},
		{`    - {field: app_id, label: 小程序id, type: int, value: "21151"}` + "\n", "", "no app_id"},
		{"content.77213", "trade.77213", `lookup on "trade.77213"`},
		{"findField=id", "findField=title", `finds "title"`},
	} {
		target := strings.Replace(seedTarget, tc.from, tc.to, 1)
		if _, err := banniu.NewWriter(c, flow(t, target)); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s → %s: error %v, want %q", tc.from, tc.to, err, tc.want)
		}
	}
}
