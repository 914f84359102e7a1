package kingdeesandbox

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
