package sandbox_test

import (
	"encoding/json"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/ferry-data/ferry/internal/sandbox"
)

// These tests hold each sandbox's field set to the examples of
// shared/vendors.md, as TestKingdeeListFieldsAreTheVendorExample does for
// Kingdee: (a) every key of the example is served, and (b) every key served
// is in the example or in a field list vendors.md documents for the API.

// fieldsJSON decodes a JSON object.
func fieldsJSON(t *testing.T, what string, b []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("%s: decode %.300s: %v", what, b, err)
	}
	return m
}

// fieldsObject is v as a JSON object.
func fieldsObject(t *testing.T, what string, v any) map[string]any {
	t.Helper()
	m, ok := v.(map[string]any)
	if !ok {
		t.Fatalf("%s is %T, not an object", what, v)
	}
	return m
}

// fieldsRecords is v as a non-empty array of JSON objects.
func fieldsRecords(t *testing.T, what string, v any) []map[string]any {
	t.Helper()
	xs, ok := v.([]any)
	if !ok || len(xs) == 0 {
		t.Fatalf("%s is %v, not a non-empty array", what, v)
	}
	out := make([]map[string]any, len(xs))
	for i, x := range xs {
		out[i] = fieldsObject(t, what+"["+strconv.Itoa(i)+"]", x)
	}
	return out
}

// fieldsServeExample is (a): served holds every key of the vendors.md
// example.
func fieldsServeExample(t *testing.T, what string, served, example map[string]any) {
	t.Helper()
	for _, k := range slices.Sorted(maps.Keys(example)) {
		if _, ok := served[k]; !ok {
			t.Fatalf("%s lacks %q of the vendors.md example\nserved keys %v", what, k, slices.Sorted(maps.Keys(served)))
		}
	}
}

// fieldsDocumented is (b): every key served is in the example or in
// documented, a field list vendors.md gives for the API.
func fieldsDocumented(t *testing.T, what string, served, example map[string]any, documented ...string) {
	t.Helper()
	for _, k := range slices.Sorted(maps.Keys(served)) {
		if _, ok := example[k]; !ok && !slices.Contains(documented, k) {
			t.Fatalf("%s serves %q, which is neither in the vendors.md example %v nor in its documented fields %v",
				what, k, slices.Sorted(maps.Keys(example)), documented)
		}
	}
}

// fieldsMatch is (a) and (b).
func fieldsMatch(t *testing.T, what string, served, example map[string]any, documented ...string) {
	t.Helper()
	fieldsServeExample(t, what, served, example)
	fieldsDocumented(t, what, served, example, documented...)
}

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
	example := fieldsJSON(t, "example", []byte(jstOrdersExample))
	exData := fieldsObject(t, "example data", example["data"])
	exOrder := fieldsRecords(t, "example datas", exData["datas"])[0]
	exItem := fieldsRecords(t, "example items", exOrder["items"])[0]

	f := newJSTFixture(t, sandbox.JSTConfig{Seed: 5, Orders: 40})
	resp, b, err := f.do(jstCall{})
	if env := f.envelope(resp, b, err); env.Code != 0 {
		t.Fatalf("code %d: %s", env.Code, env.Msg)
	}
	served := fieldsJSON(t, "answer", b)
	fieldsMatch(t, "envelope", served, example)
	data := fieldsObject(t, "data", served["data"])
	fieldsMatch(t, "data", data, exData)
	documented := jstDocumentedOrderFields()
	for _, o := range fieldsRecords(t, "datas", data["datas"]) {
		what := "order " + strconv.FormatInt(jstNum(o, "o_id"), 10)
		fieldsMatch(t, what, o, exOrder, documented...)
		for _, it := range fieldsRecords(t, what+" items", o["items"]) {
			fieldsMatch(t, what+" item", it, exItem)
		}
	}
}

