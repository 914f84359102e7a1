package kingdee

import (
	"testing"

	"github.com/ferry-data/ferry/internal/vendortest"
)

func TestStringToSignWithoutQuery(t *testing.T) {
	got := StringToSign("POST", "/a", nil, "1", "2")
	if want := "POST\n%2Fa\n\nx-api-nonce:1\nx-api-timestamp:2\n"; got != want {
		t.Fatalf("StringToSign = %q, want %q", got, want)
	}
}

func TestEncode(t *testing.T) {
	for in, want := range map[string]string{
		"MzZ==":        "MzZ%3D%3D",
		"a b+c/d":      "a%20b%2Bc%2Fd",
		"-_.~AZaz09":   "-_.~AZaz09",
		"客户":           "%E5%AE%A2%E6%88%B7",
		"!'()*":        "%21%27%28%29%2A",
		"x=1&y=2":      "x%3D1%26y%3D2",
		Encode("MzZ="): "MzZ%253D",
	} {
		if got := Encode(in); got != want {
			t.Errorf("Encode(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestQuery(t *testing.T) {
	got := Query(map[string]string{"b": "2 3", "a": "=", "c": ""})
	if want := "a=%3D&b=2%203&c="; got != want {
		t.Fatalf("Query = %q, want %q", got, want)
	}
	if Query(nil) != "" {
		t.Fatal("Query(nil) not empty")
	}
}

// The doc example's app_signature is base64 of a 64-character hex text.
func TestAppSignatureShape(t *testing.T) {
	got := AppSignature("secret", "bVZgAZOv1")
	if len(got) != 88 || got[86:] != "==" {
		t.Fatalf("AppSignature = %q: want base64 of 64 hex characters", got)
	}
	if got == AppSignature("other", "bVZgAZOv1") {
		t.Fatal("AppSignature ignores the secret")
	}
}

// TestSignVectors checks StringToSign and Sign against the vendor's
// vectors, which its sandbox is checked against too.
func TestSignVectors(t *testing.T) {
	vendortest.CheckVectors(t, "testdata/sign_vectors.json", func(v vendortest.Vector) string {
		r := v.Request
		sts := StringToSign(r["method"], r["path"], v.Params, r["nonce"], r["timestamp"])
		if sts != v.StringToSign {
			t.Errorf("%s: StringToSign =\n%q\nwant\n%q", v.Name, sts, v.StringToSign)
		}
		return Sign(v.Secret, sts)
	})
}
