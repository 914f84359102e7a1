package jackyunsandbox_test

import (
	"net/http"
	"testing"

	"github.com/ferry-data/ferry/internal/sandbox"
	"github.com/ferry-data/ferry/internal/vendortest"
	"github.com/ferry-data/ferry/producers/jackyun/jackyunsandbox"
)

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
	example := vendortest.DecodeObject(t, "example", []byte(jkyTradesExample))
	exResult := vendortest.Object(t, "example result", example["result"])
	exData := vendortest.Object(t, "example data", exResult["data"])
	exTrade := vendortest.Records(t, "example trades", exData["trades"])[0]
	exGoods := vendortest.Records(t, "example goodsDetail", exTrade["goodsDetail"])[0]

	f := newJkyFixture(t, jackyunsandbox.Config{Trades: 40, Settings: sandbox.Settings{Seed: 5}})
	resp, b := f.do(jkyCall{pageSize: 50})
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("HTTP %d: %s", resp.StatusCode, b)
	}
	served := vendortest.DecodeObject(t, "answer", b)
	if served["code"] != float64(200) {
		t.Fatalf("code %v: %v", served["code"], served["msg"])
	}
	vendortest.MatchFields(t, "envelope", served, example)
	result := vendortest.Object(t, "result", served["result"])
	// result is held to (b) only: the example's scrollId is not served.
	vendortest.OnlyDocumented(t, "result", result, exResult)
	data := vendortest.Object(t, "result.data", result["data"])
	vendortest.MatchFields(t, "result.data", data, exData)
	for _, tr := range vendortest.Records(t, "trades", data["trades"]) {
		what := "trade " + jkyID(tr)
		vendortest.MatchFields(t, what, tr, exTrade)
		for _, g := range vendortest.Records(t, what+" goodsDetail", tr["goodsDetail"]) {
			vendortest.MatchFields(t, what+" goods line", g, exGoods)
		}
	}
}
