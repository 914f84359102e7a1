package jackyunsandbox_test

import (
	"context"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/ferry-data/ferry/internal/sandbox/sandboxtest"
	"github.com/ferry-data/ferry/producers/jackyun/jackyunsandbox"
)

// TestConformance runs the suite every vendor sandbox passes.
func TestConformance(t *testing.T) {
	sandboxtest.Run(t, sandboxtest.Case{
		Start: jkyStart,
		New: func(t *testing.T, s sandboxtest.Setup) sandboxtest.Rig {
			f := newJkyFixture(t, jackyunsandbox.Config{Trades: s.Records, Settings: s.Settings})
			return sandboxtest.Rig{Sandbox: f.SB, Clock: f.Clock, Close: f.Srv.Close,
				Walk: func() []map[string]any {
					return f.walk(jkyModified(jkyStart.Add(-73*time.Hour), jkyStart.Add(time.Hour)))
				},
				Call: func(ctx context.Context, page int) (*http.Response, []byte, error) {
					return f.try(jkyCall{ctx: ctx, pageIndex: page, pageSize: 2})
				}}
		},
		OK: `{"code":200`,
		Throttled: func(resp *http.Response, b []byte) bool {
			return resp.StatusCode == http.StatusOK && string(b) == `{"code":429,"msg":"接口调用频率超限,请稍后再试","subCode":"GW.RATE_LIMIT","result":null}`
		},
		ID: func(r map[string]any) int64 {
			n, _ := strconv.ParseInt(jkyID(r), 10, 64)
			return n
		},
		Modified: func(r map[string]any) time.Time {
			c, _ := time.ParseInLocation(time.DateTime, r["gmtCreate"].(string), shanghai)
			return c
		},
		CheckNew: func(t *testing.T, newest map[string]any, _ []map[string]any, _ time.Time) {
			if newest["tradeStatus"] != 1010.0 || newest["consignTime"] != nil {
				t.Errorf("new trade: status %v, consignTime %v", newest["tradeStatus"], newest["consignTime"])
			}
		},
	})
}
