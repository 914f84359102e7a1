package jstsandbox

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/ferry-data/ferry/internal/sandbox"
)

// jstOrder is one 销售出库单 as /open/orders/out/simple/query returns it
// (vendors.md §1.5). A published *jstOrder is never changed: a change makes
// a new version with clone, so the versions queries still see stay intact.
type jstOrder struct {
	CoID             int64     `json:"co_id"`
	ShopID           int64     `json:"shop_id"`
	ShopName         string    `json:"shop_name"`
	IoID             int64     `json:"io_id"`
	OID              int64     `json:"o_id"`
	SoID             string    `json:"so_id"`
	Created          string    `json:"created"`
	Modified         string    `json:"modified"`
	Status           string    `json:"status"`
	OrderType        string    `json:"order_type"`
	ShopBuyerID      string    `json:"shop_buyer_id"`
	PayDate          string    `json:"pay_date"`
	IoDate           string    `json:"io_date"`
	LID              string    `json:"l_id"`
	LcID             string    `json:"lc_id"`
	LogisticsCompany string    `json:"logistics_company"`
	WmsCoID          int64     `json:"wms_co_id"`
	PayAmount        float64   `json:"pay_amount"`
	PaidAmount       float64   `json:"paid_amount"`
	FreeAmount       float64   `json:"free_amount"`
	Freight          float64   `json:"freight"`
	Weight           float64   `json:"weight"`
	ReceiverName     string    `json:"receiver_name"`
	ReceiverMobile   string    `json:"receiver_mobile"`
	ReceiverState    string    `json:"receiver_state"`
	ReceiverCity     string    `json:"receiver_city"`
	ReceiverDistrict string    `json:"receiver_district"`
	ReceiverAddress  string    `json:"receiver_address"`
	BuyerMessage     string    `json:"buyer_message"`
	Remark           string    `json:"remark"`
	IsCod            bool      `json:"is_cod"`
	Labels           string    `json:"labels"`
	Ts               int64     `json:"ts"`
	Items            []jstItem `json:"items"`

	at           time.Time // Modified as a time, whole seconds
	freightCents int64
	freeCents    int64
}

// jstItem is one line of an order.
type jstItem struct {
	IoiID         int64   `json:"ioi_id"`
	SkuID         string  `json:"sku_id"`
	IID           string  `json:"i_id"`
	Name          string  `json:"name"`
	Qty           int     `json:"qty"`
	SalePrice     float64 `json:"sale_price"`
	SaleAmount    float64 `json:"sale_amount"`
	SaleBasePrice float64 `json:"sale_base_price"`
	IsGift        bool    `json:"is_gift"`
	OiID          string  `json:"oi_id"`
	OuterOiID     string  `json:"outer_oi_id"`
	RawSoID       string  `json:"raw_so_id"`
	CombineSkuID  *string `json:"combine_sku_id"`

	priceCents int64
}

// jstShop is one shop as /open/shops/query returns it: the 12 fields of
// vendors.md §1.5.
type jstShop struct {
	ShopID         int64  `json:"shop_id"`
	ShopName       string `json:"shop_name"`
	CoID           int64  `json:"co_id"`
	ShopSite       string `json:"shop_site"`
	ShopURL        string `json:"shop_url"`
	Created        string `json:"created"`
	Nick           string `json:"nick"`
	SessionExpired string `json:"session_expired"`
	SessionUID     string `json:"session_uid"`
	ShortName      string `json:"short_name"`
	GroupID        int64  `json:"group_id"`
	GroupName      string `json:"group_name"`

	brand string
}

// Order statuses (vendors.md §1.4).
const (
	jstWaitConfirm     = "WaitConfirm"
	jstConfirmed       = "Confirmed"
	jstDelete          = "Delete"
	jstCancelled       = "Cancelled"
	jstOuterConfirming = "OuterConfirming"
)

// jstStatuses are the statuses a query may filter on.
var jstStatuses = []string{jstWaitConfirm, jstConfirmed, jstDelete, jstCancelled, jstOuterConfirming}

func (o *jstOrder) clone() *jstOrder {
	c := *o
	c.Items = slices.Clone(o.Items)
	return &c
}

