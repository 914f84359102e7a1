package jackyun_test

import (
	"testing"

	"github.com/ferry-data/ferry/producers/jackyun"
	"github.com/ferry-data/ferry/producers/jackyun/jackyunsandbox"
	"github.com/ferry-data/ferry/producers/producertest"
)

// TestConformance runs the suite every source connector passes against
// its own sandbox.
func TestConformance(t *testing.T) {
	producertest.Run(t, producertest.Case{Connector: jackyun.Connector, Sandbox: jackyunsandbox.Default, Flow: "jackyun_trades_banniu", Secret: "SECRET", Refused: "GW.SIGN_ERROR",
		Throttled: []string{"code=429", "sub_code=GW.RATE_LIMIT", "msg=接口调用频率超限"}, Failed: []string{"transient"}})
}
