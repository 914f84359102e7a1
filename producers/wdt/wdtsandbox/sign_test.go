package wdtsandbox

import "testing"

// TestSign checks the sandbox's own signature against the vectors of
// vendors.md: a "verified" vector is one public signing libraries' tests
// confirm; a "computed" one vendors.md computed from the documented
// algorithm, since the vendor publishes none.
func TestSign(t *testing.T) {
	for _, tc := range []struct {
		name   string
		sign   func(map[string]string, string) string
		params map[string]string
		secret string
		want   string
	}{
		{"wdt, verified", wdtSign, map[string]string{"sid": "wdtapi3", "key": "appkey", "salt": "salt", "method": "goods.Goods.queryWithSpec",
			"timestamp": "100", "v": "1.0", "body": `[{"goods_no":"G001"}]`}, "secret", "703b2c4b5b16565883e6b58d18e254a2"},
		{"wdt, sign left out", wdtSign, map[string]string{"sid": "wdtapi3", "key": "appkey", "salt": "salt", "method": "goods.Goods.queryWithSpec",
			"timestamp": "100", "v": "1.0", "body": `[{"goods_no":"G001"}]`, "sign": "x"}, "secret", "703b2c4b5b16565883e6b58d18e254a2"},
	} {
		if got := tc.sign(tc.params, tc.secret); got != tc.want {
			t.Errorf("%s: %s, want %s", tc.name, got, tc.want)
		}
	}
}
