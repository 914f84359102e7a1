package banniu

import (
	"testing"
	"time"
)

// The vectors are the two "computed here" ones of vendors.md §5.2: the BJ
// variant (no app_secret parameter) and the BN variant, which also sends
// and signs app_secret.
func TestSignVectors(t *testing.T) {
	params := func() map[string]string {
		return map[string]string{
			"access_token": "tok",
			"app_key":      "ak",
			"method":       "task.update",
			"timestamp":    "2024-01-02 00:05:00",
			"v":            "1",
		}
	}
	if got, want := Sign(params(), "sec"), "A6C3EA393CDA6BDA62F3AD732E6FFD1D"; got != want {
		t.Errorf("Sign = %s, want %s", got, want)
	}
	withSecret := params()
	withSecret["app_secret"] = "sec"
	if got, want := Sign(withSecret, "sec"), "3A2BDCAE3E15A7D31316C1190C928FED"; got != want {
		t.Errorf("Sign with app_secret = %s, want %s", got, want)
	}
}

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
