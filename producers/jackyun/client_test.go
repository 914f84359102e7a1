package jackyun_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/time/rate"

	"github.com/ferry-data/ferry/flows"
	"github.com/ferry-data/ferry/internal/backoff"
	"github.com/ferry-data/ferry/internal/sandbox"
	"github.com/ferry-data/ferry/internal/vendortest"
	"github.com/ferry-data/ferry/producers"
	"github.com/ferry-data/ferry/producers/jackyun"
	"github.com/ferry-data/ferry/producers/jackyun/jackyunsandbox"
	"github.com/ferry-data/ferry/vendors"
)

const method = jackyun.TradeSearch

var start = time.Date(2024, 3, 1, 12, 0, 0, 0, jackyun.Shanghai)

type fixture struct {
	sb    *jackyunsandbox.Sandbox
	clock *sandbox.Clock
	srv   *vendortest.Server
	logs  *vendortest.LogWatch
	cfg   jackyun.Config
}

// newFixture serves a sandbox whose quotas are off unless sc sets them:
// the clock stands still between calls.
func newFixture(t testing.TB, sc jackyunsandbox.Config) *fixture {
	t.Helper()
	clock := sandbox.NewClock(start)
	sc.Now = clock.Now
	if sc.PerSecond == 0 {
		sc.PerSecond = -1
	}
	if sc.PerMinute == 0 {
		sc.PerMinute = -1
	}
	f := &fixture{sb: jackyunsandbox.New(sc), clock: clock, logs: &vendortest.LogWatch{}}
	f.srv = vendortest.Serve(t, f.sb)
	c := f.sb.Config()
	f.cfg = jackyun.Config{
		URL: f.srv.URL + "/open/openapi/do", AppKey: c.AppKey, Secret: c.Secret,
		Options: vendors.Options{Limit: rate.Inf, Backoff: backoff.Policy{Base: time.Millisecond, Max: 2 * time.Millisecond}, Timeout: time.Second, Now: clock.Now, Logger: f.logs.Logger()},
	}
	return f
}

func (f *fixture) client(t testing.TB) *jackyun.Client {
	t.Helper()
	c, err := jackyun.New(f.cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func window(from, to string) map[string]any {
	return map[string]any{"startModified": from, "endModified": to}
}

var lastThreeDays = window("2024-02-26 00:00:00", "2024-03-01 20:00:00")

// TestEveryFailureKindIsRetried: enough failures to see 502, slow 504 and a
// truncated body, each retried.
func TestEveryFailureKindIsRetried(t *testing.T) {
	f := newFixture(t, jackyunsandbox.Config{Trades: 10, Settings: sandbox.Settings{Seed: 3, Faults: sandbox.Faults{FailRate: 1, SlowDelay: time.Millisecond}}})
	f.srv.At(25, func() { f.sb.SetFaults(sandbox.Faults{}) })
	if _, err := f.client(t).Search(context.Background(), method, lastThreeDays, 0, 50); err != nil {
		t.Fatal(err)
	}
	logs := f.logs.String()
	for _, want := range []string{"http_status=502", "http_status=504", "unreadable body"} {
		if !strings.Contains(logs, want) {
			t.Errorf("no retry logged for %q", want)
		}
	}
}

// TestQuotaThrottleIsRetried: the sandbox's per-second quota answers 429
// until the clock moves on.
func TestQuotaThrottleIsRetried(t *testing.T) {
	f := newFixture(t, jackyunsandbox.Config{Trades: 10, PerSecond: 2, Settings: sandbox.Settings{Seed: 4}})
	f.srv.At(5, func() { f.clock.Advance(time.Second) })
	c := f.client(t)
	for range 3 {
		if _, err := c.Search(context.Background(), method, lastThreeDays, 0, 50); err != nil {
			t.Fatal(err)
		}
	}
	if s := f.sb.Stats(); s.Throttled != 2 || s.Served != 3 {
		t.Fatalf("stats = %+v, want 2 throttled and 3 served", s)
	}
}

// TestVendorErrorsAreNamed: a refusal is not retried and reaches the
// caller with the vendor's code, subCode and message.
func TestVendorErrorsAreNamed(t *testing.T) {
	for _, tc := range []struct {
		name          string
		tweak         func(*jackyun.Config)
		params        map[string]any
		code          int
		subCode, text string
	}{
		{"bad signature", func(c *jackyun.Config) { c.Secret = "wrong" }, lastThreeDays, 401, "GW.SIGN_ERROR", "签名错误"},
		{"stale clock", func(c *jackyun.Config) { c.Now = func() time.Time { return start.Add(-time.Hour) } }, lastThreeDays, 401, "GW.TIMESTAMP_INVALID", "timestamp无效"},
		{"window over 7 days", nil, window("2024-02-01 00:00:00", "2024-03-01 00:00:00"), 400, "BIZ.TIME_RANGE_EXCEEDED", "时间跨度不能超过7天"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, jackyunsandbox.Config{Trades: 5, Settings: sandbox.Settings{Seed: 6}})
			if tc.tweak != nil {
				tc.tweak(&f.cfg)
			}
			_, err := f.client(t).Search(context.Background(), method, tc.params, 0, 50)
			var ae *jackyun.APIError
			if !errors.As(err, &ae) {
				t.Fatalf("error %v, want an *APIError", err)
			}
			if ae.Code != tc.code || ae.SubCode != tc.subCode || !strings.Contains(ae.Message, tc.text) ||
				!strings.Contains(err.Error(), "code "+strconv.Itoa(tc.code)+" ("+tc.subCode+")") {
				t.Fatalf("error %v, want code %d %s %s", err, tc.code, tc.subCode, tc.text)
			}
			if n := f.srv.Calls(); n != 1 {
				t.Fatalf("a refused call was tried %d times", n)
			}
		})
	}
}

