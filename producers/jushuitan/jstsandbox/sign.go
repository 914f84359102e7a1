package jstsandbox

import (
	"sort"
	"strings"

	"github.com/ferry-data/ferry/internal/sandbox"
)

// Jushuitan, new protocol (vendors.md §1.3): lowercase hex MD5 of the app
// secret as a prefix only, then k+v of every param but sign and the empty
// ones, keys sorted.
func jstSign(params map[string]string, secret string) string {
	keys := make([]string, 0, len(params))
	for k, v := range params {
		if k != "sign" && v != "" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteString(secret)
	for _, k := range keys {
		b.WriteString(k + params[k])
	}
	return sandbox.MD5Hex(b.String())
}

// Jushuitan's protocol constants (vendors.md §1.1, §1.4–1.6).
const (
	jstOrdersPath       = "/open/orders/out/simple/query"
	jstShopsPath        = "/open/shops/query"
	jstInitTokenPath    = "/openWeb/auth/getInitToken"
	jstRefreshTokenPath = "/openWeb/auth/refreshToken"
	jstMaxOrdersPage    = 50
	jstMaxShopsPage     = 100

	jstCodeOK              = 0
	jstCodeBadSign         = 10  // 无效签名
	jstCodeBadToken        = 100 // 无效的access_token或access_token已过期
	jstCodeInvalid         = 130 // a stand-in, vendors.md says: 时间间隔不能超过七天
	jstCodeBadTimestamp    = 140 // 无效的timestamp
	jstCodeThrottledSecond = 199 // more than 5 calls a second
	jstCodeThrottledMinute = 200 // more than 100 calls a minute
)
