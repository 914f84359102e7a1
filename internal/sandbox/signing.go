package sandbox

import (
	"crypto/hmac"
	"crypto/md5"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
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
	return md5hex(b.String())
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

// Kingdee (vendors.md §4.1–4.2): the string to sign is the method, the
// encoded path, the query double-encoded and sorted, the nonce and the
// timestamp, each line ended by a newline; a signature is the base64 of
// the lowercase hex text of an HMAC-SHA256. app_signature is the same
// over the app key, keyed with the app secret.
func kdStringToSign(method, path string, query map[string]string, nonce, timestamp string) string {
	keys := make([]string, 0, len(query))
	for k := range query {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	pairs := make([]string, len(keys))
	for i, k := range keys {
		pairs[i] = kdEncode(kdEncode(k)) + "=" + kdEncode(kdEncode(query[k]))
	}
	return strings.ToUpper(method) + "\n" + kdEncode(path) + "\n" + strings.Join(pairs, "&") + "\n" +
		"x-api-nonce:" + nonce + "\n" + "x-api-timestamp:" + timestamp + "\n"
}

// kdEncode is encodeURIComponent with uppercase hex: everything but
// letters, digits and -_.~ is percent-encoded, byte by byte.
func kdEncode(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("-_.~", c) >= 0 {
			b.WriteByte(c)
			continue
		}
		fmt.Fprintf(&b, "%%%02X", c)
	}
	return b.String()
}

func kdHMAC(key, msg string) string {
	m := hmac.New(sha256.New, []byte(key))
	m.Write([]byte(msg))
	return base64.StdEncoding.EncodeToString([]byte(hex.EncodeToString(m.Sum(nil))))
}

// Kingdee's protocol constants (vendors.md §4.1–4.4).
const (
	kdAuthorizePath  = "/jdyconnector/app_management/push_app_authorize"
	kdTokenPath      = "/jdyconnector/app_management/kingdee_auth_token"
	kdCustomerPath   = "/jdy/v2/bd/customer"
	kdHdrClientID    = "X-Api-ClientID"
	kdHdrAuthVersion = "X-Api-Auth-Version"
	kdHdrTimestamp   = "X-Api-TimeStamp"
	kdHdrNonce       = "X-Api-Nonce"
	kdHdrSignHeaders = "X-Api-SignHeaders"
	kdHdrSignature   = "X-Api-Signature"
	kdHdrAppToken    = "app-token"
	kdHdrRouter      = "X-GW-Router-Addr"
	kdAuthVersion    = "2.0"
	kdSignHeaders    = "X-Api-TimeStamp,X-Api-Nonce"
)
