package jackyunsandbox

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"time"

	"github.com/ferry-data/ferry/internal/sandbox"
)

// jkyTrade is one 销售单 as jackyun.tradenotsensitiveinfos.list.get returns
// it (vendors.md §2.4). A published *jkyTrade is never changed: a
// modification makes a new version with clone, so the versions queries
// still see stay intact.
type jkyTrade struct {
	TradeID       string     `json:"tradeId"`
	TradeNo       string     `json:"tradeNo"`
	TradeStatus   int        `json:"tradeStatus"`
	TradeType     int        `json:"tradeType"`
	ShopID        string     `json:"shopId"`
	ShopName      string     `json:"shopName"`
	Shopcode      string     `json:"shopcode"`
	WarehouseID   string     `json:"warehouseId"`
	WarehouseName string     `json:"warehouseName"`
	SourceTradeNo string     `json:"sourceTradeNo"`
	OnlineTradeNo string     `json:"onlineTradeNo"`
	BillDate      string     `json:"billDate"`
	ConsignTime   *string    `json:"consignTime"` // null until consigned
	GmtCreate     string     `json:"gmtCreate"`
	GmtModified   string     `json:"gmtModified"`
	IsDelete      int        `json:"isDelete"`
	Payment       float64    `json:"payment"`
	TotalFee      float64    `json:"totalFee"`
	PostFee       float64    `json:"postFee"`
	DiscountFee   float64    `json:"discountFee"`
	SellerMemo    string     `json:"sellerMemo"`
	BuyerMemo     string     `json:"buyerMemo"`
	LogisticName  string     `json:"logisticName"`
	MainPostid    string     `json:"mainPostid"`
	CustomerName  string     `json:"customerName"`
	GoodsDetail   []jkyGoods `json:"goodsDetail"`

	// id is TradeID as a number; created, modified and consigned are the
	// stamps the time filters compare, to the second (consigned is zero
	// until the trade ships).
	id                           int64
	created, modified, consigned time.Time
}

// jkyGoods is one goods line of a trade.
type jkyGoods struct {
	SubTradeID string  `json:"subTradeId"`
	GoodsID    string  `json:"goodsId"`
	GoodsNo    string  `json:"goodsNo"`
	GoodsName  string  `json:"goodsName"`
	SpecName   string  `json:"specName"`
	Barcode    string  `json:"barcode"`
	SellCount  int     `json:"sellCount"`
	SellPrice  float64 `json:"sellPrice"`
	SellTotal  float64 `json:"sellTotal"`
	IsGift     int     `json:"isGift"`
}

// jkyField is a time field a search filters and orders by.
type jkyField int

const (
	jkyByID       jkyField = iota // no time filter: tradeId order
	jkyByModified                 // startModified/endModified: gmtModified
	jkyByConsign                  // startConsignTime/endConsignTime: consignTime
	jkyByCreated                  // startCreated/endCreated: gmtCreate
)

// at is the trade's stamp for f, and whether it has one.
func (t *jkyTrade) at(f jkyField) (time.Time, bool) {
	switch f {
	case jkyByModified:
		return t.modified, true
	case jkyByConsign:
		return t.consigned, !t.consigned.IsZero()
	case jkyByCreated:
		return t.created, true
	}
	return time.Time{}, false
}

func (t *jkyTrade) clone() *jkyTrade {
	c := *t
	return &c // goods lines never change, so they may be shared
}

// stamp sets the modification time.
func (t *jkyTrade) stamp(at time.Time) {
	t.modified = at.Truncate(time.Second)
	t.GmtModified = sandbox.FormatCST(t.modified)
}

// consign ships the trade at at.
func (t *jkyTrade) consign(at time.Time) {
	t.consigned = at.Truncate(time.Second)
	s := sandbox.FormatCST(t.consigned)
	t.ConsignTime = &s
}

// jkyStore holds the trades and makes and changes them. It is not safe for
// concurrent use; Jackyun guards it.
type jkyStore struct {
	sandbox.Records[jkyTrade] // ascending tradeId

	nextID    int64
	nextSubID int64
	daySeq    map[string]int  // tradeNo sequence per CST day
	onlineNos map[string]bool // onlineTradeNo values in use
}

