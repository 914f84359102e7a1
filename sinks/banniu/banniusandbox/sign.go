package banniusandbox

import (
	"strings"
	"time"

	"github.com/ferry-data/ferry/internal/sandbox"
)

// 班牛 (vendors.md §5.2): uppercase hex MD5 of the wrapped string of the
// query params but sign; a POST's JSON body is not signed.
func banniuSign(params map[string]string, secret string) string {
	return strings.ToUpper(sandbox.MD5Hex(sandbox.WrapSorted(secret, params, "sign")))
}

// 班牛's protocol constants (vendors.md §5.2, §5.4).
const (
	bnTimeLayout   = time.DateTime // yyyy-MM-dd HH:mm:ss, Asia/Shanghai
	bnThrottleCode = 1007          // 调用频率超限
)
