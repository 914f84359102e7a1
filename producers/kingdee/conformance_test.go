package kingdee_test

import (
	"testing"

	"github.com/ferry-data/ferry/producers/kingdee"
	"github.com/ferry-data/ferry/producers/kingdee/kingdeesandbox"
	"github.com/ferry-data/ferry/producers/producertest"
)

// TestConformance runs the suite every source connector passes against
// its own sandbox.
func TestConformance(t *testing.T) {
	producertest.Run(t, producertest.Case{Connector: kingdee.Connector, Sandbox: kingdeesandbox.Default, Flow: "kingdee_customers", Secret: "CLIENT_SECRET", Refused: "1030001003",
		Throttled: []string{"throttled: errcode 429: 请求过于频繁"}, Failed: []string{"transient"}})
}
