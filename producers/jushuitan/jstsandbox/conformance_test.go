package jstsandbox_test

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/ferry-data/ferry/internal/sandbox/sandboxtest"
	"github.com/ferry-data/ferry/producers/jushuitan/jstsandbox"
)

// TestConformance runs the suite every vendor sandbox passes.
func TestConformance(t *testing.T) {
	sandboxtest.Run(t, sandboxtest.Case{
		Start: jstStart,
		New: func(t *testing.T, s sandboxtest.Setup) sandboxtest.Rig {
			f := newJSTFixture(t, jstsandbox.Config{Orders: s.Records, Settings: s.Settings})
			return sandboxtest.Rig{Sandbox: f.SB, Clock: f.Clock, Close: f.Srv.Close,
				Walk: func() []map[string]any {
					return f.walk(jstWindow(jstStart.Add(-73*time.Hour), jstStart.Add(time.Hour)))
				},
				Call: func(ctx context.Context, page int) (*http.Response, []byte, error) {
					return f.do(jstCall{ctx: ctx, biz: jstPage(jstWindow(jstStart.Add(-72*time.Hour), jstStart), page+1, 2)})
				}}
		},
		OK: `{"code":0`,
		Throttled: func(resp *http.Response, b []byte) bool {
			var env jstEnv
			return resp.StatusCode == http.StatusOK && json.Unmarshal(b, &env) == nil && (env.Code == 199 || env.Code == 200) && string(env.Data) == "null"
		},
		ID: func(r map[string]any) int64 { return jstNum(r, "o_id") },
		Modified: func(r map[string]any) time.Time {
			m, _ := time.ParseInLocation(time.DateTime, r["modified"].(string), jstCST)
			return m
		},
		CheckNew: func(t *testing.T, newest map[string]any, _ []map[string]any, _ time.Time) {
			if newest["status"] == "" {
				t.Errorf("new order without a status: %v", newest)
			}
		},
	})
}
