package banniusandbox

import (
	"testing"

	"github.com/ferry-data/ferry/internal/vendortest"
)

// TestSign checks the sandbox's own reading of the signature against the
// vendor's vectors, which its client is checked against too.
func TestSign(t *testing.T) {
	vendortest.CheckVectors(t, "../testdata/sign_vectors.json", func(v vendortest.Vector) string { return banniuSign(v.Params, v.Secret) })
}
