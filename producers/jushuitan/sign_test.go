package jushuitan

import (
	"testing"
	"time"
)

// The VERIFIED vector of vendors.md §1.3 (a public MCP connector's tests):
// the string signed is secretapp_keyappcharsetutf-8timestamp100.
func TestSignVerifiedVector(t *testing.T) {
	got := Sign(map[string]string{"timestamp": "100", "app_key": "app", "charset": "utf-8"}, "secret")
	if want := "706427ca94e342781ac36d501151cb10"; got != want {
		t.Fatalf("Sign = %s, want %s", got, want)
	}
}

// The "computed here" vector of vendors.md §1.3: a business call whose biz
// keys are not sorted (biz is signed as the text sent).
func TestSignComputedVector(t *testing.T) {
	got := Sign(map[string]string{
		"access_token": "tok",
		"app_key":      "ak",
		"charset":      "utf-8",
		"timestamp":    "1704153900",
		"version":      "2",
		"biz":          `{"page_index":1,"page_size":50,"modified_begin":"2024-01-01 00:00:00","modified_end":"2024-01-02 00:00:00"}`,
	}, "sec")
	if want := "fdb9b0377dbe6f3d26fe95adba76877b"; got != want {
		t.Fatalf("Sign = %s, want %s", got, want)
	}
}

// The token calls sign their forms with the same rule (J
// DefaultJstAuthDigest); these values were computed with Python's hashlib
// for this test, not taken from the vendor.
func TestSignTokenForms(t *testing.T) {
	for _, tc := range []struct {
		name string
		form map[string]string
		want string
	}{
		{"getInitToken", map[string]string{
			"app_key": "ak", "timestamp": "1704153900", "grant_type": "authorization_code", "charset": "utf-8", "code": "a1B2c3",
		}, "93e7272f507f162606df45e4eb52349f"},
		{"refreshToken", map[string]string{
			"app_key": "ak", "timestamp": "1704153900", "grant_type": "refresh_token", "charset": "utf-8", "refresh_token": "rt", "scope": "all",
		}, "a8018ecab3c1b392c985991bbab6fd4a"},
	} {
		if got := Sign(tc.form, "sec"); got != tc.want {
			t.Errorf("%s: Sign = %s, want %s", tc.name, got, tc.want)
		}
	}
}

func TestSignLeavesOutSignAndEmptyValues(t *testing.T) {
	p := map[string]string{"a": "1", "b": "2"}
	want := Sign(p, "s")
	p["sign"] = "whatever"
	p["access_token"] = ""
	if got := Sign(p, "s"); got != want {
		t.Fatal("sign or an empty value took part in the signature")
	}
	if want != md5Hex("sa1b2") {
		t.Fatalf("Sign = %s, want md5(sa1b2)", want)
	}
}

func TestTimestamp(t *testing.T) {
	if got := Timestamp(time.Unix(1704153900, 999e6)); got != "1704153900" {
		t.Fatalf("Timestamp = %s", got)
	}
}
