package banniusandbox

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
