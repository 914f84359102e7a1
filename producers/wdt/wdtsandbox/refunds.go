package wdtsandbox

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/ferry-data/ferry/internal/sandbox"
)

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
	r.ModifiedDate = sandbox.FormatCST(at)
	for i := range r.DetailList {
		r.DetailList[i].Modified = r.Modified
		r.DetailList[i].ModifiedDate = r.ModifiedDate
	}
}

// refundStore holds the refunds and makes and changes them. It is not safe
// for concurrent use; WDT guards it.
type refundStore struct {
	sandbox.Records[refund] // ascending refund_id

	nextRefundID int64
	nextRecID    int64
	nextTradeID  int64
	daySeq       map[string]int // refund_no sequence per CST day
}

func newRefundStore(rng *rand.Rand, lag time.Duration) *refundStore {
	return &refundStore{
		Records:      sandbox.Records[refund]{Rand: rng, Lag: lag},
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
	for _, st := range s.Lifespans(n, since, now, 72*time.Hour) {
		r := s.newRefund(st.Created)
		// A few changes in between; the last one at the drawn stamp.
		steps := make([]time.Time, 1+s.Rand.IntN(4))
		life := max(int64(st.Modified.Sub(st.Created)), 1)
		for i := range steps[1:] {
			steps[i] = st.Created.Add(time.Duration(s.Rand.Int64N(life)))
		}
		steps[len(steps)-1] = st.Modified
		slices.SortFunc(steps, time.Time.Compare)
		for _, at := range steps {
			s.change(r, at)
		}
		s.Add(r, st.Modified)
	}
}

// create adds a new refund made at at.
func (s *refundStore) create(at time.Time) {
	s.Add(s.newRefund(at), at)
}

// modify makes a new version of e's refund, stamped at.
func (s *refundStore) modify(e *sandbox.Entry[refund], at time.Time) {
	r := e.Cur.clone()
	s.change(r, at)
	s.Replace(e, r, at)
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
	reasons    = []string{"七天无理由", "质量问题", "尺码不合适", "发错货", "少件/漏发", "商品与描述不符", "效果不好/不喜欢", "拍错/多拍", "包装破损"}
	flags      = []string{"无", "无", "无", "加急", "待跟进", "异常件"}
	remarks    = []string{"", "买家已寄回", "已联系买家核实", "仓库已签收待质检", "质检通过，同意退款", "补发处理", "拒收件，原路退回", "客服同意退款", "等待平台介入", "买家补充凭证"}
	operators  = []string{"系统", "客服-小美", "客服-阿杰", "仓管-老王", "财务-李会计", "售后主管-陈静"}
	reverts    = []string{"凭证不足", "超出售后期", "商品已使用"}
)

// product is one goods item of the stand-in catalogue, its price in cents.
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

// newRefund makes a fresh refund (待审核) created at at.
func (s *refundStore) newRefund(at time.Time) *refund {
	rng := s.Rand
	shop := sandbox.Pick(rng, shops)
	day := at.In(sandbox.CST).Format("060102")
	s.daySeq[day]++
	id := s.nextRefundID
	s.nextRefundID++
	s.nextTradeID += 1 + rng.Int64N(7)

	tid := s.Digits(shop.tidLen)
	tradeNo := fmt.Sprintf("JY%s%05d", day, s.nextTradeID%100000)
	buyer := sandbox.Pick(rng, sandbox.Nicknames) + s.Digits(4)
	if rng.IntN(2) == 0 {
		buyer = "tb" + s.Digits(9)
	}
	r := &refund{
		RefundID:         id,
		RefundNo:         fmt.Sprintf("TK%s%04d", day, s.daySeq[day]),
		Type:             sandbox.Pick(rng, types),
		Status:           20,
		ShopNo:           shop.no,
		ShopID:           shop.id,
		PlatformID:       fmt.Sprint(shop.platform),
		SrcTids:          tid,
		TidList:          tid,
		TradeNoList:      tradeNo,
		TradeID:          s.nextTradeID,
		RawRefundNos:     s.Digits(15),
		RefundTime:       sandbox.FormatCST(at.Add(-time.Duration(rng.Int64N(int64(2 * time.Hour))))),
		Created:          at.UnixMilli(),
		BuyerNick:        buyer,
		CustomerName:     buyer,
		ReceiverName:     s.PersonName(),
		ReceiverTelno:    sandbox.Pick(rng, sandbox.PhonePrefixes) + "****" + s.Digits(4),
		ReasonName:       sandbox.Pick(rng, reasons),
		FlagName:         "无",
		FromType:         1,
		OperatorName:     "系统",
		PayID:            at.In(sandbox.CST).Format("20060102") + "22001" + s.Digits(15),
		AmountDetailList: []any{},
	}
	r.RefundReason = r.ReasonName
	if rng.IntN(10) == 0 {
		r.FromType = 0 // built by hand in the ERP
		r.OperatorName = sandbox.Pick(rng, operators[1:])
	}
	if rng.IntN(10) == 0 {
		r.FenxiaoNickName = "分销-" + sandbox.Pick(rng, sandbox.Nicknames)
	}
	if r.Type == 2 || r.Type == 3 {
		r.ReturnWarehouseNo = sandbox.Pick(rng, warehouses)
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
	gi := s.Rand.IntN(len(sandbox.Goods))
	g := sandbox.Goods[gi]
	si := s.Rand.IntN(len(g.Specs))
	sysGoods := int64(105000 + gi)
	sysSpec := sysGoods*10 + int64(si)
	num := 1 + s.Rand.IntN(3)
	refundNum := 1 + s.Rand.IntN(num)
	cents := g.Cents
	if s.Rand.IntN(3) == 0 { // a discount on the platform
		cents = cents * int64(80+s.Rand.IntN(20)) / 100
	}
	d := detail{
		RecID:         s.nextRecID,
		RefundID:      r.RefundID,
		Oid:           s.Digits(len(r.SrcTids)),
		Tid:           r.SrcTids,
		TradeNo:       tradeNo,
		PlatformID:    platform,
		GoodsNo:       g.No,
		GoodsName:     g.Name,
		SpecNo:        fmt.Sprintf("%s-%02d", g.No, si+1),
		SpecName:      g.Specs[si],
		Barcode:       fmt.Sprintf("69%011d", 20000000000+sysSpec),
		Num:           num,
		Price:         sandbox.Yuan(cents),
		OriginalPrice: sandbox.Yuan(g.Cents),
		RefundNum:     refundNum,
		TotalAmount:   sandbox.Yuan(cents * int64(num)),
		SysGoodsID:    sysGoods,
		SysSpecID:     sysSpec,
		Created:       sandbox.FormatCST(at),
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
	l := sandbox.Pick(s.Rand, sandbox.Carriers)
	r.ReturnLogisticsName = l.Name
	r.ReturnLogisticsNo = l.Prefix + s.Digits(12)
}

// change moves a refund along as an ERP user would (status, stock-in,
// amounts, remark, operator) and stamps it at. Every change alters at least
// one field besides the stamps.
func (s *refundStore) change(r *refund, at time.Time) {
	rng := s.Rand
	r.OperatorName = sandbox.Pick(rng, operators)
	moved := false
	if next, ok := nextStatus[r.Status]; ok && rng.IntN(10) < 6 {
		r.Status = sandbox.Pick(rng, next)
		moved = true
	}
	switch {
	case r.Status == 10:
		r.RevertReasonName = sandbox.Pick(rng, reverts)
	case r.Status >= 30 && r.CheckTime == "":
		r.CheckTime = sandbox.FormatCST(at)
	}
	if r.Status >= 80 && r.SettleTime == "" {
		r.SettleTime = sandbox.FormatCST(at)
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
			r.Remark = sandbox.Pick(rng, remarks)
		}
	}
	if rng.IntN(8) == 0 {
		r.FlagName = sandbox.Pick(rng, flags)
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
		d.RefundAmount = sandbox.Yuan(share)
		left -= share
	}

	r.ReturnGoodsCount, r.ReturnGoodsAmount = 0, 0
	r.GuaranteeRefundAmount, r.DirectRefundAmount = 0, 0
	r.ActualRefundAmount, r.ReceiveAmount = 0, 0
	switch r.Type {
	case 2, 3:
		r.ReturnGoodsCount = count
		r.ReturnGoodsAmount = sandbox.Yuan(goodsCents)
	case 6:
		r.GuaranteeRefundAmount = sandbox.Yuan(refundCents)
	case 1:
		r.DirectRefundAmount = sandbox.Yuan(refundCents)
	}
	if r.Status >= 80 && r.Type != 3 {
		r.ActualRefundAmount = sandbox.Yuan(refundCents)
	}
	if r.Type == 3 && r.StockinStatus >= 3 {
		r.ReceiveAmount = sandbox.Yuan(goodsCents)
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
