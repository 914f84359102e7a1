package producers

import (
	"net/http"
	"sync"
	"time"
)

// VendorClock is a vendor's notion of now, learnt from the Date header of
// its answers. Windows end at the vendor's now minus lag, never at
// ferry's: with ferry's clock ahead, a window would reach into the vendor's
// future and the records stamped there after the call would fall behind
// the checkpoint; with ferry's clock behind, windows would lag more than
// configured. Signed timestamps use it too, so a vendor that checks their
// skew accepts them once its clock is known.
type VendorClock struct {
	local func() time.Time

	mu     sync.Mutex
	offset time.Duration
	learnt bool
}

// NewVendorClock starts from ferry's clock (time.Now when nil).
func NewVendorClock(local func() time.Time) *VendorClock {
	if local == nil {
		local = time.Now
	}
	return &VendorClock{local: local}
}

// Now is the vendor's time as last learnt.
func (c *VendorClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.local().Add(c.offset)
}

// Observe learns from an answer's headers. The Date header has whole
// seconds, so the vendor's now is known to within a second; the lag that
// windows keep is minutes.
func (c *VendorClock) Observe(h http.Header) {
	date, err := http.ParseTime(h.Get("Date"))
	if err != nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.offset, c.learnt = date.Sub(c.local()), true
}

// Learnt reports whether an answer has taught the vendor's clock yet;
// until then Now is ferry's own.
func (c *VendorClock) Learnt() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.learnt
}
