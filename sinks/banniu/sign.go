package banniu

import (
	"strings"
	"time"

	"github.com/ferry-data/ferry/internal/vendorhttp"
)

// Zone is Beijing time, the zone of every Banniu time string. A fixed zone
// keeps ferry free of tzdata.
var Zone = time.FixedZone("CST", 8*3600)

// TimeLayout is Banniu's yyyy-MM-dd HH:mm:ss.
const TimeLayout = time.DateTime

// Timestamp renders t as the timestamp system parameter: yyyy-MM-dd
// HH:mm:ss in Beijing time.
func Timestamp(t time.Time) string { return t.In(Zone).Format(TimeLayout) }

// Sign computes Banniu's signature (vendors.md §5.2): uppercase hex MD5 of
// secret + k1v1 + k2v2 … + secret over every query parameter but "sign",
// keys sorted. A GET call's business parameters travel in the query and are
// signed; a POST call's JSON body is not.
func Sign(params map[string]string, secret string) string {
	pairs := vendorhttp.SortedPairs(params, func(k, _ string) bool { return k != "sign" })
	return strings.ToUpper(vendorhttp.MD5Hex(secret + pairs + secret))
}
