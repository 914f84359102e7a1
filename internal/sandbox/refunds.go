package sandbox

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"time"
)

// cst is Beijing time. A fixed zone keeps the sandbox free of tzdata.
var cst = time.FixedZone("CST", 8*3600)

// dateTimeLayout is WDT's yyyy-MM-dd HH:mm:ss.
const dateTimeLayout = time.DateTime

func formatCST(t time.Time) string { return t.In(cst).Format(dateTimeLayout) }

// refund is one 退换单 as aftersales.refund.Refund.search returns it
// (vendors.md §3.5). A published *refund is never changed: a modification
// makes a new version with clone, so the versions queries still see stay
// intact.
type refund struct {
	RefundID              int64    `json:"refund_id"`
	RefundNo              string   `json:"refund_no"`
	Type                  int      `json:"type"`
	Status                int      `json:"status"`
	ProcessStatus         int      `json:"process_status"`
	StockinStatus         int      `json:"stockin_status"`
	ShopNo                string   `json:"shop_no"`
	ShopID                int      `json:"shop_id"`
	PlatformID            string   `json:"platform_id"`
	SrcTids               string   `json:"src_tids"`
	TidList               string   `json:"tid_list"`
	TradeNoList           string   `json:"trade_no_list"`
	TradeID               int64    `json:"trade_id"`
	RawRefundNos          string   `json:"raw_refund_nos"`
	RefundTime            string   `json:"refund_time"`
	Created               int64    `json:"created"`
	Modified              int64    `json:"modified"`
	ModifiedDate          string   `json:"modified_date"`
	CheckTime             string   `json:"check_time"`
	SettleTime            string   `json:"settle_time"`
	ReturnGoodsCount      int      `json:"return_goods_count"`
	ReturnGoodsAmount     float64  `json:"return_goods_amount"`
	ActualRefundAmount    float64  `json:"actual_refund_amount"`
	GuaranteeRefundAmount float64  `json:"guarantee_refund_amount"`
	DirectRefundAmount    float64  `json:"direct_refund_amount"`
	ReceiveAmount         float64  `json:"receive_amount"`
	ReturnLogisticsNo     string   `json:"return_logistics_no"`
	ReturnLogisticsName   string   `json:"return_logistics_name"`
	ReturnWarehouseNo     string   `json:"return_warehouse_no"`
	BuyerNick             string   `json:"buyer_nick"`
	CustomerName          string   `json:"customer_name"`
	ReceiverName          string   `json:"receiver_name"`
	ReceiverTelno         string   `json:"receiver_telno"`
	ReasonName            string   `json:"reason_name"`
	RefundReason          string   `json:"refund_reason"`
	FlagName              string   `json:"flag_name"`
	Remark                string   `json:"remark"`
	RrStatus              int      `json:"rr_status"`
	NoteCount             int      `json:"note_count"`
	FromType              int      `json:"from_type"`
	OperatorName          string   `json:"operator_name"`
	RevertReasonName      string   `json:"revert_reason_name"`
	FenxiaoNickName       string   `json:"fenxiao_nick_name"`
	PayID                 string   `json:"pay_id"`
	ProviderRefundNo      string   `json:"provider_refund_no"`
	DetailList            []detail `json:"detail_list"`
	AmountDetailList      []any    `json:"amount_detail_list"`

	// partCents is how much was knocked off by negotiation (部分退款).
	partCents int64
}

