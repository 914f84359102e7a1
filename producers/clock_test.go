package producers_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/ferry-data/ferry/producers"
)

func TestVendorClock(t *testing.T) {
	local := time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)
	c := producers.NewVendorClock(func() time.Time { return local })
	if !c.Now().Equal(local) {
		t.Fatalf("before any answer: %v", c.Now())
	}
	for _, skew := range []time.Duration{3 * time.Minute, -2 * time.Minute, 0} {
		h := http.Header{"Date": {local.Add(skew).Format(http.TimeFormat)}}
		c.Observe(h)
		if got := c.Now().Sub(local); got != skew {
			t.Fatalf("vendor %v ahead: clock says %v", skew, got)
		}
	}
	c.Observe(http.Header{"Date": {"yesterday"}})
	if !c.Now().Equal(local) {
		t.Fatal("an unreadable Date moved the clock")
	}
}
