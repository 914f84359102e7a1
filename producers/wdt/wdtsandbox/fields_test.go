package wdtsandbox_test

import (
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/ferry-data/ferry/internal/sandbox"
	"github.com/ferry-data/ferry/internal/vendortest"
	"github.com/ferry-data/ferry/producers/wdt/wdtsandbox"
)

// wdtRefundsExample is vendors.md §3.5's success envelope of
// aftersales.refund.Refund.search (W's response example), verbatim.
const wdtRefundsExample = `{"status":0,"data":{"total_count":1,"order":[{"refund_id":1130899,"refund_no":"TK2306140001",
 "type":2,"status":30,"process_status":0,"stockin_status":1,"shop_no":"wdtapi3-test","shop_id":711,
 "platform_id":"127","src_tids":"lj8234232389293842938422344","tid_list":"lj82342...","trade_no_list":"A18449",
 "trade_id":2740715,"raw_refund_nos":"TKljcs2202180006","refund_time":"2022-06-08 00:00:00",
 "created":1686711917000,"modified":1686712380000,"modified_date":"2023-06-14 11:13:00",
 "check_time":"2023-06-14 11:13:00","settle_time":"","return_goods_count":1,"return_goods_amount":1,
 "actual_refund_amount":0,"guarantee_refund_amount":0,"direct_refund_amount":0,"receive_amount":0,
 "return_logistics_no":"238943957239","return_logistics_name":"中通","return_warehouse_no":"wdtapi3-test",
 "buyer_nick":"lj","customer_name":"lj","receiver_name":"Tony","receiver_telno":"186...",
 "reason_name":"无","refund_reason":"1","flag_name":"无","remark":"","rr_status":0,
 "detail_list":[{"rec_id":1137182,"refund_id":1130899,"oid":"lj23...","tid":"lj82...","trade_no":"A18449",
   "platform_id":127,"goods_no":"hcf","goods_name":"hcf","spec_no":"hcf","spec_name":"hcf","barcode":"hcf",
   "num":1,"price":1,"original_price":1,"refund_num":1,"total_amount":1,"refund_amount":0,
   "stockin_num":0,"is_guarantee":true,"sys_goods_id":105064,"sys_spec_id":273312,
   "modified":1686712380000,"created":"2023-06-14 11:05:17","modified_date":"2023-06-14 11:13:00"}],
 "amount_detail_list":[]}]}}`

// wdtSeedColumns are the refund fields seed 004 (shared/seeds/004_…)
// writes to its table, verbatim from its REPLACE INTO column list: the
// seed platform's reading of the same API.
func wdtSeedColumns() []string {
	return strings.FieldsFunc(`refund_id, src_tids, refund_no, remark, type, stockin_status,
    flag_name, return_goods_count, receiver_telno, receiver_name,
    modified, note_count, shop_no, from_type, created,
    settle_time, check_time, return_logistics_no, trade_no_list,
    guarantee_refund_amount, return_goods_amount,
    return_logistics_name, reason_name, refund_reason,
    buyer_nick, operator_name, actual_refund_amount,
    revert_reason_name, return_warehouse_no,
    direct_refund_amount, receive_amount,
    customer_name, fenxiao_nick_name,
    status, shop_id, trade_id,
    raw_refund_nos, pay_id,
    provider_refund_no`, func(r rune) bool { return r == ',' || r == ' ' || r == '\n' })
}

// TestWDTRefundFieldsAreTheVendorExample: a refund search answer holds
// exactly the envelope and data keys of vendors.md's example, every refund
// holds the example refund's keys plus only fields seed 004 names, and
// every detail line exactly the example line's keys.
func TestWDTRefundFieldsAreTheVendorExample(t *testing.T) {
	example := vendortest.DecodeObject(t, "example", []byte(wdtRefundsExample))
	exData := vendortest.Object(t, "example data", example["data"])
	exRefund := vendortest.Records(t, "example order", exData["order"])[0]
	exDetail := vendortest.Records(t, "example detail_list", exRefund["detail_list"])[0]

	f := newFixture(t, wdtsandbox.Config{Records: 40, Settings: sandbox.Settings{Seed: 5}})
	resp, b, err := f.do(call{pageSize: 40, calcTotal: true})
	if err != nil {
		t.Fatalf("call: %v", err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("HTTP %d: %s", resp.StatusCode, b)
	}
	served := vendortest.DecodeObject(t, "answer", b)
	if served["status"] != float64(0) {
		t.Fatalf("status %v: %v", served["status"], served["message"])
	}
	vendortest.MatchFields(t, "envelope", served, example)
	data := vendortest.Object(t, "data", served["data"])
	vendortest.MatchFields(t, "data", data, exData)
	for _, r := range vendortest.Records(t, "order", data["order"]) {
		what := "refund " + strconv.FormatInt(id(r), 10)
		// Fields beyond the example are those seed 004's statement names.
		vendortest.MatchFields(t, what, r, exRefund, wdtSeedColumns()...)
		for _, d := range vendortest.Records(t, what+" detail_list", r["detail_list"]) {
			vendortest.MatchFields(t, what+" detail", d, exDetail)
		}
	}
}
