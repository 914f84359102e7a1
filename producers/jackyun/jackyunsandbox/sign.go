package jackyunsandbox

import (
	"strings"
	"time"

	"github.com/ferry-data/ferry/internal/sandbox"
)

// Jackyun (vendors.md §2.2): the wrapped string of the params but sign,
// contextid and token, lowercased whole before hashing; lowercase hex.
func jackyunSign(params map[string]string, secret string) string {
	return sandbox.MD5Hex(strings.ToLower(sandbox.WrapSorted(secret, params, "sign", "contextid", "token")))
}

// Jackyun's protocol constants (vendors.md §2.2–2.4).
const (
	jkyMethod           = "jackyun.tradenotsensitiveinfos.list.get"
	jkyVersion          = "v1.0"
	jkyTimeLayout       = time.DateTime // yyyy-MM-dd HH:mm:ss, Asia/Shanghai
	jkySubCodeThrottled = "GW.RATE_LIMIT"
	jkyMaxPageSize      = 1000
	jkyMaxWindow        = 7 * 24 * time.Hour // a stand-in, vendors.md says
)
