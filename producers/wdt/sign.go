package wdt

import (
	"strings"
	"time"

	"github.com/ferry-data/ferry/internal/vendorhttp"
)

// Epoch is where WDT's timestamp parameter counts from: it is the number of
// seconds since 2012-01-01 00:00:00 Beijing time (unix − 1325347200).
var Epoch = time.Unix(1325347200, 0)

// Timestamp renders t as WDT's timestamp parameter.
func Timestamp(t time.Time) string {
	return itoa(int64(t.Sub(Epoch) / time.Second))
}

// Sign computes the direct API's signature: lowercase hex MD5 of
// secret + k1v1 + k2v2 … (keys sorted, "sign" left out) + secret, where the
// params hold every query parameter and "body", the JSON array sent as the
// HTTP body.
func Sign(params map[string]string, secret string) string {
	return vendorhttp.MD5Hex(secret + vendorhttp.SortedPairs(params, func(k, _ string) bool { return k != "sign" }) + secret)
}

// SplitSecret splits an app secret of the form "secret:salt".
func SplitSecret(appSecret string) (secret, salt string) {
	secret, salt, _ = strings.Cut(appSecret, ":")
	return secret, salt
}

func itoa(n int64) string {
	if n == 0 {
		return "0"
	}
	neg := n < 0
	if neg {
		n = -n
	}
	var buf [20]byte
	i := len(buf)
	for n > 0 {
		i--
		buf[i] = byte('0' + n%10)
		n /= 10
	}
	if neg {
		i--
		buf[i] = '-'
	}
	return string(buf[i:])
}