// detail is one goods line of a refund.
type detail struct {
	RecID         int64   `json:"rec_id"`
	RefundID      int64   `json:"refund_id"`
	Oid           string  `json:"oid"`
	Tid           string  `json:"tid"`
	TradeNo       string  `json:"trade_no"`
	PlatformID    int     `json:"platform_id"` // a number here, a string on the refund: as in W's example
	GoodsNo       string  `json:"goods_no"`
	GoodsName     string  `json:"goods_name"`
	SpecNo        string  `json:"spec_no"`
	SpecName      string  `json:"spec_name"`
	Barcode       string  `json:"barcode"`
	Num           int     `json:"num"`
	Price         float64 `json:"price"`
	OriginalPrice float64 `json:"original_price"`
	RefundNum     int     `json:"refund_num"`
	TotalAmount   float64 `json:"total_amount"`
	RefundAmount  float64 `json:"refund_amount"`
	StockinNum    int     `json:"stockin_num"`
	IsGuarantee   bool    `json:"is_guarantee"`
	SysGoodsID    int64   `json:"sys_goods_id"`
	SysSpecID     int64   `json:"sys_spec_id"`
	Modified      int64   `json:"modified"`
	Created       string  `json:"created"`
	ModifiedDate  string  `json:"modified_date"`

	priceCents int64 // Price in cents, the source of every amount
}

func (r *refund) clone() *refund {
	c := *r
	c.DetailList = slices.Clone(r.DetailList)
	return &c
}

// stamp sets the refund's and its lines' modification time.
func (r *refund) stamp(at time.Time) {
	r.Modified = at.UnixMilli()
	r.ModifiedDate = formatCST(at)
	for i := range r.DetailList {
		r.DetailList[i].Modified = r.Modified
		r.DetailList[i].ModifiedDate = r.ModifiedDate
	}
}

// refundStore holds the refunds and makes and changes them. It is not safe
// for concurrent use; WDT guards it.
type refundStore struct {
	records[refund] // ascending refund_id

	nextRefundID int64
	nextRecID    int64
	nextTradeID  int64
	daySeq       map[string]int // refund_no sequence per CST day
}

func newRefundStore(rng *rand.Rand, lag time.Duration) *refundStore {
	return &refundStore{
		records:      records[refund]{rng: rng, lag: lag},
		nextRefundID: 1130000 + rng.Int64N(1000),
		nextRecID:    1137000 + rng.Int64N(1000),
		nextTradeID:  2740000 + rng.Int64N(1000),
		daySeq:       map[string]int{},
	}
}

// seed fills the store with n refunds whose modified stamps lie in
// [since, now), each created up to three days before its last change.
func (s *refundStore) seed(n int, since, now time.Time) {
	// refund_id and refund_no follow creation order, as in the vendor.
	for _, st := range s.lifespans(n, since, now, 72*time.Hour) {
		r := s.newRefund(st.created)
		// A few changes in between; the last one at the drawn stamp.
		steps := make([]time.Time, 1+s.rng.IntN(4))
		life := max(int64(st.modified.Sub(st.created)), 1)
		for i := range steps[1:] {
			steps[i] = st.created.Add(time.Duration(s.rng.Int64N(life)))
		}
		steps[len(steps)-1] = st.modified
		slices.SortFunc(steps, time.Time.Compare)
		for _, at := range steps {
			s.change(r, at)
		}
		s.add(r, st.modified)
	}
}

// create adds a new refund made at at.
func (s *refundStore) create(at time.Time) {
	s.add(s.newRefund(at), at)
}

// modify makes a new version of e's refund, stamped at.
func (s *refundStore) modify(e *entry[refund], at time.Time) {
	r := e.cur.clone()
	s.change(r, at)
	s.replace(e, r, at)
}

