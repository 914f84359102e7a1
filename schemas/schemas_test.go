package schemas_test

import (
	"testing"
	"time"

	"github.com/ferry-data/ferry/schemas"
)

func TestRefundRoundTrip(t *testing.T) {
	s, err := schemas.Load("refund")
	if err != nil {
		t.Fatal(err)
	}
	if s.Key != "refund_id" || s.Version != "modified" || len(s.Fields) != 39 {
		t.Fatalf("refund schema: key %q version %q %d fields", s.Key, s.Version, len(s.Fields))
	}
	mod := time.Date(2024, 1, 2, 3, 4, 5, 6e6, time.UTC)
	in := map[string]any{
		"refund_id":            int64(1130899),
		"refund_no":            "TK2306140001",
		"type":                 int32(2),
		"modified":             mod,
		"actual_refund_amount": schemas.Rat("12.3400"),
		"settle_time":          nil,
	}
	b, err := s.Encode(in)
	if err != nil {
		t.Fatal(err)
	}
	if b[0] != 0xC3 || b[1] != 0x01 {
		t.Fatalf("not single-object encoded: % x", b[:2])
	}
	out, err := s.Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	if out["refund_id"] != int64(1130899) || out["refund_no"] != "TK2306140001" || out["type"] != int32(2) {
		t.Fatalf("decoded %v", out)
	}
	if got := out["modified"].(time.Time); !got.Equal(mod) {
		t.Fatalf("modified %v, want %v", got, mod)
	}
	if got := out["actual_refund_amount"]; got.(interface{ FloatString(int) string }).FloatString(2) != "12.34" {
		t.Fatalf("amount %v", got)
	}
	if out["settle_time"] != nil || out["remark"] != nil {
		t.Fatalf("nulls: %v %v", out["settle_time"], out["remark"])
	}
}

func TestEncodeRejectsMissingKey(t *testing.T) {
	s, _ := schemas.Load("refund")
	if _, err := s.Encode(map[string]any{"modified": time.Now()}); err == nil {
		t.Fatal("encoded a refund without refund_id")
	}
}