// jstStore holds the shops and orders of one company (co_id) and makes and
// changes them. It is not safe for concurrent use; JST guards it.
type jstStore struct {
	sandbox.Records[jstOrder] // the orders, ascending o_id
	coID                      int64
	shops                     []*jstShop // ascending shop_id

	nextOID   int64
	nextIoID  int64
	nextIoiID int64
	nextOiID  int64
	ts        int64 // the last rowversion handed out
}

func newJSTStore(rng *rand.Rand, lag time.Duration) *jstStore {
	return &jstStore{
		Records:   sandbox.Records[jstOrder]{Rand: rng, Lag: lag},
		coID:      10_100_000 + rng.Int64N(900_000),
		nextOID:   3_000_000 + rng.Int64N(1_000_000),
		nextIoID:  20_000_000 + rng.Int64N(1_000_000),
		nextIoiID: 50_000_000 + rng.Int64N(1_000_000),
		nextOiID:  8_000_000 + rng.Int64N(1_000_000),
		ts:        4_000_000_000 + rng.Int64N(1_000_000_000),
	}
}

// seedShops makes n shops opened in the two years before now.
func (s *jstStore) seedShops(n int, now time.Time) {
	id := 10_000_000 + s.Rand.Int64N(1_000_000)
	for range n {
		id += 1 + s.Rand.Int64N(5000)
		s.shops = append(s.shops, s.newShop(id, now.Add(-time.Duration(s.Rand.Int64N(int64(2*365*24*time.Hour))))))
	}
}

// seedOrders fills the store with n orders whose modified stamps lie in
// [since, now), each created up to three days before its last change. The
// rowversions follow the modified order, as a database's would.
func (s *jstStore) seedOrders(n int, since, now time.Time) {
	// o_id and io_id follow creation order, as in the vendor.
	for _, st := range s.Lifespans(n, since, now, 72*time.Hour) {
		o := s.newOrder(st.Created)
		steps := make([]time.Time, s.Rand.IntN(4))
		life := max(int64(st.Modified.Sub(st.Created)), 1)
		for i := range steps {
			steps[i] = st.Created.Add(time.Duration(s.Rand.Int64N(life)))
		}
		slices.SortFunc(steps, time.Time.Compare)
		for _, at := range append(steps, st.Modified) {
			s.change(o, at)
		}
		s.Add(o, o.at)
	}
	byStamp := slices.Clone(s.Entries)
	slices.SortStableFunc(byStamp, func(a, b *sandbox.Entry[jstOrder]) int { return a.Cur.at.Compare(b.Cur.at) })
	for _, e := range byStamp {
		s.ts += 1 + s.Rand.Int64N(40)
		e.Cur.Ts = s.ts
	}
}

// create adds a new order made at at. An order's lag runs from its
// modified stamp, in whole seconds.
func (s *jstStore) create(at time.Time) {
	o := s.newOrder(at)
	s.Add(o, o.at)
}

// modify makes a new version of e's order, stamped at.
func (s *jstStore) modify(e *sandbox.Entry[jstOrder], at time.Time) {
	e.Visible(at) // promoted at at, though the new lag runs from o.at
	o := e.Cur.clone()
	s.change(o, at)
	s.Replace(e, o, o.at)
}

// stamp sets an order's modified stamp (whole seconds, as the API shows
// it) and its next rowversion.
func (s *jstStore) stamp(o *jstOrder, at time.Time) {
	o.at = at.Truncate(time.Second)
	o.Modified = sandbox.FormatCST(o.at)
	s.ts += 1 + s.Rand.Int64N(40)
	o.Ts = s.ts
}

