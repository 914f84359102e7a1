package wdt_test

import (
	"testing"

	"github.com/ferry-data/ferry/producers/producertest"
	"github.com/ferry-data/ferry/producers/wdt"
	"github.com/ferry-data/ferry/producers/wdt/wdtsandbox"
)

// TestConformance runs the suite every source connector passes against
// its own sandbox.
func TestConformance(t *testing.T) {
	producertest.Run(t, producertest.Case{Connector: wdt.Connector, Sandbox: wdtsandbox.Default, Flow: "wdt_refunds", Secret: "APP_SECRET", Refused: "签名错误",
		Throttled: []string{"throttled: status 100"}, Failed: []string{"transient"}})
}
