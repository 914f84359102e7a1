package jushuitan_test

import (
	"testing"

	"github.com/ferry-data/ferry/producers/jushuitan"
	"github.com/ferry-data/ferry/producers/jushuitan/jstsandbox"
	"github.com/ferry-data/ferry/producers/producertest"
)

// TestConformance runs the suite every source connector passes against
// its own sandbox.
func TestConformance(t *testing.T) {
	producertest.Run(t, producertest.Case{Connector: jushuitan.Connector, Sandbox: jstsandbox.Default, Flow: "jst_orders", Secret: "APP_SECRET", Refused: "无效签名",
		Throttled: []string{"调用频次超过限制"}, Failed: []string{}})
}
