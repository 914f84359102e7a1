package wdt

import (
	"testing"
	"time"

	"github.com/ferry-data/ferry/internal/vendortest"
)

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

// TestSignVectors checks Sign against the vendor's vectors, which its
// sandbox is checked against too.
func TestSignVectors(t *testing.T) {
	vendortest.CheckVectors(t, "testdata/sign_vectors.json", func(v vendortest.Vector) string { return Sign(v.Params, v.Secret) })
}