// jkyTradesExample is vendors.md §2.4's success envelope of
// jackyun.tradenotsensitiveinfos.list.get, verbatim.
const jkyTradesExample = `{"code":200,"msg":"","subCode":"","result":{
  "data":{"trades":[{"tradeId":"123","tradeNo":"JY2024010100001","tradeStatus":9090,"tradeType":1,
     "shopId":"11","shopName":"天猫旗舰店","shopcode":"TM01","warehouseId":"5","warehouseName":"主仓",
     "sourceTradeNo":"TB123","onlineTradeNo":"TB123","billDate":"2024-01-01 10:00:00",
     "consignTime":"2024-01-01 18:00:00","gmtCreate":"...","gmtModified":"...","isDelete":0,
     "payment":99.0,"totalFee":120.0,"postFee":0,"discountFee":21.0,"sellerMemo":"","buyerMemo":"",
     "logisticName":"顺丰","mainPostid":"SF123","customerName":"张三",
     "goodsDetail":[{"subTradeId":"1","goodsId":"7","goodsNo":"G001","goodsName":"商品","specName":"红色",
        "barcode":"690...","sellCount":1,"sellPrice":99.0,"sellTotal":99.0,"isGift":0}]}],
   "totalResults":1},
  "scrollId":"abc...","contextId":"..."}}`

// TestJackyunTradeFieldsAreTheVendorExample: a trade search answer holds
// exactly the envelope, data, trade and goods-line keys of vendors.md's
// example (§2.4 lists no other trade fields), and its result holds no key
// the example lacks.
func TestJackyunTradeFieldsAreTheVendorExample(t *testing.T) {
	example := fieldsJSON(t, "example", []byte(jkyTradesExample))
	exResult := fieldsObject(t, "example result", example["result"])
	exData := fieldsObject(t, "example data", exResult["data"])
	exTrade := fieldsRecords(t, "example trades", exData["trades"])[0]
	exGoods := fieldsRecords(t, "example goodsDetail", exTrade["goodsDetail"])[0]

	f := newJkyFixture(t, sandbox.JackyunConfig{Seed: 5, Trades: 40})
	resp, b := f.do(jkyCall{pageSize: 50})
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("HTTP %d: %s", resp.StatusCode, b)
	}
	served := fieldsJSON(t, "answer", b)
	if served["code"] != float64(200) {
		t.Fatalf("code %v: %v", served["code"], served["msg"])
	}
	fieldsMatch(t, "envelope", served, example)
	result := fieldsObject(t, "result", served["result"])
	// result is held to (b) only: the example's scrollId is not served.
	fieldsDocumented(t, "result", result, exResult)
	data := fieldsObject(t, "result.data", result["data"])
	fieldsMatch(t, "result.data", data, exData)
	for _, tr := range fieldsRecords(t, "trades", data["trades"]) {
		what := "trade " + jkyID(tr)
		fieldsMatch(t, what, tr, exTrade)
		for _, g := range fieldsRecords(t, what+" goodsDetail", tr["goodsDetail"]) {
			fieldsMatch(t, what+" goods line", g, exGoods)
		}
	}
}

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
	example := fieldsJSON(t, "example", []byte(wdtRefundsExample))
	exData := fieldsObject(t, "example data", example["data"])
	exRefund := fieldsRecords(t, "example order", exData["order"])[0]
	exDetail := fieldsRecords(t, "example detail_list", exRefund["detail_list"])[0]

	f := newFixture(t, sandbox.WDTConfig{Seed: 5, Records: 40})
	resp, b, err := f.do(call{pageSize: 40, calcTotal: true})
	if err != nil {
		t.Fatalf("call: %v", err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("HTTP %d: %s", resp.StatusCode, b)
	}
	served := fieldsJSON(t, "answer", b)
	if served["status"] != float64(0) {
		t.Fatalf("status %v: %v", served["status"], served["message"])
	}
	fieldsMatch(t, "envelope", served, example)
	data := fieldsObject(t, "data", served["data"])
	fieldsMatch(t, "data", data, exData)
	for _, r := range fieldsRecords(t, "order", data["order"]) {
		what := "refund " + strconv.FormatInt(id(r), 10)
		// Fields beyond the example are those seed 004's statement names.
		fieldsMatch(t, what, r, exRefund, wdtSeedColumns()...)
		for _, d := range fieldsRecords(t, what+" detail_list", r["detail_list"]) {
			fieldsMatch(t, what+" detail", d, exDetail)
		}
	}
}

