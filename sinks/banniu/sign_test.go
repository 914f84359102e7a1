package banniu

import (
	"testing"
	"time"

	"github.com/ferry-data/ferry/internal/vendortest"
)

func TestSignIgnoresSign(t *testing.T) {
	p := map[string]string{"method": "task.list", "project_id": "77206"}
	want := Sign(p, "s")
	p["sign"] = "whatever"
	if got := Sign(p, "s"); got != want {
		t.Fatal("the sign param took part in the signature")
	}
}

func TestTimestampIsBeijingTime(t *testing.T) {
	at := time.Date(2024, 1, 1, 16, 5, 0, 0, time.UTC)
	if got, want := Timestamp(at), "2024-01-02 00:05:00"; got != want {
		t.Fatalf("Timestamp = %s, want %s", got, want)
	}
}

// TestSignVectors checks Sign against the vendor's vectors, which its
// sandbox is checked against too.
func TestSignVectors(t *testing.T) {
	vendortest.CheckVectors(t, "testdata/sign_vectors.json", func(v vendortest.Vector) string { return Sign(v.Params, v.Secret) })
}
