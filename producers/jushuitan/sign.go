package jushuitan

import (
	"strconv"
	"time"

	"github.com/ferry-data/ferry/internal/vendorhttp"
)

// Sign computes the open platform's signature (vendors.md §1.3): lowercase
// hex MD5 of app_secret + k1v1 + k2v2 …, keys sorted, "sign" and empty
// values left out. The secret is a prefix only. Business calls sign
// access_token, app_key, biz (the JSON text as sent), charset, timestamp
// and version; the token calls sign their own form the same way.
func Sign(params map[string]string, secret string) string {
	return vendorhttp.MD5Hex(secret + vendorhttp.SortedPairs(params, func(k, v string) bool { return k != "sign" && v != "" }))
}

// Timestamp renders t as the timestamp parameter: Unix seconds.
func Timestamp(t time.Time) string {
	return strconv.FormatInt(t.Unix(), 10)
}
