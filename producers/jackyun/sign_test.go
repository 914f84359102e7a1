package jackyun

import (
	"testing"
	"time"

	"github.com/ferry-data/ferry/internal/vendortest"
)

// docBizContent is the bizcontent of the official document's example
// (erp.goods.skuimport), as a public client's signer test carries it.
const docBizContent = `{"brandName":"衣服","cateName":"拉链","costValuationMethod":0,"goodsAlias":"花之春","goodsAttr":1,"goodsMemo":"货品备注","goodsName":"行李包 花之春","goodsNameEn":"spring","goodsNo":"H06-2","isBatchManagement":0,"isCustomizProduction":0,"isDoorService":0,"isPaidService":0,"isPeriodManage":0,"isPickupCard":0,"isProsaleProduct":0,"isProxySale":0,"isSerialManagement":0,"outSkuCode":"8714wtst","ownerId":"jackyun_dev","ownerName":"jackyun_dev","shelfLife":0,"shelfLiftUnit":"","skuBarcode":"76620423621","skuHeight":3,"skuId":"","skuLength":3,"skuName":"无特殊字符","skuWeight":20,"skuWidth":4,"unitName":"件"}`

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

// TestSignVectors checks Sign against the vendor's vectors, which its
// sandbox is checked against too.
func TestSignVectors(t *testing.T) {
	vendortest.CheckVectors(t, "testdata/sign_vectors.json", func(v vendortest.Vector) string { return Sign(v.Params, v.Secret) })
}
