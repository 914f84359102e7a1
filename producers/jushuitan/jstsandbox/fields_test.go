package jstsandbox_test

import (
	"strconv"
	"strings"
	"testing"

	"github.com/ferry-data/ferry/internal/sandbox"
	"github.com/ferry-data/ferry/internal/vendortest"
	"github.com/ferry-data/ferry/producers/jushuitan/jstsandbox"
)

// jstOrdersExample is vendors.md §1.5's success envelope of the orders-out
// query, verbatim.
const jstOrdersExample = `{"code":0,"msg":"执行成功","data":{
  "page_size":50,"page_index":1,"data_count":123,"page_count":3,"has_next":true,
  "datas":[{"co_id":10001,"shop_id":101,"io_id":2001,"o_id":3001,"so_id":"TB123",
    "created":"2024-01-01 10:00:00","modified":"2024-01-01 12:00:00","status":"Confirmed",
    "io_date":"2024-01-01 11:59:00","l_id":"SF123","lc_id":"SF","logistics_company":"顺丰速运",
    "wms_co_id":0,"pay_amount":99.0,"paid_amount":99.0,"freight":0,"ts":987654321,
    "items":[{"ioi_id":1,"sku_id":"SKU1","i_id":"STY1","name":"商品","qty":1,"sale_price":99.0,
              "sale_amount":99.0,"sale_base_price":120.0,"is_gift":false,"oi_id":"5001",
              "outer_oi_id":"x1","raw_so_id":"TB123","combine_sku_id":null}]}]}}`

// jstOrderFields is vendors.md §1.5's "Record fields seen in the wild",
// verbatim: the order level, then the child arrays.
const (
	jstOrderFields = `co_id, shop_id, shop_name, io_id, o_id, so_id, created, modified, status, order_type, shop_buyer_id, open_id, receiver_* (country/state/city/district/town/address/name/phone/mobile), buyer_message, remark, is_cod, pay_amount, paid_amount, free_amount, freight, weight, f_weight, l_id, lc_id, logistics_company, io_date, wms_co_id, merge_so_id, pay_date, wave_id, seller_flag, labels, business_staff, currency, is_print, is_print_express, ts`
	jstChildArrays = "items[], batchs[], sns[], clusterinfos[]"
)

// jstDocumentedOrderFields spells out jstOrderFields and jstChildArrays:
// receiver_* (a/b) is receiver_a and receiver_b, items[] is items.
func jstDocumentedOrderFields() []string {
	var out []string
	for _, f := range strings.Split(jstOrderFields+", "+jstChildArrays, ", ") {
		if prefix, rest, ok := strings.Cut(f, "* ("); ok {
			for _, s := range strings.Split(strings.TrimSuffix(rest, ")"), "/") {
				out = append(out, prefix+s)
			}
			continue
		}
		out = append(out, strings.TrimSuffix(f, "[]"))
	}
	return out
}

// TestJSTOrderFieldsAreTheVendorExample: an orders-out answer holds the
// envelope and data keys of vendors.md's example and nothing else, and
// every order holds the example's keys plus only fields of §1.5's order
// level list; every item holds the example item's keys.
func TestJSTOrderFieldsAreTheVendorExample(t *testing.T) {
	example := vendortest.DecodeObject(t, "example", []byte(jstOrdersExample))
	exData := vendortest.Object(t, "example data", example["data"])
	exOrder := vendortest.Records(t, "example datas", exData["datas"])[0]
	exItem := vendortest.Records(t, "example items", exOrder["items"])[0]

	f := newJSTFixture(t, jstsandbox.Config{Orders: 40, Settings: sandbox.Settings{Seed: 5}})
	resp, b, err := f.do(jstCall{})
	if env := f.envelope(resp, b, err); env.Code != 0 {
		t.Fatalf("code %d: %s", env.Code, env.Msg)
	}
	served := vendortest.DecodeObject(t, "answer", b)
	vendortest.MatchFields(t, "envelope", served, example)
	data := vendortest.Object(t, "data", served["data"])
	vendortest.MatchFields(t, "data", data, exData)
	documented := jstDocumentedOrderFields()
	for _, o := range vendortest.Records(t, "datas", data["datas"]) {
		what := "order " + strconv.FormatInt(jstNum(o, "o_id"), 10)
		vendortest.MatchFields(t, what, o, exOrder, documented...)
		for _, it := range vendortest.Records(t, what+" items", o["items"]) {
			vendortest.MatchFields(t, what+" item", it, exItem)
		}
	}
}
