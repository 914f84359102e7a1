package sandbox

import "testing"

// TestSandboxSignatures checks the sandboxes' own signatures against the
// vectors of vendors.md: WDT's is verified (a public Qimen signing
// library's test); Jackyun's and 班牛's were computed by vendors.md from
// the documented algorithm, since neither vendor publishes one.
func TestSandboxSignatures(t *testing.T) {
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
		{"jackyun, computed", jackyunSign, map[string]string{"appkey": "10001", "contenttype": "json", "method": "jackyun.tradenotsensitiveinfos.list.get",
			"timestamp": "2024-01-02 00:05:00", "version": "v1.0",
			"bizcontent": `{"pageIndex":0,"pageSize":50,"startModified":"2024-01-01 00:00:00","endModified":"2024-01-02 00:00:00","hasTotal":1}`},
			"SECRET", "ad9ea7a1f54d6b088ea12ad41b364c69"},
		{"banniu, computed", banniuSign, map[string]string{"access_token": "tok", "app_key": "ak", "method": "task.update",
			"timestamp": "2024-01-02 00:05:00", "v": "1"}, "sec", "A6C3EA393CDA6BDA62F3AD732E6FFD1D"},
		{"banniu with app_secret, computed", banniuSign, map[string]string{"access_token": "tok", "app_key": "ak", "method": "task.update",
			"timestamp": "2024-01-02 00:05:00", "v": "1", "app_secret": "sec"}, "sec", "3A2BDCAE3E15A7D31316C1190C928FED"},
	} {
		if got := tc.sign(tc.params, tc.secret); got != tc.want {
			t.Errorf("%s: %s, want %s", tc.name, got, tc.want)
		}
	}
}
