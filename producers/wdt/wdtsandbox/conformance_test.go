package wdtsandbox_test

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/ferry-data/ferry/internal/sandbox/sandboxtest"
	"github.com/ferry-data/ferry/producers/wdt/wdtsandbox"
)

// TestConformance runs the suite every vendor sandbox passes.
func TestConformance(t *testing.T) {
	sandboxtest.Run(t, sandboxtest.Case{
		Start: start,
		New: func(t *testing.T, s sandboxtest.Setup) sandboxtest.Rig {
			f := newFixture(t, wdtsandbox.Config{Records: s.Records, Settings: s.Settings})
			return sandboxtest.Rig{Sandbox: f.SB, Clock: f.Clock, Close: f.Srv.Close,
				Walk: func() []map[string]any { return f.walk(window(start.Add(-73*time.Hour), start.Add(time.Hour))) },
				Call: func(ctx context.Context, page int) (*http.Response, []byte, error) {
					return f.do(call{ctx: ctx, pageNo: page, pageSize: 2})
				}}
		},
		OK: `{"status":0`,
		Throttled: func(resp *http.Response, b []byte) bool {
			var env struct {
				Status  int    `json:"status"`
				Message string `json:"message"`
			}
			return resp.StatusCode == http.StatusOK && json.Unmarshal(b, &env) == nil && env.Status == 100 && env.Message == throttleMessage
		},
		ID:       id,
		Modified: func(r map[string]any) time.Time { return time.UnixMilli(int64(r["modified"].(float64))) },
		CheckNew: func(t *testing.T, newest map[string]any, truth []map[string]any, now time.Time) {
			if m := time.UnixMilli(int64(newest["modified"].(float64))); !m.After(start) {
				t.Errorf("new refund stamped %v, not after the start", m)
			}
			if id(newest) != id(truth[19])+6 {
				t.Errorf("new refunds do not take the next ids: %d after %d", id(newest), id(truth[19]))
			}
		},
	})
}
