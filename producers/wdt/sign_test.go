package wdt

import (
	"testing"
	"time"
)

// The vector is the verified one of vendors.md §3.2 (from a public Qimen
// signing library's tests).
func TestSignVerifiedVector(t *testing.T) {
	got := Sign(map[string]string{
		"sid":       "wdtapi3",
		"key":       "appkey",
		"salt":      "salt",
		"method":    "goods.Goods.queryWithSpec",
		"timestamp": "100",
		"v":         "1.0",
		"body":      `[{"goods_no":"G001"}]`,
	}, "secret")
	if want := "703b2c4b5b16565883e6b58d18e254a2"; got != want {
		t.Fatalf("Sign = %s, want %s", got, want)
	}
}

func TestSignIgnoresSign(t *testing.T) {
	p := map[string]string{"a": "1"}
	want := Sign(p, "s")
	p["sign"] = "whatever"
	if got := Sign(p, "s"); got != want {
		t.Fatalf("sign param took part in the signature")
	}
}

func TestTimestamp(t *testing.T) {
	if got := Timestamp(time.Unix(1325347300, 0)); got != "100" {
		t.Fatalf("Timestamp = %s, want 100", got)
	}
}

func TestSplitSecret(t *testing.T) {
	s, salt := SplitSecret("abc:xyz")
	if s != "abc" || salt != "xyz" {
		t.Fatalf("SplitSecret = %q %q", s, salt)
	}
}
