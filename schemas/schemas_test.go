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

func TestEverySchemaLoads(t *testing.T) {
	names := schemas.Names()
	for _, want := range []string{"customer", "order", "refund", "shop", "trade_status"} {
		s, err := schemas.Load(want)
		if err != nil {
			t.Fatal(err)
		}
		if s.Field(s.Key) == nil {
			t.Fatalf("%s: no key", want)
		}
		for _, f := range s.Fields {
			if f.Doc == "" {
				t.Errorf("%s.%s has no doc", want, f.Name)
			}
		}
	}
	if len(names) != 5 {
		t.Fatalf("schemas %v", names)
	}
}

func TestNestedRoundTrip(t *testing.T) {
	s, err := schemas.Load("order")
	if err != nil {
		t.Fatal(err)
	}
	in := map[string]any{
		"id": "3001", "name": "张三", "date": "20231001", "amount": schemas.Rat("150.75"),
		"items_detail": []any{
			map[string]any{"product_id": "A001", "qty": int32(2), "unit_price": schemas.Rat("50.25")},
			map[string]any{"product_id": "B002", "qty": int32(1), "unit_price": schemas.Rat("50.25")},
		},
		"modified": time.Date(2023, 10, 1, 4, 0, 0, 0, time.UTC),
	}
	b, err := s.Encode(in)
	if err != nil {
		t.Fatal(err)
	}
	out, err := s.Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	items := out["items_detail"].([]any)
	if len(items) != 2 || items[1].(map[string]any)["product_id"] != "B002" || out["name"] != "张三" || out["so_id"] != nil {
		t.Fatalf("decoded %v", out)
	}
	c, _ := schemas.Load("customer")
	b, err = c.Encode(map[string]any{"id": "1789", "modify_time": time.Unix(0, 0), "location": map[string]any{"province": "福建省", "city": "厦门市"}})
	if err != nil {
		t.Fatal(err)
	}
	cout, err := c.Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	if loc := cout["location"].(map[string]any); loc["province"] != "福建省" || loc["district"] != nil {
		t.Fatalf("location %v", loc)
	}
}

// TestFingerprintsAreStable: a schema loaded again reads what the first
// load wrote (goavro, the codec before, gave a nested record type named
// like the field that holds it a fingerprint that changed between loads).
func TestFingerprintsAreStable(t *testing.T) {
	for _, name := range schemas.Names() {
		s, err := schemas.Load(name)
		if err != nil {
			t.Fatal(err)
		}
		b, err := s.Encode(sample(s))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		for range 100 {
			again, _ := schemas.Load(name)
			if _, err := again.Decode(b); err != nil {
				t.Fatalf("%s: a second load cannot read the first one's records: %v", name, err)
			}
		}
	}
}

// sample is the smallest valid record of a schema.
func sample(s *schemas.Schema) map[string]any {
	rec := map[string]any{}
	for _, f := range s.Fields {
		if f.Nullable || f.Kind == schemas.Array {
			continue
		}
		switch f.Kind {
		case schemas.Long:
			rec[f.Name] = int64(1)
		case schemas.Int:
			rec[f.Name] = int32(1)
		case schemas.String:
			rec[f.Name] = "1"
		case schemas.Timestamp:
			rec[f.Name] = time.Unix(1, 0)
		}
	}
	for _, f := range s.Fields {
		if f.Kind == schemas.Array && !f.Nullable {
			rec[f.Name] = []any{}
		}
	}
	return rec
}