// bnTaskListExample is vendors.md §5.4's task.list envelope, verbatim.
const bnTaskListExample = `{"response":{"total_results":null,"page_no":null,"page_size":null,"code":0,"has_next":null,
  "error_msg":null,"map":{"result":[{"-1":"6690538","0":6690538,"37761":"文本","37729":"13675639166"}]},
  "isSuccess":null}}`

// bnRowKeys is vendors.md §5.3 on task.list rows: "Each result row is keyed
// by column id. Key "-1" holds the task id as a string and key "0" holds it
// as an int." The column ids are what column.list (§5.1) maps to names.
var bnRowKeys = []string{"-1", "0"}

// TestBanniuTaskListFieldsAreTheVendorExample: a task.list answer holds
// exactly the response and map keys of vendors.md's example; in a project
// with the example's columns every row holds the example row's keys, and
// in that project and the default one a row holds only "-1", "0" and
// column ids column.list names.
func TestBanniuTaskListFieldsAreTheVendorExample(t *testing.T) {
	example := fieldsJSON(t, "example", []byte(bnTaskListExample))
	exResponse := fieldsObject(t, "example response", example["response"])
	exMap := fieldsObject(t, "example map", exResponse["map"])
	exRow := fieldsRecords(t, "example result", exMap["result"])[0]

	p := sandbox.BanniuProject{ID: 37700, AppID: 37701, Name: "示例群组", Columns: []sandbox.BanniuColumn{
		{ID: 37729, Name: "手机号", BehaviorType: 1},
		{ID: 37761, Name: "文本", BehaviorType: 1},
	}}
	for _, c := range []struct {
		project int64
		cfg     sandbox.BanniuConfig
	}{
		{p.ID, sandbox.BanniuConfig{Seed: 5, Tasks: 20, Projects: []sandbox.BanniuProject{p}}},
		{bnProject, sandbox.BanniuConfig{Seed: 5, Tasks: 20}},
	} {
		f := newBNFixture(t, c.cfg)
		project := strconv.FormatInt(c.project, 10)
		var cols []map[string]any
		f.ok(bnCall{method: "column.list", params: map[string]string{"project_id": project}}, &cols)
		documented := slices.Clone(bnRowKeys)
		for _, col := range cols {
			documented = append(documented, strconv.FormatFloat(col["column_id"].(float64), 'f', -1, 64))
		}

		resp, b, err := f.do(bnCall{params: bnWith(bnPage(1, 20), "project_id", project)})
		if err != nil {
			t.Fatalf("call: %v", err)
		}
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("HTTP %d: %s", resp.StatusCode, b)
		}
		served := fieldsJSON(t, "answer", b)
		fieldsMatch(t, "envelope", served, example)
		response := fieldsObject(t, "response", served["response"])
		if response["code"] != float64(0) {
			t.Fatalf("project %s: code %v: %v", project, response["code"], response["error_msg"])
		}
		fieldsMatch(t, "response", response, exResponse)
		m := fieldsObject(t, "response.map", response["map"])
		fieldsMatch(t, "response.map", m, exMap)
		for _, r := range fieldsRecords(t, "result", m["result"]) {
			what := "project " + project + " task " + strconv.FormatInt(bnTaskID(r), 10)
			if c.project == p.ID {
				fieldsServeExample(t, what, r, exRow)
			}
			fieldsDocumented(t, what, r, exRow, documented...)
		}
	}
}
