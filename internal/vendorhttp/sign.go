package vendorhttp

import (
	"crypto/md5"
	"encoding/hex"
	"sort"
	"strings"
)

// SortedPairs is k1v1k2v2…: the params signed chooses, keys sorted, each
// key followed by its value. Most vendors' MD5 signatures hash it between
// secrets.
func SortedPairs(params map[string]string, signed func(k, v string) bool) string {
	keys := make([]string, 0, len(params))
	for k, v := range params {
		if signed(k, v) {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		b.WriteString(k)
		b.WriteString(params[k])
	}
	return b.String()
}

// MD5Hex is the lowercase hex MD5 of s.
func MD5Hex(s string) string {
	sum := md5.Sum([]byte(s))
	return hex.EncodeToString(sum[:])
}
