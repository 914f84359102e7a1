package processors_test

import (
	"fmt"
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
