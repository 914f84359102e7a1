package flows

import (
	"encoding/json"
	"testing"
)

// FuzzExpression feeds processor expressions to the compiler, as a flow
// file's filter and map give them, and runs what compiles on raw records:
// an expression or a record of any shape is an error or a value, never a
// panic, and a filter always answers a boolean.
func FuzzExpression(f *testing.F) {
	for _, seed := range []struct{ expr, raw string }{
		{"tradeStatus in [6000, 9090]", `{"tradeStatus":6000}`},
		{"date_format(modified, '%Y%m%d')", `{"modified":1709233840386}`},
		{"date_format(created, '%Y-%m-%d %H:%i:%s')", `{"created":"2024-02-29 07:42:18"}`},
		{"status == 30 && shop_no != ''", `{"status":30,"shop_no":"pdd-outlet"}`},
		{"len(detail_list) > 0 ? detail_list[0].goods_no : nil", `{"detail_list":[{"goods_no":"JP-1840"}]}`},
		{"customer_name ?? buyer_nick", `{"buyer_nick":"小太阳"}`},
	} {
		f.Add(seed.expr, []byte(seed.raw))
	}
	f.Fuzz(func(t *testing.T, src string, raw []byte) {
		var rec map[string]any
		if json.Unmarshal(raw, &rec) != nil {
			return
		}
		p := &Processor{Filter: src, Map: map[string]string{"x": src}}
		if p.compile() != nil {
			return
		}
		if _, err := p.Keep(rec); err != nil {
			return
		}
		p.Mapped("x", rec)
	})
}
