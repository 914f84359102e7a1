package banniusandbox_test

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/ferry-data/ferry/internal/sandbox/sandboxtest"
	"github.com/ferry-data/ferry/sinks/banniu/banniusandbox"
)

// TestConformance runs the suite every vendor sandbox passes.
func TestConformance(t *testing.T) {
	created := func(r map[string]any) time.Time {
		c, _ := time.ParseInLocation(time.DateTime, r["1"].(string), bnCST)
		return c
	}
	sandboxtest.Run(t, sandboxtest.Case{
		Start: bnStart,
		New: func(t *testing.T, s sandboxtest.Setup) sandboxtest.Rig {
			f := newBNFixture(t, banniusandbox.Config{Tasks: s.Records, Settings: s.Settings})
			return sandboxtest.Rig{Sandbox: f.SB, Clock: f.Clock, Close: f.Srv.Close,
				Walk: f.walk,
				Call: func(ctx context.Context, page int) (*http.Response, []byte, error) {
					return f.do(bnCall{ctx: ctx, params: bnPage(page+1, 2)})
				}}
		},
		OK: `{"response":`,
		Throttled: func(resp *http.Response, b []byte) bool {
			var env bnEnvelope
			return resp.StatusCode == http.StatusOK && json.Unmarshal(b, &env) == nil && env.Response.Code == bnThrottleCode &&
				env.msg() == "调用频率超限" && env.Response.IsSuccess != nil && !*env.Response.IsSuccess
		},
		ID:       bnTaskID,
		Modified: created,
		CheckNew: func(t *testing.T, newest map[string]any, _ []map[string]any, _ time.Time) {
			if !created(newest).After(bnStart.Add(-time.Second)) {
				t.Errorf("new task created %v, before the start", newest["1"])
			}
			if no, _ := newest["77213"].(string); len(no) < 12 {
				t.Errorf("new task without a 线上订单号: %v", newest)
			}
		},
	})
}
