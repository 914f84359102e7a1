package jackyunsandbox

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
		{"jackyun, computed", jackyunSign, map[string]string{"appkey": "10001", "contenttype": "json", "method": "jackyun.tradenotsensitiveinfos.list.get",
			"timestamp": "2024-01-02 00:05:00", "version": "v1.0",
			"bizcontent": `{"pageIndex":0,"pageSize":50,"startModified":"2024-01-01 00:00:00","endModified":"2024-01-02 00:00:00","hasTotal":1}`},
			"SECRET", "ad9ea7a1f54d6b088ea12ad41b364c69"},
	} {
		if got := tc.sign(tc.params, tc.secret); got != tc.want {
			t.Errorf("%s: %s, want %s", tc.name, got, tc.want)
		}
	}
}
