package jstsandbox

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
		{"jushuitan, verified", jstSign, map[string]string{"timestamp": "100", "app_key": "app", "charset": "utf-8"}, "secret", "706427ca94e342781ac36d501151cb10"},
		{"jushuitan, computed", jstSign, map[string]string{"access_token": "tok", "app_key": "ak", "charset": "utf-8", "timestamp": "1704153900", "version": "2",
			"biz": `{"page_index":1,"page_size":50,"modified_begin":"2024-01-01 00:00:00","modified_end":"2024-01-02 00:00:00"}`}, "sec", "fdb9b0377dbe6f3d26fe95adba76877b"},
		{"jushuitan, empty values left out", jstSign, map[string]string{"timestamp": "100", "app_key": "app", "charset": "utf-8", "token": ""}, "secret", "706427ca94e342781ac36d501151cb10"},
	} {
		if got := tc.sign(tc.params, tc.secret); got != tc.want {
			t.Errorf("%s: %s, want %s", tc.name, got, tc.want)
		}
	}
}
