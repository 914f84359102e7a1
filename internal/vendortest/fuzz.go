package vendortest

import (
	"encoding/json"
	"testing"

	"github.com/ferry-data/ferry/internal/backoff"
	"github.com/ferry-data/ferry/internal/vendorhttp"
)

// CheckRead holds what a vendor answer reader returned for any body to
// what every reader must do: an error says how the call ended (never ok)
// and is retried unless it is the vendor's refusal (refused, when it is
// not nil, reports whether it is); a success holds only JSON records.
func CheckRead(t *testing.T, records []json.RawMessage, err error, refused func(error) bool) {
	t.Helper()
	if err != nil {
		if vendorhttp.Outcome(err) == vendorhttp.OK {
			t.Fatalf("error %v counted as ok", err)
		}
		if _, retried := backoff.Retryable(err); !retried && (refused == nil || !refused(err)) {
			t.Fatalf("error %v is neither retried nor the vendor's refusal", err)
		}
		return
	}
	for i, r := range records {
		if !json.Valid(r) {
			t.Fatalf("record %d is not JSON: %q", i, r)
		}
	}
}