// Stand-in reference data: sites, brands, groups, carriers and addresses
// are invented or common knowledge; they only have to look like a Chinese
// merchant's.
var (
	jstSites = []struct {
		site, url, suffix string
		soLen             int // 0: 拼多多's yymmdd-15 digits
		group             int // index in jstGroups
	}{
		{"淘宝天猫", "https://%s.tmall.com", "旗舰店", 19, 0},
		{"淘宝天猫", "https://shop%s.taobao.com", "企业店", 19, 0},
		{"京东", "https://mall.jd.com/index-%s.html", "京东旗舰店", 12, 1},
		{"拼多多", "https://mobile.yangkeduo.com/mall_page.html?mall_id=%s", "官方旗舰店", 0, 3},
		{"抖音", "https://haohuo.jinritemai.com/views/shop/index?id=%s", "抖音旗舰店", 19, 2},
		{"快手", "https://app.kwaixiaodian.com/merchant/shop/detail?id=%s", "快手小店", 16, 2},
		{"小红书", "https://www.xiaohongshu.com/shop/%s", "小红书店", 18, 2},
		{"微信小店", "https://shop.weixin.qq.com/%s", "微信小店", 17, 3},
	}
	jstBrands = []string{
		"森屿家居", "绿野仙踪", "小熊厨房", "好时光母婴", "木槿生活", "山野茶舍", "初见服饰", "暖阳家纺",
		"极光数码", "禾风食品", "悦己美妆", "青柠运动", "栗子宠物", "知夏女装", "南山果园", "拾光文具",
	}
	jstRenames = []string{"官方旗舰店", "旗舰店", "专营店", "直营店", "官方店"}
	jstGroups  = []struct {
		id   int64
		name string
	}{{101, "天猫事业部"}, {102, "京东事业部"}, {103, "新媒体电商部"}, {104, "社交电商组"}}
	jstExpress = []struct{ lcID, name, prefix string }{
		{"SF", "顺丰速运", "SF"}, {"ZTO", "中通快递", "78"}, {"YTO", "圆通速递", "YT"}, {"YUNDA", "韵达速递", "43"},
		{"STO", "申通快递", "77"}, {"JD", "京东快递", "JDVA"}, {"EMS", "邮政EMS", "98"}, {"JTSD", "极兔速递", "JT"},
	}
	jstRegions = []struct {
		state, city string
		districts   []string
	}{
		{"浙江省", "杭州市", []string{"西湖区", "余杭区", "滨江区", "拱墅区"}},
		{"广东省", "深圳市", []string{"南山区", "福田区", "宝安区", "龙岗区"}},
		{"广东省", "广州市", []string{"天河区", "海珠区", "番禺区"}},
		{"江苏省", "南京市", []string{"鼓楼区", "江宁区", "秦淮区"}},
		{"江苏省", "苏州市", []string{"姑苏区", "工业园区", "吴中区"}},
		{"上海", "上海市", []string{"浦东新区", "徐汇区", "闵行区", "静安区"}},
		{"北京", "北京市", []string{"朝阳区", "海淀区", "丰台区"}},
		{"四川省", "成都市", []string{"武侯区", "锦江区", "高新区"}},
		{"湖北省", "武汉市", []string{"洪山区", "江汉区", "武昌区"}},
		{"山东省", "青岛市", []string{"市南区", "黄岛区", "崂山区"}},
		{"福建省", "厦门市", []string{"思明区", "湖里区", "集美区"}},
		{"陕西省", "西安市", []string{"雁塔区", "碑林区", "未央区"}},
	}
	jstRoads      = []string{"文三路", "科技园南路", "中山大道", "人民路", "解放西路", "建设路", "长江路", "学院路", "创业大道", "滨河路"}
	jstMessages   = []string{"", "", "", "请尽快发货", "不要放快递柜", "周末送货", "送人的，不要放价格单", "请用顺丰", "麻烦包装好一点"}
	jstRemarks    = []string{"", "已核对地址", "赠品已备注", "客户要求改顺丰", "仓库加急", "缺货待补发", "合单发货", "VIP客户优先", "已电话确认"}
	jstLabels     = []string{"", "", "加急", "赠品", "预售", "合并单", "大促"}
	jstOrderTypes = []string{"普通订单", "普通订单", "普通订单", "普通订单", "普通订单", "补发订单", "换货订单"}
	jstFreights   = []int64{0, 0, 0, 0, 600, 800, 1000, 1200}
	jstWarehouses = []int64{0, 0, 0, 10_186_255, 10_192_881}
)

