package sandbox

import "testing"

// TestSandboxSignatures checks the sandboxes' own signatures against the
// vectors of vendors.md: WDT's and Jushuitan's first are verified (public
// signing libraries' tests); the others were computed by vendors.md from
// the documented algorithm, since the vendors publish none (Kingdee's
// official example is printed truncated there, so it cannot serve).
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
		{"jushuitan, verified", jstSign, map[string]string{"timestamp": "100", "app_key": "app", "charset": "utf-8"}, "secret", "706427ca94e342781ac36d501151cb10"},
		{"jushuitan, computed", jstSign, map[string]string{"access_token": "tok", "app_key": "ak", "charset": "utf-8", "timestamp": "1704153900", "version": "2",
			"biz": `{"page_index":1,"page_size":50,"modified_begin":"2024-01-01 00:00:00","modified_end":"2024-01-02 00:00:00"}`}, "sec", "fdb9b0377dbe6f3d26fe95adba76877b"},
		{"jushuitan, empty values left out", jstSign, map[string]string{"timestamp": "100", "app_key": "app", "charset": "utf-8", "token": ""}, "secret", "706427ca94e342781ac36d501151cb10"},
		{"kingdee, computed", func(p map[string]string, secret string) string {
			return kdHMAC(secret, kdStringToSign("GET", "/jdy/v2/bd/customer", p, "123456789", "1704124800000"))
		}, map[string]string{"modify_start_time": "1704038400000", "modify_end_time": "1704124800000", "page": "1", "page_size": "100"},
			"clientsecret", "NmNhYjhmNjJkM2Q1ZGQ4MjAzZjk2ZWRlZDljNGU2Yjg0MzYzNGZlOTI2ZTcyNGFhMWIwZDk4NTZlZDUyOGJjNg=="},
	} {
		if got := tc.sign(tc.params, tc.secret); got != tc.want {
			t.Errorf("%s: %s, want %s", tc.name, got, tc.want)
		}
	}
}

// Kingdee's path and query encoding, as its official example shows it.
func TestKingdeeEncoding(t *testing.T) {
	if got := kdEncode("/jdyconnector/app_management/kingdee_auth_token"); got != "%2Fjdyconnector%2Fapp_management%2Fkingdee_auth_token" {
		t.Errorf("path %s", got)
	}
	if got := kdEncode(kdEncode("ZA==")); got != "ZA%253D%253D" {
		t.Errorf("double-encoded %s", got)
	}
	if got := kdEncode("a b~"); got != "a%20b~" {
		t.Errorf("space and tilde %s", got)
	}
}
