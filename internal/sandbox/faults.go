package sandbox

import (
	"context"
	"time"
)

// defaultSlowDelay is how long a slow 504 waits when Faults.SlowDelay is 0.
const defaultSlowDelay = 50 * time.Millisecond

// Faults is the trouble a sandbox puts on top of correct answers. The zero
// value means none.
type Faults struct {
	// ThrottleRate is the fraction of calls answered with the vendor's
	// throttle answer, as its sandbox words it.
	ThrottleRate float64
	// FailRate is the fraction of calls that fail. Each failure is, in equal
	// shares: HTTP 502; HTTP 504 after SlowDelay; HTTP 200 whose JSON body is
	// cut in half.
	FailRate float64
	// SlowDelay is how long the slow 504 waits before answering (wall time,
	// default 50ms). The wait ends early when the request's context ends.
	SlowDelay time.Duration
}

func (f Faults) WithDefaults() Faults {
	if f.SlowDelay <= 0 {
		f.SlowDelay = defaultSlowDelay
	}
	return f
}

// failure is one kind of injected failure.
type failure int

const (
	failBadGateway     failure = iota // HTTP 502 from the gateway
	failGatewayTimeout                // HTTP 504 after Faults.SlowDelay
	failTruncated                     // HTTP 200, body cut in half
	failureKinds                      // how many kinds there are
)

const (
	badGatewayPage     = "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
	gatewayTimeoutPage = "<html>\r\n<head><title>504 Gateway Time-out</title></head>\r\n<body>\r\n<center><h1>504 Gateway Time-out</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
)

// wait blocks for d or until ctx ends, and reports whether the whole d passed.
func wait(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