// newShop makes a shop with the given id, opened at created.
func (s *jstStore) newShop(id int64, created time.Time) *jstShop {
	site := sandbox.Pick(s.Rand, jstSites)
	brand := sandbox.Pick(s.Rand, jstBrands)
	g := jstGroups[site.group]
	if s.Rand.IntN(5) == 0 { // not every shop is in a group
		g.id, g.name = 0, ""
	}
	uid := s.Digits(10)
	sh := &jstShop{
		ShopID:         id,
		ShopName:       brand + site.suffix,
		CoID:           s.coID,
		ShopSite:       site.site,
		ShopURL:        fmt.Sprintf(site.url, s.Digits(9)),
		Created:        sandbox.FormatCST(created.Truncate(time.Second)),
		Nick:           brand + "官方",
		SessionExpired: sandbox.FormatCST(created.Truncate(time.Second).AddDate(1, 0, 0)),
		SessionUID:     uid,
		ShortName:      brand,
		GroupID:        g.id,
		GroupName:      g.name,
		brand:          brand,
	}
	return sh
}

// changeShop renames a shop or renews its authorisation, as a merchant's
// admin does now and then.
func (s *jstStore) changeShop(sh *jstShop, at time.Time) {
	if s.Rand.IntN(2) == 0 {
		sh.SessionExpired = sandbox.FormatCST(at.Truncate(time.Second).AddDate(1, 0, 0))
		return
	}
	old := sh.ShopName
	for sh.ShopName == old {
		sh.ShopName = sh.brand + sandbox.Pick(s.Rand, jstRenames)
	}
}

// newOrder makes a fresh outbound order (WaitConfirm) created at at.
func (s *jstStore) newOrder(at time.Time) *jstOrder {
	rng := s.Rand
	at = at.Truncate(time.Second)
	sh := sandbox.Pick(rng, s.shops)
	site := jstSites[0]
	for _, x := range jstSites {
		if x.site == sh.ShopSite {
			site = x
			break
		}
	}
	soID := s.Digits(max(site.soLen, 1))
	if site.soLen == 0 { // 拼多多: yymmdd-15 digits
		soID = at.In(sandbox.CST).Format("060102") + "-" + s.Digits(15)
	}
	region := sandbox.Pick(rng, jstRegions)
	o := &jstOrder{
		CoID:             s.coID,
		ShopID:           sh.ShopID,
		ShopName:         sh.ShopName,
		IoID:             s.nextIoID,
		OID:              s.nextOID,
		SoID:             soID,
		Created:          sandbox.FormatCST(at),
		Status:           jstWaitConfirm,
		OrderType:        sandbox.Pick(rng, jstOrderTypes),
		ShopBuyerID:      sandbox.Pick(rng, sandbox.Surnames) + "**" + s.Digits(3),
		PayDate:          sandbox.FormatCST(at.Add(-time.Duration(rng.Int64N(int64(6 * time.Hour)))).Truncate(time.Second)),
		WmsCoID:          sandbox.Pick(rng, jstWarehouses),
		ReceiverName:     sandbox.Pick(rng, sandbox.Surnames) + sandbox.Pick(rng, sandbox.GivenNames),
		ReceiverMobile:   sandbox.Pick(rng, sandbox.PhonePrefixes) + "****" + s.Digits(4),
		ReceiverState:    region.state,
		ReceiverCity:     region.city,
		ReceiverDistrict: sandbox.Pick(rng, region.districts),
		ReceiverAddress:  fmt.Sprintf("%s%d号%d栋%d室", sandbox.Pick(rng, jstRoads), 1+rng.IntN(300), 1+rng.IntN(30), 101+rng.IntN(2800)),
		BuyerMessage:     sandbox.Pick(rng, jstMessages),
		IsCod:            rng.IntN(50) == 0,
		freightCents:     sandbox.Pick(rng, jstFreights),
	}
	s.nextOID += 1 + rng.Int64N(3)
	s.nextIoID += 1 + rng.Int64N(3)
	for range 1 + rng.IntN(3) {
		o.Items = append(o.Items, s.newItem(o, false))
	}
	if rng.IntN(8) == 0 {
		o.Items = append(o.Items, s.newItem(o, true))
	}
	if rng.IntN(10) < 7 { // the waybill is often printed before the goods leave
		s.ship(o)
	}
	if rng.IntN(5) == 0 {
		o.freeCents = int64(100 * (1 + rng.IntN(20)))
	}
	s.settle(o)
	s.stamp(o, at)
	return o
}

