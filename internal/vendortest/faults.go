package vendortest

import (
	"bytes"
	"encoding/json"
	"net/http"
	"testing"
)

// FailureKind names an injected failure: a 502, a (slow) 504, or an HTTP
// 200 whose JSON is cut short but begins as the vendor's success answer
// (okPrefix) would. Any other answer fails the test.
func FailureKind(t *testing.T, resp *http.Response, body []byte, okPrefix string) string {
	t.Helper()
	switch {
	case resp.StatusCode == http.StatusBadGateway:
		return "502"
	case resp.StatusCode == http.StatusGatewayTimeout:
		return "504"
	case resp.StatusCode == http.StatusOK && !json.Valid(body) && bytes.HasPrefix(body, []byte(okPrefix)):
		return "truncated"
	}
	t.Fatalf("unexpected answer: HTTP %d %.100s", resp.StatusCode, body)
	return ""
}
