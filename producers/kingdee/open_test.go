package kingdee_test

import (
	"testing"

	"github.com/ferry-data/ferry/producers/kingdee"
)

// TestOpen decrypts vectors made with OpenSSL (openssl enc -aes-256-cbc
// -K hex(secret) -iv hex(5e8y6w45ju8w9jq8) -base64), the client secret
// being the official doc example's; values that are not the vendor's
// encryption are refused, so the client keeps them as sent.
func TestOpen(t *testing.T) {
	const secret = "f2adcfef73369bfc4e1384677d38a0ff"
	for _, tc := range []struct{ sealed, want, err string }{
		{"jCHmZEcJ9JCpu7Upv8YdEEcwHAhorI30JEV5De764gw=", "黄埔区科学大道18号", ""},
		{"NYPiTvcX35qmceQzSWcdVQ==", "13800138000", ""},
		{"wwab8uhX1R9TVL29uzuxEg==", "a", ""},
		{"", "", ""},
		{"13800138000", "", "not base64"},
		{"aGVsbG8=", "", "not whole AES blocks"},
	} {
		got, err := kingdee.Open(secret, tc.sealed)
		switch {
		case tc.err != "" && (err == nil || err.Error() != tc.err):
			t.Errorf("Open(%q): error %v, want %s", tc.sealed, err, tc.err)
		case tc.err == "" && (err != nil || got != tc.want):
			t.Errorf("Open(%q) = %q, %v; want %q", tc.sealed, got, err, tc.want)
		}
	}
	if _, err := kingdee.Open("short", "NYPiTvcX35qmceQzSWcdVQ=="); err == nil {
		t.Error("a secret that is no AES key opened a value")
	}
}
