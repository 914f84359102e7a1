package wdtsandbox

import (
	"time"

	"github.com/ferry-data/ferry/internal/sandbox"
)

// WDT (vendors.md §3.2): lowercase hex MD5 of the wrapped string of every
// query param and body, sign left out; timestamps count seconds from
// 2012-01-01 00:00:00 Beijing time.
var wdtEpoch = time.Unix(1325347200, 0)

func wdtSign(params map[string]string, secret string) string {
	return sandbox.MD5Hex(sandbox.WrapSorted(secret, params, "sign"))
}