func newJkyStore(rng *rand.Rand, lag time.Duration) *jkyStore {
	return &jkyStore{
		Records:   sandbox.Records[jkyTrade]{Rand: rng, Lag: lag},
		nextID:    1970000000000000000 + rng.Int64N(1e12),
		nextSubID: 8100000000 + rng.Int64N(1e8),
		daySeq:    map[string]int{},
		onlineNos: map[string]bool{},
	}
}

// jkyChain is the status path of a trade: 待审核 → 备货等待 → 待配货 →
// 待打包 → 待发货 → 已发货 (6000) → 已完成 (9090). The codes besides 6000 and
// 9090 and all the labels are stand-ins.
var jkyChain = []int{1010, 2000, 3000, 4000, 5000, 6000, 9090}

// jkyStatusWeights draws a start trade's status: mostly shipped or done.
var jkyStatusWeights = []int{10, 8, 7, 7, 8, 25, 35}

const (
	jkyConsigned = 6000 // 已发货: the status that sets consignTime
	jkyPrinted   = 4000 // from here on the waybill number (mainPostid) exists
)

func jkyStep(status int) int { return slices.Index(jkyChain, status) }

// seed fills the store with n trades whose gmtModified lies in
// [since, now), each created up to three days before its last change and
// moved along its status path in between.
func (s *jkyStore) seed(n int, since, now time.Time) {
	type stamps struct {
		created, modified time.Time
		step              int
	}
	span := max(int64(now.Sub(since)), 1)
	all := make([]stamps, n)
	for i := range all {
		m := since.Add(time.Duration(s.Rand.Int64N(span)))
		c := m.Add(-time.Duration(s.Rand.Int64N(int64(72 * time.Hour))))
		all[i] = stamps{created: c, modified: m, step: s.drawStep()}
	}
	// tradeId and tradeNo follow creation order, as in the vendor.
	slices.SortFunc(all, func(a, b stamps) int { return a.created.Compare(b.created) })
	for _, st := range all {
		t := s.newTrade(st.created)
		life := max(int64(st.modified.Sub(st.created)), 1)
		steps := make([]time.Time, max(st.step, 1))
		for i := range steps[:len(steps)-1] {
			steps[i] = st.created.Add(time.Duration(s.Rand.Int64N(life)))
		}
		steps[len(steps)-1] = st.modified
		slices.SortFunc(steps, time.Time.Compare)
		for i, at := range steps {
			if i < st.step {
				s.advance(t, at)
			} else {
				s.editMemo(t)
			}
			t.stamp(at)
		}
		s.Add(t, st.modified)
	}
}

func (s *jkyStore) drawStep() int {
	total := 0
	for _, w := range jkyStatusWeights {
		total += w
	}
	n := s.Rand.IntN(total)
	for i, w := range jkyStatusWeights {
		if n < w {
			return i
		}
		n -= w
	}
	return 0
}

// create adds a new trade (待审核) made at at.
func (s *jkyStore) create(at time.Time) {
	s.Add(s.newTrade(at), at)
}

// modify makes a new version of e's trade, moved along as an ERP user would
// and stamped at.
func (s *jkyStore) modify(e *sandbox.Entry[jkyTrade], at time.Time) {
	s.update(e, at, func(t *jkyTrade) { s.change(t, at) })
}

// mover is how a page call changes a trade it has passed, so that the
// trade moves to the end of the order searched: a re-consignment by
// consignTime, a re-import by gmtCreate, a plain modification otherwise.
func (s *jkyStore) mover(order jkyField) func(*sandbox.Entry[jkyTrade], time.Time) {
	switch order {
	case jkyByConsign:
		return s.reconsign
	case jkyByCreated:
		return s.recreate
	}
	return s.modify
}

// reconsign makes a new version of e's trade shipped again at at, a stand-in
// for a re-sent parcel: its consignTime and gmtModified become at.
func (s *jkyStore) reconsign(e *sandbox.Entry[jkyTrade], at time.Time) {
	s.update(e, at, func(t *jkyTrade) {
		s.change(t, at)
		t.consign(at)
	})
}

