package kingdeesandbox_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/ferry-data/ferry/internal/sandbox"
	"github.com/ferry-data/ferry/internal/sandbox/sandboxtest"
	"github.com/ferry-data/ferry/producers/kingdee/kingdeesandbox"
)

// TestConformance runs the suite every vendor sandbox passes. The caller
// authorises itself first, with no faults; the case's faults come after.
func TestConformance(t *testing.T) {
	modified := func(r map[string]any) time.Time {
		m, _ := time.ParseInLocation(time.DateTime, r["modify_time"].(string), kdCST)
		return m
	}
	sandboxtest.Run(t, sandboxtest.Case{
		Start: kdStart,
		New: func(t *testing.T, s sandboxtest.Setup) sandboxtest.Rig {
			settings := s.Settings
			settings.Faults = sandbox.Faults{} // they come after authorising
			f := newKDFixture(t, kingdeesandbox.Config{Customers: s.Records, Settings: settings})
			f.login()
			f.SB.SetFaults(s.Faults)
			return sandboxtest.Rig{Sandbox: f.SB, Clock: f.Clock, Close: f.Srv.Close,
				Walk: func() []map[string]any { return f.kdWalk(kdStart.Add(-31*24*time.Hour), kdStart.Add(time.Hour)) },
				Call: func(ctx context.Context, page int) (*http.Response, []byte, error) {
					return f.do(kdCall{ctx: ctx, params: map[string]string{"page": strconv.Itoa(page + 1), "page_size": "2"}})
				}}
		},
		OK: `{"errcode":0`,
		Throttled: func(resp *http.Response, b []byte) bool {
			var env kdEnv
			return json.Unmarshal(b, &env) == nil && env.Errcode == 429 && env.Description == "请求过于频繁，请稍后再试"
		},
		ID:       kdID,
		Modified: modified,
		CheckNew: func(t *testing.T, newest map[string]any, _ []map[string]any, _ time.Time) {
			if newest["number"] != "KH00026" {
				t.Errorf("new customers do not take the next numbers: %v", newest["number"])
			}
			if newest["create_time"] != newest["modify_time"] && newest["create_time"].(string) > newest["modify_time"].(string) {
				t.Errorf("created %v after its modification %v", newest["create_time"], newest["modify_time"])
			}
		},
	})
}
