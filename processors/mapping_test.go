package processors_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ferry-data/ferry/flows"
	"github.com/ferry-data/ferry/processors"
	"github.com/ferry-data/ferry/schemas"
)

// The record is the refund of WDT's documented response example
// (vendors.md §3.5), abridged.
const documented = `{"refund_id":1130899,"refund_no":"TK2306140001","type":2,"status":30,"process_status":0,
"stockin_status":1,"shop_no":"wdtapi3-test","shop_id":711,"platform_id":"127","src_tids":"lj8234232389293842938422344",
"trade_no_list":"A18449","trade_id":2740715,"raw_refund_nos":"TKljcs2202180006","refund_time":"2022-06-08 00:00:00",
"created":1686711917000,"modified":1686712380000,"modified_date":"2023-06-14 11:13:00","check_time":"2023-06-14 11:13:00",
"settle_time":"","return_goods_count":1,"return_goods_amount":1,"actual_refund_amount":0.125,"guarantee_refund_amount":0,
"direct_refund_amount":"12.5","receive_amount":0,"return_logistics_no":"238943957239","return_logistics_name":"中通",
"buyer_nick":"lj","customer_name":"lj","receiver_name":"Tony","reason_name":"无","refund_reason":"1","remark":"",
"detail_list":[{"rec_id":1137182}]}`

func TestMapDocumentedRefund(t *testing.T) {
	s, err := schemas.Load("refund")
	if err != nil {
		t.Fatal(err)
	}
	cst := time.FixedZone("CST", 8*3600)
	rec, keep, err := processors.Map(s, &flows.Processor{Entity: "refund", Zone: flows.Zone{Location: cst}}, []byte(documented))
	if err != nil || !keep {
		t.Fatal(keep, err)
	}
	checks := map[string]string{
		"refund_id":             "1130899",
		"type":                  "2",
		"shop_id":               "711",
		"trade_id":              "2740715",
		"modified":              "2023-06-14 03:13:00 +0000 UTC",
		"created":               "2023-06-14 03:05:17 +0000 UTC",
		"check_time":            "2023-06-14 03:13:00 +0000 UTC",
		"settle_time":           "<nil>",
		"remark":                "",
		"return_logistics_name": "中通",
		"actual_refund_amount":  "0.1250",
		"direct_refund_amount":  "12.5000",
		"operator_name":         "<nil>",
	}
	for k, want := range checks {
		got := rec[k]
		var text string
		switch v := got.(type) {
		case interface{ FloatString(int) string }:
			text = v.FloatString(4)
		case time.Time:
			text = v.String()
		case nil:
			text = "<nil>"
		default:
			text = fmt.Sprint(v)
		}
		if text != want {
			t.Errorf("%s = %s, want %s", k, text, want)
		}
	}
	if _, err := s.Encode(rec); err != nil {
		t.Fatalf("mapped record does not encode: %v", err)
	}
}

func TestMapRefusals(t *testing.T) {
	s, _ := schemas.Load("refund")
	for _, tc := range []struct{ raw, want string }{
		{`{"modified":1686712380000}`, "field refund_id: missing"},
		{`{"refund_id":"abc","modified":1686712380000}`, `field refund_id: "abc" is not an integer`},
		{`{"refund_id":1,"modified":"yesterday"}`, `field modified: "yesterday" is not a time`},
		{`{"refund_id":1,"modified":1,"type":99999999999}`, "field type: 99999999999 does not fit an int"},
		{`not json`, "not a JSON object"},
	} {
		_, _, err := processors.Map(s, &flows.Processor{Entity: "refund"}, []byte(tc.raw))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want %q", tc.raw, err, tc.want)
		}
	}
}

// TestHostileRecords: records no vendor should send, but might, either map
// (invalid UTF-8 turns into U+FFFD and the record still encodes) or are
// refused with the reason the processor dead-letters them with; none
// panics or runs away (an exponent of a billion), and none maps into a
// record its schema cannot encode.
func TestHostileRecords(t *testing.T) {
	shipped, err := flows.Shipped()
	if err != nil {
		t.Fatal(err)
	}
	var f *flows.Flow
	for _, fl := range shipped {
		if fl.Name == "wdt_refunds" {
			f = fl
		}
	}
	s, err := schemas.Load(f.Processor.Entity)
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join("testdata", "wdt_refunds.raw.json"))
	if err != nil {
		t.Fatal(err)
	}
	var samples []map[string]json.RawMessage
	if err := json.Unmarshal(data, &samples); err != nil {
		t.Fatal(err)
	}
	// with is the first sample with field's value replaced by value, as
	// raw bytes: json.Marshal would refuse the hostile ones.
	with := func(field, value string) []byte {
		r := map[string]json.RawMessage{}
		for k, v := range samples[0] {
			if k != field {
				r[k] = v
			}
		}
		b, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		return append([]byte(`{"`+field+`":`+value+`,`), b[1:]...)
	}
	deep := strings.Repeat("[", 20000) + strings.Repeat("]", 20000)
	for _, tc := range []struct {
		name    string
		raw     []byte
		refused string // what the reason says, or "" when it maps
	}{
		{"nesting past the decoder's depth", with("remark", deep), "exceeded max depth"},
		{"a key beyond 64 bits", with("refund_id", "123456789012345678901234567890"), "refund_id"},
		{"a key of 1e400", with("refund_id", "1e400"), "refund_id"},
		{"an amount of 1e400", with("direct_refund_amount", "1e400"), "direct_refund_amount"},
		{"an amount of 1e1000000000", with("direct_refund_amount", "1e1000000000"), "an exponent beyond"},
		{"an amount past its precision", with("direct_refund_amount", "12345678901234567890.5"), "more than decimal("},
		{"invalid UTF-8 in a string", bytes.Replace(with("buyer_nick", `"XX"`), []byte("XX"), []byte{0xff, 0xfe}, 1), ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec, keep, err := processors.Map(s, &f.Processor, tc.raw)
			switch {
			case tc.refused != "" && (err == nil || !strings.Contains(err.Error(), tc.refused)):
				t.Fatalf("mapped as %v (kept %v, err %v), want it refused naming %q", rec, keep, err, tc.refused)
			case tc.refused == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tc.refused == "" && keep:
				if _, err := s.Encode(rec); err != nil {
					t.Fatalf("mapped into a record the schema cannot encode: %v", err)
				}
				if nick, _ := rec["buyer_nick"].(string); nick != "\uFFFD\uFFFD" {
					t.Fatalf("buyer_nick %q", nick)
				}
			}
		})
	}
}