// recreate makes a new version of e's trade whose gmtCreate is at, a stand-in
// for a trade re-imported from the platform.
func (s *jkyStore) recreate(e *sandbox.Entry[jkyTrade], at time.Time) {
	s.update(e, at, func(t *jkyTrade) {
		s.change(t, at)
		t.created = at.Truncate(time.Second)
		t.GmtCreate = sandbox.FormatCST(t.created)
	})
}

// update makes a new version of e's trade with change applied, stamped at.
func (s *jkyStore) update(e *sandbox.Entry[jkyTrade], at time.Time, change func(*jkyTrade)) {
	t := e.Cur.clone()
	change(t)
	t.stamp(at)
	s.Replace(e, t, at)
}

// change moves a trade one step along its path most of the time, and
// otherwise edits a memo; a trade not yet printed is now and then voided
// (isDelete=1) and only takes memo edits from then on.
func (s *jkyStore) change(t *jkyTrade, at time.Time) {
	step := jkyStep(t.TradeStatus)
	switch {
	case t.IsDelete == 0 && t.TradeStatus < jkyPrinted && s.Rand.IntN(30) == 0:
		t.IsDelete = 1
		t.SellerMemo = sandbox.Pick(s.Rand, jkyVoidMemos)
	case t.IsDelete == 0 && step < len(jkyChain)-1 && s.Rand.IntN(10) < 7:
		s.advance(t, at)
	default:
		s.editMemo(t)
	}
}

// advance moves the trade to the next status: printing assigns the waybill
// number, shipping sets consignTime.
func (s *jkyStore) advance(t *jkyTrade, at time.Time) {
	t.TradeStatus = jkyChain[jkyStep(t.TradeStatus)+1]
	if t.TradeStatus == jkyPrinted {
		t.MainPostid = s.waybill(t.LogisticName)
	}
	if t.TradeStatus == jkyConsigned {
		t.consign(at)
	}
}

func (s *jkyStore) editMemo(t *jkyTrade) {
	old := t.SellerMemo
	for t.SellerMemo == old {
		t.SellerMemo = sandbox.Pick(s.Rand, jkySellerMemos)
	}
}

// Stand-in reference data: shop, warehouse and goods ids and codes are
// invented; the names only have to look like a Chinese ERP's.
var (
	jkyShops = []struct {
		id, name, code, prefix string
		digits                 int
	}{
		{"11", "天猫旗舰店", "TM01", "TB", 18},
		{"12", "京东自营专营店", "JD01", "JD", 12},
		{"13", "抖音官方小店", "DY01", "DY", 19},
		{"14", "拼多多品牌店", "PDD01", "PDD", 16},
		{"15", "微信小程序商城", "WX01", "WX", 16},
	}
	jkyWarehouses = []struct{ id, name string }{
		{"5", "主仓"}, {"6", "华南分仓(广州)"}, {"7", "华中云仓(武汉)"},
	}
	jkyLogistics   = []string{"顺丰速运", "中通", "圆通", "韵达", "申通", "京东物流", "邮政EMS"}
	jkySellerMemos = []string{"", "加急发货", "已备注赠品", "客户要求顺丰", "同款换色", "VIP客户优先处理", "地址已核实", "缺货待补", "合单发货"}
	jkyBuyerMemos  = []string{"", "", "", "请尽快发货", "不要放快递柜", "周末送货", "送人的，不要放价格单", "请用顺丰", "麻烦包装好一点"}
	jkyVoidMemos   = []string{"客户取消订单", "重复下单作废", "地址无法送达作废"}
	jkyPostFees    = []int64{0, 0, 0, 0, 600, 800, 1000, 1200}
)

// jkyTradeTypes draws a trade's tradeType: mostly 92, the seed's filter.
var jkyTradeTypes = []int{92, 92, 92, 92, 92, 92, 92, 1, 1, 8}