// Stand-in reference data. Shop, platform and warehouse codes are invented;
// the names only have to look like a Chinese shop's.
var (
	shops = []struct {
		no       string
		id       int
		platform int
		tidLen   int
	}{
		{"tmall-flagship", 711, 1, 19},
		{"jd-self", 712, 3, 12},
		{"douyin-store", 713, 69, 19},
		{"pdd-outlet", 714, 32, 18},
	}
	warehouses = []string{"WH-HZ01", "WH-GZ02", "WH-WH03"}
	logistics  = []struct{ name, prefix string }{
		{"中通", "78"}, {"顺丰速运", "SF"}, {"圆通", "YT"}, {"韵达", "43"},
		{"申通", "77"}, {"京东物流", "JDV"}, {"邮政EMS", "98"},
	}
	goods = []product{
		{"TS-1001", "纯棉圆领短袖T恤", 5900, []string{"白色 M", "白色 L", "黑色 XL"}},
		{"JN-2013", "高腰阔腿牛仔裤", 12900, []string{"浅蓝 27", "深蓝 29"}},
		{"YR-3302", "轻薄羽绒服女款", 39900, []string{"米白 S", "雾霾蓝 M"}},
		{"XZ-4120", "男士缓震跑步鞋", 26900, []string{"42码", "43码", "44码"}},
		{"BW-5008", "不锈钢保温杯500ml", 6990, []string{"星空蓝", "樱花粉"}},
		{"EJ-6021", "无线蓝牙耳机", 19900, []string{"白色"}},
		{"JF-7105", "加厚珊瑚绒四件套", 15800, []string{"1.5m床", "1.8m床"}},
		{"WJ-8033", "儿童益智积木玩具", 8900, []string{"120粒", "300粒"}},
		{"MM-9010", "玻尿酸补水面膜10片装", 4990, []string{"标准装"}},
		{"SH-1107", "家用电热水壶1.7L", 9900, []string{"白色", "奶咖色"}},
		{"SB-1212", "智能手环运动版", 22900, []string{"曜石黑"}},
		{"LY-1316", "真丝印花连衣裙", 45900, []string{"M", "L"}},
		{"NN-1420", "纯牛奶250ml*24盒", 6590, []string{"整箱"}},
		{"JG-1525", "每日坚果礼盒1.5kg", 12800, []string{"礼盒装"}},
		{"NK-1630", "婴儿纸尿裤L码", 13900, []string{"L 54片", "XL 46片"}},
		{"FS-1735", "清爽防晒霜SPF50+", 8800, []string{"50ml"}},
		{"JP-1840", "机械键盘青轴", 29900, []string{"87键", "104键"}},
		{"CJ-1945", "北欧风陶瓷餐具套装", 16800, []string{"16件套"}},
	}
	surnames   = []string{"王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "马", "朱", "胡", "郭", "何", "林", "罗", "高"}
	givenNames = []string{"伟", "芳", "娜", "秀英", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛", "明", "超", "秀兰", "霞", "子涵", "浩然", "欣怡", "梓萱", "宇轩"}
	nickWords  = []string{"爱吃鱼的猫", "小太阳", "晴天娃娃", "追风少年", "柠檬不萌", "半糖主义", "月亮邮递员", "南方姑娘"}
	telPrefix  = []string{"130", "135", "138", "139", "150", "158", "176", "186", "188", "199"}
	reasons    = []string{"七天无理由", "质量问题", "尺码不合适", "发错货", "少件/漏发", "商品与描述不符", "效果不好/不喜欢", "拍错/多拍", "包装破损"}
	flags      = []string{"无", "无", "无", "加急", "待跟进", "异常件"}
	remarks    = []string{"", "买家已寄回", "已联系买家核实", "仓库已签收待质检", "质检通过，同意退款", "补发处理", "拒收件，原路退回", "客服同意退款", "等待平台介入", "买家补充凭证"}
	operators  = []string{"系统", "客服-小美", "客服-阿杰", "仓管-老王", "财务-李会计", "售后主管-陈静"}
	reverts    = []string{"凭证不足", "超出售后期", "商品已使用"}
)

// product is one goods item of the stand-in catalogue, its price in cents.
type product struct {
	no, name string
	cents    int64
	specs    []string
}

// types is the refund type drawn for a new refund, weighted toward 退货.
var types = []int{1, 1, 2, 2, 2, 2, 3, 4, 4, 6}

// nextStatus lists where each status may go next. 10 and 90 are final.
var nextStatus = map[int][]int{
	20: {30, 30, 30, 10},
	30: {40, 40, 80, 10},
	40: {80, 81},
	81: {80},
	80: {85, 90},
	85: {86},
	86: {87, 90},
	87: {90},
}

func yuan(cents int64) float64 { return float64(cents) / 100 }

// newRefund makes a fresh refund (待审核) created at at.
func (s *refundStore) newRefund(at time.Time) *refund {
	rng := s.rng
	shop := pick(rng, shops)
	day := at.In(cst).Format("060102")
	s.daySeq[day]++
	id := s.nextRefundID
	s.nextRefundID++
	s.nextTradeID += 1 + rng.Int64N(7)

	tid := s.digits(shop.tidLen)
	tradeNo := fmt.Sprintf("JY%s%05d", day, s.nextTradeID%100000)
	buyer := pick(rng, nickWords) + s.digits(4)
	if rng.IntN(2) == 0 {
		buyer = "tb" + s.digits(9)
	}
	r := &refund{
		RefundID:         id,
		RefundNo:         fmt.Sprintf("TK%s%04d", day, s.daySeq[day]),
		Type:             pick(rng, types),
		Status:           20,
		ShopNo:           shop.no,
		ShopID:           shop.id,
		PlatformID:       fmt.Sprint(shop.platform),
		SrcTids:          tid,
		TidList:          tid,
		TradeNoList:      tradeNo,
		TradeID:          s.nextTradeID,
		RawRefundNos:     s.digits(15),
		RefundTime:       formatCST(at.Add(-time.Duration(rng.Int64N(int64(2 * time.Hour))))),
		Created:          at.UnixMilli(),
		BuyerNick:        buyer,
		CustomerName:     buyer,
		ReceiverName:     s.personName(),
		ReceiverTelno:    pick(rng, telPrefix) + "****" + s.digits(4),
		ReasonName:       pick(rng, reasons),
		FlagName:         "无",
		FromType:         1,
		OperatorName:     "系统",
		PayID:            at.In(cst).Format("20060102") + "22001" + s.digits(15),
		AmountDetailList: []any{},
	}
	r.RefundReason = r.ReasonName
	if rng.IntN(10) == 0 {
		r.FromType = 0 // built by hand in the ERP
		r.OperatorName = pick(rng, operators[1:])
	}
	if rng.IntN(10) == 0 {
		r.FenxiaoNickName = "分销-" + pick(rng, nickWords)
	}
	if r.Type == 2 || r.Type == 3 {
		r.ReturnWarehouseNo = pick(rng, warehouses)
		if rng.IntN(10) < 7 {
			s.shipBack(r)
		}
	}
	for range 1 + rng.IntN(3) {
		r.DetailList = append(r.DetailList, s.newDetail(r, shop.platform, tradeNo, at))
	}
	r.stamp(at)
	r.settleAmounts()
	return r
}

func (s *refundStore) newDetail(r *refund, platform int, tradeNo string, at time.Time) detail {
	gi := s.rng.IntN(len(goods))
	g := goods[gi]
	si := s.rng.IntN(len(g.specs))
	sysGoods := int64(105000 + gi)
	sysSpec := sysGoods*10 + int64(si)
	num := 1 + s.rng.IntN(3)
	refundNum := 1 + s.rng.IntN(num)
	cents := g.cents
	if s.rng.IntN(3) == 0 { // a discount on the platform
		cents = cents * int64(80+s.rng.IntN(20)) / 100
	}
	d := detail{
		RecID:         s.nextRecID,
		RefundID:      r.RefundID,
		Oid:           s.digits(len(r.SrcTids)),
		Tid:           r.SrcTids,
		TradeNo:       tradeNo,
		PlatformID:    platform,
		GoodsNo:       g.no,
		GoodsName:     g.name,
		SpecNo:        fmt.Sprintf("%s-%02d", g.no, si+1),
		SpecName:      g.specs[si],
		Barcode:       fmt.Sprintf("69%011d", 20000000000+sysSpec),
		Num:           num,
		Price:         yuan(cents),
		OriginalPrice: yuan(g.cents),
		RefundNum:     refundNum,
		TotalAmount:   yuan(cents * int64(num)),
		SysGoodsID:    sysGoods,
		SysSpecID:     sysSpec,
		Created:       formatCST(at),
		priceCents:    cents,
	}
	s.nextRecID++
	if r.Type == 6 { // 保价: money back, no goods
		d.IsGuarantee = true
		d.RefundNum = 0
	}
	return d
}

// shipBack records the buyer's return parcel.
func (s *refundStore) shipBack(r *refund) {
	l := pick(s.rng, logistics)
	r.ReturnLogisticsName = l.name
	r.ReturnLogisticsNo = l.prefix + s.digits(12)
}

// change moves a refund along as an ERP user would (status, stock-in,
// amounts, remark, operator) and stamps it at. Every change alters at least
// one field besides the stamps.
func (s *refundStore) change(r *refund, at time.Time) {
	rng := s.rng
	r.OperatorName = pick(rng, operators)
	moved := false
	if next, ok := nextStatus[r.Status]; ok && rng.IntN(10) < 6 {
		r.Status = pick(rng, next)
		moved = true
	}
	switch {
	case r.Status == 10:
		r.RevertReasonName = pick(rng, reverts)
	case r.Status >= 30 && r.CheckTime == "":
		r.CheckTime = formatCST(at)
	}
	if r.Status >= 80 && r.SettleTime == "" {
		r.SettleTime = formatCST(at)
	}
	if r.Type == 2 || r.Type == 3 {
		if r.ReturnLogisticsNo == "" && r.Status != 10 {
			s.shipBack(r)
		}
		if r.Status >= 40 && r.StockinStatus < 4 && rng.IntN(2) == 0 {
			r.StockinStatus++
		}
	}
	if r.Status < 80 && r.Status != 10 && r.Type != 3 && rng.IntN(5) == 0 {
		r.partCents += int64(100 * (1 + rng.IntN(20))) // negotiated down
	}
	if rng.IntN(4) == 0 {
		r.NoteCount++
	}
	if !moved || rng.IntN(2) == 0 {
		old := r.Remark
		for r.Remark == old {
			r.Remark = pick(rng, remarks)
		}
	}
	if rng.IntN(8) == 0 {
		r.FlagName = pick(rng, flags)
	}
	r.stamp(at)
	r.settleAmounts()
}

// settleAmounts derives the header amounts and the derived fields from the
// lines, the type and the status.
func (r *refund) settleAmounts() {
	var goodsCents, refundCents int64
	count := 0
	for i := range r.DetailList {
		d := &r.DetailList[i]
		line := d.priceCents * int64(d.RefundNum)
		if d.IsGuarantee {
			line = d.priceCents * int64(d.Num) / 10 // 保价 refunds a tenth
		}
		refundCents += line
		goodsCents += d.priceCents * int64(d.RefundNum)
		count += d.RefundNum
		d.StockinNum = 0
		if r.StockinStatus >= 3 {
			d.StockinNum = d.RefundNum
		}
	}
	refundCents = max(refundCents-r.partCents, 0)
	// Spread the refund over the lines in proportion, the rest on the last.
	left := refundCents
	for i := range r.DetailList {
		d := &r.DetailList[i]
		share := left
		if i < len(r.DetailList)-1 && goodsCents > 0 {
			share = refundCents * d.priceCents * int64(d.RefundNum) / goodsCents
		}
		if r.Type == 3 {
			share = 0
		}
		d.RefundAmount = yuan(share)
		left -= share
	}

	r.ReturnGoodsCount, r.ReturnGoodsAmount = 0, 0
	r.GuaranteeRefundAmount, r.DirectRefundAmount = 0, 0
	r.ActualRefundAmount, r.ReceiveAmount = 0, 0
	switch r.Type {
	case 2, 3:
		r.ReturnGoodsCount = count
		r.ReturnGoodsAmount = yuan(goodsCents)
	case 6:
		r.GuaranteeRefundAmount = yuan(refundCents)
	case 1:
		r.DirectRefundAmount = yuan(refundCents)
	}
	if r.Status >= 80 && r.Type != 3 {
		r.ActualRefundAmount = yuan(refundCents)
	}
	if r.Type == 3 && r.StockinStatus >= 3 {
		r.ReceiveAmount = yuan(goodsCents)
	}
	switch {
	case r.Status == 10 || r.Status < 30:
		r.ProcessStatus = 0
	case r.Status < 80:
		r.ProcessStatus = 1
	default:
		r.ProcessStatus = 2
	}
}
