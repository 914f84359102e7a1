package kingdee

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"sort"
	"strings"
)

// The client headers every call carries (vendors.md §4.2).
const (
	HeaderClientID    = "X-Api-ClientID"
	HeaderAuthVersion = "X-Api-Auth-Version"
	HeaderTimestamp   = "X-Api-TimeStamp"
	HeaderNonce       = "X-Api-Nonce"
	HeaderSignHeaders = "X-Api-SignHeaders"
	HeaderSignature   = "X-Api-Signature"
	// HeaderAppToken and HeaderRouter are added on business calls.
	HeaderAppToken = "app-token"
	HeaderRouter   = "X-GW-Router-Addr"

	// AuthVersion is X-Api-Auth-Version's value.
	AuthVersion = "2.0"
	// SignHeaders is X-Api-SignHeaders's value: the headers the signature
	// covers.
	SignHeaders = "X-Api-TimeStamp,X-Api-Nonce"
)

// Encode escapes s as JavaScript's encodeURIComponent does, with uppercase
// hex: every byte but A–Z, a–z, 0–9 and - _ . ~ becomes %XX (Python's
// quote(s, safe="-_.~")).
func Encode(s string) string {
	const hexDigits = "0123456789ABCDEF"
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if unreserved(c) {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hexDigits[c>>4])
		b.WriteByte(hexDigits[c&15])
	}
	return b.String()
}

func unreserved(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' ||
		c == '-' || c == '_' || c == '.' || c == '~'
}

// Query renders params as the query string actually sent: sorted by name,
// each name and value encoded once. It is empty for no params.
func Query(params map[string]string) string {
	return joinQuery(params, Encode)
}

// StringToSign builds the text X-Api-Signature signs: the method in upper
// case, the encoded path, the query sorted by name with names and values
// encoded twice, and the nonce and timestamp header lines, each line
// followed by \n. The third line is empty when there is no query.
func StringToSign(method, path string, params map[string]string, nonce, timestamp string) string {
	twice := func(s string) string { return Encode(Encode(s)) }
	return strings.ToUpper(method) + "\n" +
		Encode(path) + "\n" +
		joinQuery(params, twice) + "\n" +
		"x-api-nonce:" + nonce + "\n" +
		"x-api-timestamp:" + timestamp + "\n"
}

// Sign computes X-Api-Signature: base64 of the lowercase hex text of
// HMAC-SHA256(clientSecret, stringToSign).
func Sign(clientSecret, stringToSign string) string {
	return hexBase64(clientSecret, stringToSign)
}

// AppSignature computes kingdee_auth_token's app_signature: base64 of the
// lowercase hex text of HMAC-SHA256(appSecret, appKey).
func AppSignature(appSecret, appKey string) string {
	return hexBase64(appSecret, appKey)
}

func hexBase64(key, msg string) string {
	m := hmac.New(sha256.New, []byte(key))
	m.Write([]byte(msg))
	return base64.StdEncoding.EncodeToString([]byte(hex.EncodeToString(m.Sum(nil))))
}

func joinQuery(params map[string]string, enc func(string) string) string {
	keys := make([]string, 0, len(params))
	for k := range params {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for i, k := range keys {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(enc(k))
		b.WriteByte('=')
		b.WriteString(enc(params[k]))
	}
	return b.String()
}
