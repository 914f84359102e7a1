package kingdeesandbox

import (
	"testing"

	"github.com/ferry-data/ferry/internal/vendortest"
)

// TestSign checks the sandbox's own reading of the string to sign and the
// signature against the vendor's vectors, which its client is checked
// against too.
func TestSign(t *testing.T) {
	vendortest.CheckVectors(t, "../testdata/sign_vectors.json", func(v vendortest.Vector) string {
		r := v.Request
		sts := kdStringToSign(r["method"], r["path"], v.Params, r["nonce"], r["timestamp"])
		if sts != v.StringToSign {
			t.Errorf("%s: string to sign =\n%q\nwant\n%q", v.Name, sts, v.StringToSign)
		}
		return kdHMAC(v.Secret, sts)
	})
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
