package sandbox

import (
	"crypto/md5"
	"encoding/hex"
	"sort"
	"strings"
	"time"
)

// The sandboxes' own reading of the vendors' signatures and protocol
// constants, from ../shared/vendors.md, and never the connectors': a
// mistake a connector makes in signing is then refused by its sandbox, not
// made again on both sides. signing_test.go checks each against the
// vendor's published vector, or the vectors vendors.md computed where the
// vendor publishes none (it says which).

// wrapSorted is secret + k1v1 + k2v2 … (keys sorted, those in skip left
// out) + secret: the string that WDT, Jackyun and 班牛 hash.
func wrapSorted(secret string, params map[string]string, skip ...string) string {
	keys := make([]string, 0, len(params))
	for k := range params {
		if !contains(skip, k) {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteString(secret)
	for _, k := range keys {
		b.WriteString(k)
		b.WriteString(params[k])
	}
	b.WriteString(secret)
	return b.String()
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

func md5hex(s string) string {
	sum := md5.Sum([]byte(s))
	return hex.EncodeToString(sum[:])
}

// WDT (vendors.md §3.2): lowercase hex MD5 of the wrapped string of every
// query param and body, sign left out; timestamps count seconds from
// 2012-01-01 00:00:00 Beijing time.
var wdtEpoch = time.Unix(1325347200, 0)

func wdtSign(params map[string]string, secret string) string {
	return md5hex(wrapSorted(secret, params, "sign"))
}

// Jackyun (vendors.md §2.2): the wrapped string of the params but sign,
// contextid and token, lowercased whole before hashing; lowercase hex.
func jackyunSign(params map[string]string, secret string) string {
	return md5hex(strings.ToLower(wrapSorted(secret, params, "sign", "contextid", "token")))
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

// 班牛 (vendors.md §5.2): uppercase hex MD5 of the wrapped string of the
// query params but sign; a POST's JSON body is not signed.
func banniuSign(params map[string]string, secret string) string {
	return strings.ToUpper(md5hex(wrapSorted(secret, params, "sign")))
}

// 班牛's protocol constants (vendors.md §5.2, §5.4).
const (
	bnTimeLayout   = time.DateTime // yyyy-MM-dd HH:mm:ss, Asia/Shanghai
	bnThrottleCode = 1007          // 调用频率超限
)
