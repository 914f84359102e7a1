package wdt_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"golang.org/x/time/rate"

	"github.com/ferry-data/ferry/internal/backoff"
	"github.com/ferry-data/ferry/internal/sandbox"
	"github.com/ferry-data/ferry/internal/vendortest"
	"github.com/ferry-data/ferry/producers/wdt"
	"github.com/ferry-data/ferry/producers/wdt/wdtsandbox"
	"github.com/ferry-data/ferry/vendors"
)

const method = "aftersales.refund.Refund.search"

type fixture struct {
	sb   *wdtsandbox.Sandbox
	srv  *vendortest.Server
	logs *vendortest.LogWatch
	cfg  wdt.Config
}

func newFixture(t testing.TB, sc wdtsandbox.Config) *fixture {
	t.Helper()
	clock := sandbox.NewClock(time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC))
	sc.Now = clock.Now
	f := &fixture{sb: wdtsandbox.New(sc), logs: &vendortest.LogWatch{}}
	f.srv = vendortest.Serve(t, f.sb)
	c := f.sb.Config()
	f.cfg = wdt.Config{
		URL: f.srv.URL + "/openapi", SID: c.SID, AppKey: c.AppKey, AppSecret: c.AppSecret,
		Options: vendors.Options{Limit: rate.Inf, Backoff: backoff.Policy{Base: time.Millisecond, Max: 2 * time.Millisecond}, Timeout: time.Second, Now: clock.Now, Logger: f.logs.Logger()},
	}
	return f
}

func (f *fixture) client(t testing.TB) *wdt.Client {
	c, err := wdt.New(f.cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func window(from, to string) map[string]any {
	return map[string]any{"modified_from": from, "modified_to": to}
}

var lastThreeDays = window("2024-02-26 00:00:00", "2024-03-01 20:00:00")

// TestVendorErrorsAreNamed: a validation error (status 100 with another
// message) is not retried and reaches the caller with the vendor's status
// and message.
func TestVendorErrorsAreNamed(t *testing.T) {
	for _, tc := range []struct {
		name    string
		tweak   func(*wdt.Config)
		params  map[string]any
		message string
	}{
		{"bad signature", func(c *wdt.Config) { c.AppSecret = "wrong:" + strings.Split(c.AppSecret, ":")[1] }, lastThreeDays, "签名错误"},
		{"window over 30 days", nil, window("2024-01-01 00:00:00", "2024-03-01 00:00:00"), "请求时间最大跨度为30天"},
		{"no window", nil, map[string]any{}, "参数中必须包含起止时间"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, wdtsandbox.Config{Records: 5, Settings: sandbox.Settings{Seed: 4}})
			if tc.tweak != nil {
				tc.tweak(&f.cfg)
			}
			_, err := f.client(t).Search(context.Background(), method, tc.params, 0, 50)
			var ae *wdt.APIError
			if !errors.As(err, &ae) {
				t.Fatalf("error %v, want an *APIError", err)
			}
			if ae.Status != 100 || ae.Message != tc.message || !strings.Contains(err.Error(), "status 100: "+tc.message) {
				t.Fatalf("error %v, want status 100 %s", err, tc.message)
			}
			if n := f.srv.Calls(); n != 1 {
				t.Fatalf("a refused call was tried %d times", n)
			}
		})
	}
}

// TestSecretsStayOutOfLogs: the secret, the salt and signatures never reach
// a log line or an error, even when calls fail at the transport level.
func TestSecretsStayOutOfLogs(t *testing.T) {
	f := newFixture(t, wdtsandbox.Config{Records: 5, Settings: sandbox.Settings{Seed: 5, Faults: sandbox.Faults{FailRate: 1, ThrottleRate: 0.3, SlowDelay: time.Millisecond}}})
	f.srv.At(10, func() { f.sb.SetFaults(sandbox.Faults{}) })
	if _, err := f.client(t).Search(context.Background(), method, lastThreeDays, 0, 50); err != nil {
		t.Fatal(err)
	}
	// A dead endpoint: transport errors carry the URL.
	f.cfg.URL = "http://127.0.0.1:1/openapi"
	ctx := f.logs.CancelWhenSeen(context.Background(), "127.0.0.1:1")
	_, err := f.client(t).Search(ctx, method, lastThreeDays, 0, 50)
	secret, salt := wdt.SplitSecret(f.sb.Config().AppSecret)
	vendortest.NoLeak(t, vendortest.Exposed(f.logs.String(), err), secret, salt, "sign=")
}
