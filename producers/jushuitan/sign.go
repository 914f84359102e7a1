package jushuitan

import (
	"crypto/md5"
	"encoding/hex"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Sign computes the open platform's signature (vendors.md §1.3): lowercase
// hex MD5 of app_secret + k1v1 + k2v2 …, keys sorted, "sign" and empty
// values left out. The secret is a prefix only. Business calls sign
// access_token, app_key, biz (the JSON text as sent), charset, timestamp
// and version; the token calls sign their own form the same way.
func Sign(params map[string]string, secret string) string {
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
		b.WriteString(k)
		b.WriteString(params[k])
	}
	return md5Hex(b.String())
}

// Timestamp renders t as the timestamp parameter: Unix seconds.
func Timestamp(t time.Time) string {
	return strconv.FormatInt(t.Unix(), 10)
}

func md5Hex(s string) string {
	sum := md5.Sum([]byte(s))
	return hex.EncodeToString(sum[:])
}