var signRE = regexp.MustCompile(`[0-9a-f]{32}`)

// TestSecretsStayOutOfLogs: the secret and signatures never reach a log
// line or an error, even when calls fail at the transport level.
func TestSecretsStayOutOfLogs(t *testing.T) {
	f := newFixture(t, jackyunsandbox.Config{Trades: 5, Settings: sandbox.Settings{Seed: 7, Faults: sandbox.Faults{FailRate: 1, ThrottleRate: 0.3, SlowDelay: time.Millisecond}}})
	f.srv.At(10, func() { f.sb.SetFaults(sandbox.Faults{}) })
	if _, err := f.client(t).Search(context.Background(), method, lastThreeDays, 0, 50); err != nil {
		t.Fatal(err)
	}
	// A refused call: its error names the vendor's code, nothing more.
	f.cfg.Secret = "another-secret"
	_, refused := f.client(t).Search(context.Background(), method, lastThreeDays, 0, 50)
	// A dead endpoint: transport errors carry the URL.
	f.cfg.URL = "http://127.0.0.1:1/open/openapi/do"
	ctx := f.logs.CancelWhenSeen(context.Background(), "127.0.0.1:1")
	_, err := f.client(t).Search(ctx, method, lastThreeDays, 0, 50)
	out := vendortest.Exposed(f.logs.String(), err, refused)
	vendortest.NoLeak(t, out, f.sb.Config().Secret, "another-secret", "sign=", "bizcontent")
	if m := signRE.FindString(out); m != "" {
		t.Fatalf("a signature-like %s leaked:\n%s", m, out)
	}
}

