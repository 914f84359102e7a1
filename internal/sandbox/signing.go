package sandbox

import (
	"crypto/md5"
	"encoding/hex"
	"sort"
	"strings"
)

// What the vendors' signatures have in common. Each sandbox's sign.go is
// its own reading of its vendor's signature and protocol constants, from
// ../shared/vendors.md, and never the connector's: a mistake a connector
// makes in signing is then refused by its sandbox, not made again on both
// sides. Each sign_test.go checks it against the vendor's published
// vector, or the vectors vendors.md computed where the vendor publishes
// none (it says which).

// WrapSorted is secret + k1v1 + k2v2 … (keys sorted, those in skip left
// out) + secret: the string several vendors hash.
func WrapSorted(secret string, params map[string]string, skip ...string) string {
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

// MD5Hex is the lowercase hex MD5 of s.
func MD5Hex(s string) string {
	sum := md5.Sum([]byte(s))
	return hex.EncodeToString(sum[:])
}
