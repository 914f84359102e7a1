package vendortest

import (
	"encoding/json"
	"os"
	"strings"
	"testing"
)

// Vector is one signing vector of a vendor. A vendor's vectors live once,
// in its folder's testdata/sign_vectors.json, and both its client and its
// sandbox are checked against them: two independent readings of the
// vendor's documents that must agree with the vendor, not only with each
// other.
type Vector struct {
	Name string `json:"name"`
	// Source says where the vector comes from: "verified: …", published
	// by the vendor or confirmed by a public library's tests, or
	// "computed: …", worked out from the documented rule where the vendor
	// publishes none.
	Source string            `json:"source"`
	Params map[string]string `json:"params"`
	Secret string            `json:"secret"`
	Want   string            `json:"want"`
	// Request and StringToSign are for signatures over a whole request
	// (method, path, nonce, timestamp) and the text they sign.
	Request      map[string]string `json:"request,omitempty"`
	StringToSign string            `json:"stringToSign,omitempty"`
}

// CheckVectors checks sign against every vector of the file.
func CheckVectors(t *testing.T, path string, sign func(v Vector) string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var vs []Vector
	if err := json.Unmarshal(data, &vs); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if len(vs) == 0 {
		t.Fatalf("%s: no vectors", path)
	}
	for _, v := range vs {
		if !strings.HasPrefix(v.Source, "verified: ") && !strings.HasPrefix(v.Source, "computed: ") {
			t.Errorf("%s: %s: the source %q says neither verified nor computed", path, v.Name, v.Source)
		}
		if got := sign(v); got != v.Want {
			t.Errorf("%s (%s): %s, want %s", v.Name, v.Source, got, v.Want)
		}
	}
}