func (s *jstStore) newItem(o *jstOrder, gift bool) jstItem {
	gi := s.Rand.IntN(len(sandbox.Goods))
	g := sandbox.Goods[gi]
	si := s.Rand.IntN(len(g.Specs))
	cents := g.Cents
	if s.Rand.IntN(3) == 0 { // a platform discount
		cents = cents * int64(80+s.Rand.IntN(20)) / 100
	}
	if gift {
		cents = 0
	}
	it := jstItem{
		IoiID:         s.nextIoiID,
		SkuID:         fmt.Sprintf("%s-%02d", g.No, si+1),
		IID:           g.No,
		Name:          g.Name,
		Qty:           1 + s.Rand.IntN(3),
		SaleBasePrice: sandbox.Yuan(g.Cents),
		IsGift:        gift,
		OiID:          fmt.Sprint(s.nextOiID),
		OuterOiID:     s.Digits(len(o.SoID)),
		RawSoID:       o.SoID,
		priceCents:    cents,
	}
	if strings.Contains(o.SoID, "-") {
		it.OuterOiID = o.SoID
	}
	if gift {
		it.Qty = 1
	}
	s.nextIoiID++
	s.nextOiID++
	return it
}

// ship prints the order's waybill.
func (s *jstStore) ship(o *jstOrder) {
	ex := sandbox.Pick(s.Rand, jstExpress)
	o.LcID, o.LogisticsCompany = ex.lcID, ex.name
	o.LID = ex.prefix + s.Digits(12)
}

// settle derives the amounts and the first weight from the lines.
func (s *jstStore) settle(o *jstOrder) {
	var goodsCents int64
	var grams int
	for i := range o.Items {
		it := &o.Items[i]
		it.SalePrice = sandbox.Yuan(it.priceCents)
		it.SaleAmount = sandbox.Yuan(it.priceCents * int64(it.Qty))
		goodsCents += it.priceCents * int64(it.Qty)
		grams += 350 * it.Qty
	}
	free := min(o.freeCents, goodsCents)
	o.FreeAmount = sandbox.Yuan(free)
	o.Freight = sandbox.Yuan(o.freightCents)
	o.PayAmount = sandbox.Yuan(goodsCents - free + o.freightCents)
	o.PaidAmount = o.PayAmount
	if o.IsCod {
		o.PaidAmount = 0
	}
	if o.Weight == 0 {
		o.Weight = float64(grams) / 1000
	}
}

// change moves an order along as a warehouse does (confirm, cancel,
// re-print, remarks) and stamps it at. Every change alters at least one
// field besides the stamps.
func (s *jstStore) change(o *jstOrder, at time.Time) {
	rng := s.Rand
	moved := false
	switch o.Status {
	case jstWaitConfirm:
		switch n := rng.IntN(20); {
		case n < 10:
			s.confirm(o, at)
			moved = true
		case n < 12:
			o.Status, moved = jstOuterConfirming, true
		case n < 14:
			o.Status, moved = jstCancelled, true
		case n < 15:
			o.Status, moved = jstDelete, true
		}
	case jstOuterConfirming:
		if rng.IntN(10) < 7 {
			s.confirm(o, at)
			moved = true
		}
	case jstConfirmed:
		if rng.IntN(6) == 0 { // re-weighed at the scale
			o.Weight = float64(int(o.Weight*1000)+rng.IntN(200)-100) / 1000
			o.Weight = max(o.Weight, 0.1)
		}
	}
	if !moved || rng.IntN(2) == 0 {
		old := o.Remark
		for o.Remark == old {
			o.Remark = sandbox.Pick(rng, jstRemarks)
		}
	}
	if rng.IntN(6) == 0 {
		o.Labels = sandbox.Pick(rng, jstLabels)
	}
	s.settle(o)
	s.stamp(o, at)
}

// confirm ships an order out of the warehouse.
func (s *jstStore) confirm(o *jstOrder, at time.Time) {
	o.Status = jstConfirmed
	o.IoDate = sandbox.FormatCST(at.Truncate(time.Second))
	if o.LID == "" {
		s.ship(o)
	}
}
