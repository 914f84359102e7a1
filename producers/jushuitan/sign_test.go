package jushuitan

import (
	"testing"
	"time"

	"github.com/ferry-data/ferry/internal/vendorhttp"
	"github.com/ferry-data/ferry/internal/vendortest"
)

func TestSignLeavesOutSignAndEmptyValues(t *testing.T) {
	p := map[string]string{"a": "1", "b": "2"}
	want := Sign(p, "s")
	p["sign"] = "whatever"
	p["access_token"] = ""
	if got := Sign(p, "s"); got != want {
		t.Fatal("sign or an empty value took part in the signature")
	}
	if want != vendorhttp.MD5Hex("sa1b2") {
		t.Fatalf("Sign = %s, want md5(sa1b2)", want)
	}
}

func TestTimestamp(t *testing.T) {
	if got := Timestamp(time.Unix(1704153900, 999e6)); got != "1704153900" {
		t.Fatalf("Timestamp = %s", got)
	}
}

// TestSignVectors checks Sign against the vendor's vectors, which its
// sandbox is checked against too.
func TestSignVectors(t *testing.T) {
	vendortest.CheckVectors(t, "testdata/sign_vectors.json", func(v vendortest.Vector) string { return Sign(v.Params, v.Secret) })
}