// TestQuirks: result.data as a JSON string and PascalCase keys read the
// same as the plain answer; records come out in camelCase.
func TestQuirks(t *testing.T) {
	get := func(sc jackyunsandbox.Config) jackyun.Page {
		f := newFixture(t, sc)
		p, err := f.client(t).Search(context.Background(), method, lastThreeDays, 0, 50)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	want := get(jackyunsandbox.Config{Trades: 20, Settings: sandbox.Settings{Seed: 8}})
	for _, sc := range []jackyunsandbox.Config{
		{Trades: 20, StringData: true, Settings: sandbox.Settings{Seed: 8}},
		{Trades: 20, PascalCase: true, Settings: sandbox.Settings{Seed: 8}},
		{Trades: 20, StringData: true, PascalCase: true, Settings: sandbox.Settings{Seed: 8}},
	} {
		got := get(sc)
		if got.Total != 20 || len(got.Records) != 20 {
			t.Fatalf("%+v: %d of %d records", sc, len(got.Records), got.Total)
		}
		for i := range got.Records {
			var a, b any
			if json.Unmarshal(got.Records[i], &a) != nil || json.Unmarshal(want.Records[i], &b) != nil {
				t.Fatal("records do not decode")
			}
			if !equalJSON(a, b) {
				t.Fatalf("string=%v pascal=%v: record %d\n%s\nwant\n%s", sc.StringData, sc.PascalCase, i, got.Records[i], want.Records[i])
			}
		}
	}
}

func equalJSON(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return bytes.Equal(x, y)
}

// seedFlow is the seed scheme's source block (shared/seeds/002): consign
// times a day behind the window, tradeType 92, hasTotal 1 and empty fields.
const seedFlow = `
name: jackyun_trades
source:
  vendor: jackyun
  api: jackyun.tradenotsensitiveinfos.list.get
  method: POST
  id: tradeId
  number: tradeNo
  pagination:
    pageSize: %d
    pageStart: 1
  request:
    - {field: pageSize, type: string, value: "100"}
    - {field: pageIndex, type: string, value: "0"}
    - {field: hasTotal, type: string, value: "1"}
    - {field: startCreated, type: string, value: ""}
    - {field: endCreated, type: string, value: ""}
    - field: startConsignTime
      type: string
      value: "_function from_unixtime(({LAST_SYNC_TIME}-86400),'%%Y-%%m-%%d %%H:%%i:%%s')"
    - field: endConsignTime
      type: string
      value: "_function from_unixtime(({CURRENT_TIME}-86400),'%%Y-%%m-%%d %%H:%%i:%%s')"
    - {field: tradeStatus, type: string, value: ""}
    - {field: tradeType, type: string, value: "92"}
    - {field: sourceTradeNos, type: string, value: ""}
    - {field: fields, type: string, value: ""}
  window: {max: %s, lag: 2m, overlap: 5m}
  topic: raw.jackyun.trades
  rate: 5/s
processor:
  entity: trade
  zone: Asia/Shanghai
target:
  kind: topic
`

func parseFlow(t *testing.T, pageSize int, windowMax string) *flows.Flow {
	t.Helper()
	fl, err := flows.Parse("jackyun_trades.yaml", []byte(fmt.Sprintf(seedFlow, pageSize, windowMax)))
	if err != nil {
		t.Fatal(err)
	}
	return fl
}

// TestSourcePagesTheSeedFlow: the seed's request fields reach the vendor
// through Eval, the connector sets the paging, and the vendor's rules
// (pageIndex from 0, pageSize up to 1000) win over the seed's, said once.
func TestSourcePagesTheSeedFlow(t *testing.T) {
	f := newFixture(t, jackyunsandbox.Config{Trades: 400, Settings: sandbox.Settings{Seed: 9}})
	var logBuf vendortest.LogWatch
	log := logBuf.Logger()
	src, err := jackyun.NewSource(f.client(t), parseFlow(t, 2000, "168h"), log)
	if err != nil {
		t.Fatal(err)
	}
	if src.PageSize() != 1000 {
		t.Fatalf("page size %d, want the vendor's 1000", src.PageSize())
	}
	w := producers.Window{From: start.Add(-5 * 24 * time.Hour), To: start.Add(24 * time.Hour)}
	from, to := w.From.Add(-24*time.Hour), w.To.Add(-24*time.Hour)
	want := 0
	for _, r := range f.sb.Truth() {
		c, ok := r["consignTime"].(string)
		if ok && r["tradeType"] == 92.0 && c >= jackyun.Timestamp(from) && c <= jackyun.Timestamp(to) {
			want++
		}
	}
	p, err := src.Page(context.Background(), w, 0)
	if err != nil {
		t.Fatal(err)
	}
	if want == 0 || p.Total != want || len(p.Records) != want {
		t.Fatalf("page 0: %d records of %d, want %d", len(p.Records), p.Total, want)
	}
	p1, err := src.Page(context.Background(), w, 1)
	if err != nil {
		t.Fatal(err)
	}
	if p1.Total != want || len(p1.Records) != 0 {
		t.Fatalf("page 1: %d records of %d, want none of %d", len(p1.Records), p1.Total, want)
	}
	logs := logBuf.String()
	for _, s := range []string{"pageIndex from 0", "larger pages than Jackyun serves", "field=pageSize", "field=pageIndex", "field=hasTotal"} {
		if strings.Count(logs, s) != 1 {
			t.Errorf("%q logged %d times, want once:\n%s", s, strings.Count(logs, s), logs)
		}
	}

	// Small pages: the connector asks for page pg of 50.
	small, err := jackyun.NewSource(f.client(t), parseFlow(t, 50, "168h"), nil)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for pg := 0; pg*50 < want; pg++ {
		p, err := small.Page(context.Background(), w, pg)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range p.Records {
			seen[string(producers.RecordID(r, "tradeId"))] = true
		}
	}
	if len(seen) != want {
		t.Fatalf("pages of 50 held %d distinct trades, want %d", len(seen), want)
	}
}

func TestSourceRefusesWindowsOverAWeek(t *testing.T) {
	f := newFixture(t, jackyunsandbox.Config{Trades: 1, Settings: sandbox.Settings{Seed: 10}})
	_, err := jackyun.NewSource(f.client(t), parseFlow(t, 100, "169h"), nil)
	if err == nil || !strings.Contains(err.Error(), "window.max") {
		t.Fatalf("error %v, want the window refused", err)
	}
}
