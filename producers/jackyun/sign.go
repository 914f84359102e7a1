package jackyun

import (
	"strings"
	"time"

	"github.com/ferry-data/ferry/internal/vendorhttp"
)

// Shanghai is Beijing time, the zone of the timestamp parameter and of every
// date-time text the API takes or gives. A fixed zone needs no tzdata.
var Shanghai = time.FixedZone("Asia/Shanghai", 8*3600)

// TimeLayout is Jackyun's yyyy-MM-dd HH:mm:ss.
const TimeLayout = time.DateTime

// Timestamp renders t as the timestamp parameter: yyyy-MM-dd HH:mm:ss in
// Beijing time.
func Timestamp(t time.Time) string {
	return t.In(Shanghai).Format(TimeLayout)
}

// unsigned are the parameters that travel with a call but take no part in
// its signature (vendors.md §2.2).
var unsigned = map[string]bool{"sign": true, "contextid": true, "token": true}

// Sign computes the gateway's signature: lowercase hex MD5 of the UTF-8 bytes
// of lower(secret + k1v1 + k2v2 … + secret), keys sorted, leaving out sign,
// contextid and token. The whole text is lowercased before hashing, so the
// secret, the keys and the values are case-insensitive. bizcontent is signed
// as the raw JSON text, before form encoding.
func Sign(params map[string]string, secret string) string {
	pairs := vendorhttp.SortedPairs(params, func(k, _ string) bool { return !unsigned[k] })
	return vendorhttp.MD5Hex(strings.ToLower(secret + pairs + secret))
}
