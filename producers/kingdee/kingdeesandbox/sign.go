package kingdeesandbox

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"sort"
	"strings"
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
