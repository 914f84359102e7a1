package jackyun

import (
	"testing"
	"time"
)

// docBizContent is the bizcontent of the official document's example
// (erp.goods.skuimport), as a public client's signer test carries it.
const docBizContent = `{"brandName":"衣服","cateName":"拉链","costValuationMethod":0,"goodsAlias":"花之春","goodsAttr":1,"goodsMemo":"货品备注","goodsName":"行李包 花之春","goodsNameEn":"spring","goodsNo":"H06-2","isBatchManagement":0,"isCustomizProduction":0,"isDoorService":0,"isPaidService":0,"isPeriodManage":0,"isPickupCard":0,"isProsaleProduct":0,"isProxySale":0,"isSerialManagement":0,"outSkuCode":"8714wtst","ownerId":"jackyun_dev","ownerName":"jackyun_dev","shelfLife":0,"shelfLiftUnit":"","skuBarcode":"76620423621","skuHeight":3,"skuId":"","skuLength":3,"skuName":"无特殊字符","skuWeight":20,"skuWidth":4,"unitName":"件"}`

// The vectors are the two of vendors.md §2.2, both "computed here": the
// official document's parameters, and a call of the trade search.
func TestSignVectors(t *testing.T) {
	for _, tc := range []struct {
		name   string
		params map[string]string
		secret string
		want   string
	}{
		{
			name: "official doc params",
			params: map[string]string{
				"appkey":      "187657",
				"bizcontent":  docBizContent,
				"contenttype": "json",
				"method":      "erp.goods.skuimport",
				"timestamp":   "2019-07-30 15:18:30",
				"version":     "v1.0",
			},
			secret: "f0d1483f1f2e49cea3dfd48c8d7e3c23",
			want:   "04f5cccd1b52125ca5161472ffb42196",
		},
		{
			name: "trade search",
			params: map[string]string{
				"appkey":      "10001",
				"bizcontent":  `{"pageIndex":0,"pageSize":50,"startModified":"2024-01-01 00:00:00","endModified":"2024-01-02 00:00:00","hasTotal":1}`,
				"contenttype": "json",
				"method":      "jackyun.tradenotsensitiveinfos.list.get",
				"timestamp":   "2024-01-02 00:05:00",
				"version":     "v1.0",
			},
			secret: "SECRET",
			want:   "ad9ea7a1f54d6b088ea12ad41b364c69",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Sign(tc.params, tc.secret); got != tc.want {
				t.Fatalf("Sign = %s, want %s", got, tc.want)
			}
		})
	}
}

// TestSignLeavesOutUnsignedParams: sign, contextid and token travel with a
// call but are not signed.
func TestSignLeavesOutUnsignedParams(t *testing.T) {
	p := map[string]string{"appkey": "1", "method": "m"}
	want := Sign(p, "s")
	for _, k := range []string{"sign", "contextid", "token"} {
		p[k] = "whatever"
	}
	if got := Sign(p, "s"); got != want {
		t.Fatal("an unsigned param took part in the signature")
	}
}

// TestSignLowercasesEverything: the text is lowercased before hashing, so
// case does not matter anywhere in it.
func TestSignLowercasesEverything(t *testing.T) {
	// md5("secretkeyvaluesecret")
	const want = "0eb92e57e481fbd69445deec39243827"
	for _, got := range []string{
		Sign(map[string]string{"KEY": "VALUE"}, "SECRET"),
		Sign(map[string]string{"key": "value"}, "secret"),
	} {
		if got != want {
			t.Fatalf("Sign = %s, want %s", got, want)
		}
	}
}

func TestTimestamp(t *testing.T) {
	got := Timestamp(time.Date(2024, 1, 1, 16, 5, 0, 0, time.UTC))
	if want := "2024-01-02 00:05:00"; got != want {
		t.Fatalf("Timestamp = %s, want %s", got, want)
	}
}