// waybill is a tracking number for the carrier.
func (s *jkyStore) waybill(carrier string) string {
	switch carrier {
	case "顺丰速运":
		return "SF" + s.Digits(13)
	case "京东物流":
		return "JDV" + s.Digits(12)
	case "邮政EMS":
		return s.Digits(13)
	}
	return "7" + s.Digits(14)
}

// newTrade makes a fresh trade (待审核) created at at.
func (s *jkyStore) newTrade(at time.Time) *jkyTrade {
	rng := s.Rand
	at = at.Truncate(time.Second)
	shop := sandbox.Pick(rng, jkyShops)
	wh := sandbox.Pick(rng, jkyWarehouses)
	day := at.In(sandbox.CST).Format("20060102")
	s.daySeq[day]++
	s.nextID += 1 + rng.Int64N(9)
	online := shop.prefix + s.Digits(shop.digits)
	for s.onlineNos[online] {
		online = shop.prefix + s.Digits(shop.digits)
	}
	s.onlineNos[online] = true

	t := &jkyTrade{
		TradeID:       strconv.FormatInt(s.nextID, 10),
		TradeNo:       fmt.Sprintf("JY%s%05d", day, s.daySeq[day]),
		TradeStatus:   jkyChain[0],
		TradeType:     sandbox.Pick(rng, jkyTradeTypes),
		ShopID:        shop.id,
		ShopName:      shop.name,
		Shopcode:      shop.code,
		WarehouseID:   wh.id,
		WarehouseName: wh.name,
		SourceTradeNo: online,
		OnlineTradeNo: online,
		BillDate:      sandbox.FormatCST(at.Add(-time.Duration(rng.Int64N(int64(30 * time.Minute))))),
		GmtCreate:     sandbox.FormatCST(at),
		BuyerMemo:     sandbox.Pick(rng, jkyBuyerMemos),
		LogisticName:  sandbox.Pick(rng, jkyLogistics),
		CustomerName:  sandbox.Pick(rng, sandbox.Surnames) + sandbox.Pick(rng, sandbox.GivenNames),
		id:            s.nextID,
		created:       at,
	}
	var totalCents int64
	for range 1 + rng.IntN(3) {
		g, cents := s.newGoods(false)
		totalCents += cents
		t.GoodsDetail = append(t.GoodsDetail, g)
	}
	if rng.IntN(5) == 0 {
		g, _ := s.newGoods(true)
		t.GoodsDetail = append(t.GoodsDetail, g)
	}
	post := sandbox.Pick(rng, jkyPostFees)
	discount := int64(0)
	if rng.IntN(2) == 0 {
		discount = totalCents * int64(1+rng.IntN(20)) / 100
	}
	t.TotalFee = sandbox.Yuan(totalCents)
	t.PostFee = sandbox.Yuan(post)
	t.DiscountFee = sandbox.Yuan(discount)
	t.Payment = sandbox.Yuan(totalCents + post - discount)
	t.stamp(at)
	return t
}

// newGoods is one line and its total in cents; a gift line is free.
func (s *jkyStore) newGoods(gift bool) (jkyGoods, int64) {
	gi := s.Rand.IntN(len(sandbox.Goods))
	g := sandbox.Goods[gi]
	si := s.Rand.IntN(len(g.Specs))
	id := int64(7000 + gi)
	count := 1 + s.Rand.IntN(3)
	cents := g.Cents
	if s.Rand.IntN(3) == 0 { // a platform discount
		cents = cents * int64(80+s.Rand.IntN(20)) / 100
	}
	line := jkyGoods{
		SubTradeID: strconv.FormatInt(s.nextSubID, 10),
		GoodsID:    strconv.FormatInt(id, 10),
		GoodsNo:    g.No,
		GoodsName:  g.Name,
		SpecName:   g.Specs[si],
		Barcode:    fmt.Sprintf("69%011d", 30000000000+id*10+int64(si)),
		SellCount:  count,
		SellPrice:  sandbox.Yuan(cents),
		SellTotal:  sandbox.Yuan(cents * int64(count)),
	}
	total := cents * int64(count)
	if gift {
		line.SellCount, line.SellPrice, line.SellTotal, line.IsGift = 1, 0, 0, 1
		total = 0
	}
	s.nextSubID++
	return line, total
}
