package kingdeesandbox

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/ferry-data/ferry/internal/sandbox"
)

// kdCustomer is one 客户 in clear, in the shape of the detail call
// (GET /jdy/v2/bd/customer_detail); the list call and the detail call
// render it (kdListRow, kdCustomer.encrypted). A published *kdCustomer is
// never changed: a modification makes a new version, so the versions
// queries still see stay intact.
//
// The fields are those vendors.md §4.4 lists for a customer (group_*,
// invoice_*, district_*, addr, bomentity[] …), spelled as the official
// detail page's mirror, an SDK generated from the official API definitions
// (zhuger/kingdee docs/Model) and a client's captured answers
// (MyPanda-Hash/YINJIA) spell them. vendors.md is silent on the fields of
// a contact: kdContact's names come from those sources alone, and the
// shipped Kingdee flow depends on four of them (mobile, phone, email,
// is_default_linkman). Fields the vendor has and ferry does not use
// (country_*, c_level_*, *_id, *_number, rate, credit_limit, qq, wechat,
// birthday, …) are left out, not invented.
type kdCustomer struct {
	kdListRow
	GroupNumber  string      `json:"group_number"`
	InvoicePhone string      `json:"invoice_phone"` // encrypted by the vendor
	DistrictName string      `json:"district_name"`
	Addr         string      `json:"addr"` // the street address; encrypted by the vendor
	Contacts     []kdContact `json:"bomentity"`

	id       int64     // ID as a number, for ordering
	modified time.Time // ModifyTime, to the second
}

// kdNoFields is an empty custom_field object: the sandbox's 账套 defines
// no custom fields.
type kdNoFields struct{}

// kdContact is one 联系人 of the detail call's bomentity[]. vendors.md
// names only the array and says contact data comes encrypted; these field
// names are the official definitions' (see kdCustomer).
type kdContact struct {
	ID             string `json:"id"`
	Seq            string `json:"seq"`
	Person         string `json:"contact_person"`
	Gender         string `json:"gender"`          // 1 男, 0 女
	Mobile         string `json:"mobile"`          // encrypted by the vendor
	Phone          string `json:"phone"`           // encrypted by the vendor
	Email          string `json:"email"`           // encrypted by the vendor
	Address        string `json:"contact_address"` // encrypted by the vendor
	DefaultLinkman bool   `json:"is_default_linkman"`
}

// kdListRow is a customer as the list call returns it: the fields of
// vendors.md §4.4's example row. Uncertain: an SDK generated from the
// official definitions and a client's captured answers show list rows of
// seven fields only (id, name, number, group_name, c_level_id, remark,
// enable), so ferry reads nothing but id from the list.
type kdListRow struct {
	ID           string     `json:"id"`
	Number       string     `json:"number"`
	Name         string     `json:"name"`
	Enable       string     `json:"enable"`
	GroupID      string     `json:"group_id"`
	GroupName    string     `json:"group_name"`
	ModifyTime   string     `json:"modify_time"`
	CreateTime   string     `json:"create_time"`
	InvoiceName  string     `json:"invoice_name"`
	TaxpayerNo   string     `json:"taxpayer_no"`
	Bank         string     `json:"bank"`
	BankAccount  string     `json:"bank_account"` // encrypted by the vendor
	ProvinceName string     `json:"province_name"`
	CityName     string     `json:"city_name"`
	SalerName    string     `json:"saler_name"`
	SaleDeptName string     `json:"sale_dept_name"`
	Remark       string     `json:"remark"`
	CustomField  kdNoFields `json:"custom_field"`
}

// listRow renders the customer as the list call does, sensitive fields
// encrypted with seal.
func (c *kdCustomer) listRow(seal func(string) string) kdListRow {
	r := c.kdListRow
	r.BankAccount = seal(r.BankAccount)
	return r
}

// encrypted renders the customer as the detail call does: the fields
// vendors.md §4.4 flags 敏感数据解密 (addr, bank_account, invoice_phone,
// contact data) sealed.
func (c *kdCustomer) encrypted(seal func(string) string) *kdCustomer {
	n := *c
	n.Addr, n.BankAccount, n.InvoicePhone = seal(c.Addr), seal(c.BankAccount), seal(c.InvoicePhone)
	n.Contacts = make([]kdContact, len(c.Contacts))
	for i, k := range c.Contacts {
		k.Mobile, k.Phone, k.Email, k.Address = seal(k.Mobile), seal(k.Phone), seal(k.Email), seal(k.Address)
		n.Contacts[i] = k
	}
	return &n
}

// fullAddress is the address in one line, as on an invoice; a
// municipality (上海, 上海市) is named once.
func (c *kdCustomer) fullAddress() string {
	province := c.ProvinceName
	if strings.HasPrefix(c.CityName, province) {
		province = ""
	}
	return province + c.CityName + c.DistrictName + c.Addr
}

func (c *kdCustomer) clone() *kdCustomer {
	n := *c
	n.Contacts = slices.Clone(c.Contacts)
	return &n
}

// stamp sets the modification time, which the vendor keeps to the second.
func (c *kdCustomer) stamp(at time.Time) {
	c.modified = at.Truncate(time.Second)
	c.ModifyTime = sandbox.FormatCST(c.modified)
}

// kdStore holds the customers and makes and changes them. It is not safe
// for concurrent use; Kingdee guards it.
type kdStore struct {
	sandbox.Records[kdCustomer] // ascending id
	names                       map[string]bool

	nextID int64
	nextNo int
}

func newKDStore(rng *rand.Rand, lag time.Duration) *kdStore {
	return &kdStore{
		Records: sandbox.Records[kdCustomer]{Rand: rng, Lag: lag},
		names:   map[string]bool{},
		nextID:  1783670301378400000 + rng.Int64N(100000),
		nextNo:  1,
	}
}

// seed fills the store with n customers whose modify stamps lie in
// [since, now), each created up to a year before its last change.
func (s *kdStore) seed(n int, since, now time.Time) {
	// id and number follow creation order, as in the vendor.
	for _, st := range s.Lifespans(n, since, now, 365*24*time.Hour) {
		c := s.newCustomer(st.Created)
		for range s.Rand.IntN(3) {
			s.change(c, st.Created.Add(time.Duration(s.Rand.Int64N(max(int64(st.Modified.Sub(st.Created)), 1)))))
		}
		s.change(c, st.Modified)
		s.Add(c, st.Modified)
	}
}

// create adds a customer made at at.
func (s *kdStore) create(at time.Time) {
	s.Add(s.newCustomer(at), at)
}

// modify makes a new version of e's customer, stamped at.
func (s *kdStore) modify(e *sandbox.Entry[kdCustomer], at time.Time) {
	c := e.Cur.clone()
	s.change(c, at)
	s.Replace(e, c, at)
}

// Stand-in reference data: regions with their 统一社会信用代码 area codes,
// trade names with a pinyin for e-mail domains, and the rest of what a
// small distributor's customer list holds.
var (
	kdRegions = []struct {
		province, city, short, code, areaCode string
		districts                             []string
		roads                                 []string
	}{
		{"福建省", "厦门市", "厦门", "350200", "0592", []string{"思明区", "湖里区", "集美区", "海沧区"}, []string{"湖滨南路", "嘉禾路", "软件园二期观日路", "仙岳路"}},
		{"福建省", "福州市", "福州", "350100", "0591", []string{"鼓楼区", "台江区", "仓山区"}, []string{"五四路", "工业路", "福湾路"}},
		{"广东省", "广州市", "广州", "440100", "020", []string{"天河区", "越秀区", "海珠区", "白云区"}, []string{"天河路", "环市东路", "新港中路", "机场路"}},
		{"广东省", "深圳市", "深圳", "440300", "0755", []string{"南山区", "福田区", "宝安区"}, []string{"科技园南区高新南七道", "深南大道", "宝安大道"}},
		{"浙江省", "杭州市", "杭州", "330100", "0571", []string{"西湖区", "滨江区", "余杭区"}, []string{"文三路", "江南大道", "文一西路"}},
		{"江苏省", "苏州市", "苏州", "320500", "0512", []string{"姑苏区", "吴中区", "相城区"}, []string{"星湖街", "干将东路", "澄阳路"}},
		{"上海", "上海市", "上海", "310000", "021", []string{"浦东新区", "闵行区", "徐汇区"}, []string{"世纪大道", "虹梅路", "漕溪北路"}},
		{"北京", "北京市", "北京", "110000", "010", []string{"朝阳区", "海淀区", "丰台区"}, []string{"建国路", "中关村大街", "丰台北路"}},
		{"四川省", "成都市", "成都", "510100", "028", []string{"武侯区", "锦江区", "高新区"}, []string{"人民南路", "红星路", "天府大道"}},
		{"湖北省", "武汉市", "武汉", "420100", "027", []string{"江汉区", "洪山区", "武昌区"}, []string{"解放大道", "珞喻路", "中北路"}},
		{"山东省", "青岛市", "青岛", "370200", "0532", []string{"市南区", "黄岛区", "崂山区"}, []string{"香港中路", "长江中路", "海尔路"}},
	}
	kdTradeNames = []struct{ name, pinyin string }{
		{"闽康", "minkang"}, {"华鑫", "huaxin"}, {"盛达", "shengda"}, {"恒泰", "hengtai"},
		{"鼎盛", "dingsheng"}, {"金诺", "jinnuo"}, {"瑞丰", "ruifeng"}, {"宏图", "hongtu"},
		{"聚源", "juyuan"}, {"德润", "derun"}, {"永辉", "yonghui"}, {"嘉禾", "jiahe"},
		{"博远", "boyuan"}, {"众和", "zhonghe"}, {"新锐", "xinrui"}, {"天成", "tiancheng"},
		{"汇通", "huitong"}, {"安信", "anxin"}, {"百川", "baichuan"}, {"云帆", "yunfan"},
		{"益康", "yikang"}, {"佳美", "jiamei"}, {"同创", "tongchuang"}, {"正源", "zhengyuan"},
	}
	kdIndustries = []string{"生物科技", "贸易", "食品", "电子商务", "医药", "实业", "供应链管理", "信息技术", "日用品", "农业发展", "母婴用品", "健康产业"}
	kdSuffixes   = []string{"有限公司", "有限公司", "有限公司", "股份有限公司", "商贸有限公司"}
	kdGroups     = []struct{ id, name string }{
		{"1", "普通客户"}, {"1", "普通客户"}, {"2", "VIP客户"}, {"3", "经销商"}, {"4", "电商客户"}, {"5", "内部往来"},
	}
	kdDepts   = []string{"销售一部", "销售二部", "华南大区", "华东大区", "电商事业部", "渠道部"}
	kdBanks   = []string{"中国工商银行", "中国建设银行", "中国农业银行", "中国银行", "招商银行", "兴业银行", "交通银行"}
	kdRemarks = []string{"", "", "月结30天", "款到发货", "重点客户，优先发货", "需开具增值税专用发票", "年度框架协议客户", "新客户，首单预付", "账期60天，季度对账", "已更换开票信息"}
	kdMailbox = []string{"sales", "caiwu", "purchase", "service", "info"}
)

const kdAlnum = "0123456789ABCDEFGHJKLMNPQRTUWXY" // the credit code's alphabet

func (s *kdStore) mobile() string {
	return sandbox.Pick(s.Rand, sandbox.PhonePrefixes) + s.Digits(8)
}

// newCustomer makes a fresh customer created at at. The first one is the
// seed scheme's own customer, 闽康益生菌.
func (s *kdStore) newCustomer(at time.Time) *kdCustomer {
	rng := s.Rand
	region := kdRegions[rng.IntN(len(kdRegions))]
	trade := sandbox.Pick(rng, kdTradeNames)
	name := "闽康益生菌"
	if s.nextNo == 1 {
		region, trade = kdRegions[1], kdTradeNames[0]
	}
	for tries := 0; s.names[name]; tries++ {
		region = kdRegions[rng.IntN(len(kdRegions))]
		trade = sandbox.Pick(rng, kdTradeNames)
		name = region.short + trade.name + sandbox.Pick(rng, kdIndustries) + sandbox.Pick(rng, kdSuffixes)
		if tries >= 50 { // the combinations are running out
			name = fmt.Sprintf("%s（%05d）", name, s.nextNo)
		}
	}
	s.names[name] = true
	s.nextID += 1 + rng.Int64N(5000)
	group := sandbox.Pick(rng, kdGroups)
	district := sandbox.Pick(rng, region.districts)
	// Drawn in this order, so that a seed keeps its customers.
	invoicePhone := region.areaCode + "-" + s.Digits(8)
	taxpayer := "91" + region.code + "MA" + s.credit(7) + s.credit(1)
	bank := sandbox.Pick(rng, kdBanks) + region.short + sandbox.Pick(rng, []string{"分行", "支行", "营业部"})
	account := s.Digits(19)
	addr := fmt.Sprintf("%s%d号", sandbox.Pick(rng, region.roads), 1+rng.IntN(999))
	c := &kdCustomer{
		kdListRow: kdListRow{
			ID:           fmt.Sprint(s.nextID),
			Number:       fmt.Sprintf("KH%05d", s.nextNo),
			Name:         name,
			Enable:       "1",
			GroupID:      group.id,
			GroupName:    group.name,
			CreateTime:   sandbox.FormatCST(at),
			InvoiceName:  name,
			TaxpayerNo:   taxpayer,
			Bank:         bank,
			BankAccount:  account,
			ProvinceName: region.province,
			CityName:     region.city,
			SalerName:    s.PersonName(),
			SaleDeptName: sandbox.Pick(rng, kdDepts),
			Remark:       sandbox.Pick(rng, kdRemarks),
		},
		GroupNumber:  "KHLB" + group.id,
		InvoicePhone: invoicePhone,
		DistrictName: district,
		Addr:         addr,
		id:           s.nextID,
	}
	if rng.IntN(3) == 0 {
		c.Addr += fmt.Sprintf("%d栋%d室", 1+rng.IntN(12), 101+rng.IntN(20)*100+rng.IntN(12))
	}
	// One to three contacts, the first the default; some have no e-mail or
	// no landline, as a bookkeeper leaves them.
	for i := range 1 + rng.IntN(3) {
		k := kdContact{ID: fmt.Sprintf("%d%d", s.nextID, i+1), Seq: fmt.Sprint(i + 1), Person: s.PersonName(),
			Gender: fmt.Sprint(rng.IntN(2)), Mobile: s.mobile(), DefaultLinkman: i == 0}
		if rng.IntN(3) > 0 {
			k.Email = sandbox.Pick(rng, kdMailbox) + "@" + trade.pinyin + ".com.cn"
		}
		if rng.IntN(2) == 0 {
			k.Phone = region.areaCode + "-" + s.Digits(8)
		}
		if rng.IntN(4) == 0 {
			k.Address = c.fullAddress()
		}
		c.Contacts = append(c.Contacts, k)
	}
	s.nextNo++
	c.stamp(at)
	return c
}

func (s *kdStore) credit(n int) string {
	var b strings.Builder
	for range n {
		b.WriteByte(kdAlnum[s.Rand.IntN(len(kdAlnum))])
	}
	return b.String()
}

// change edits a customer as a bookkeeper would (one to three fields) and
// stamps it at. Every change alters at least one field besides the stamp.
func (s *kdStore) change(c *kdCustomer, at time.Time) {
	rng := s.Rand
	for range 1 + rng.IntN(3) {
		switch rng.IntN(8) {
		case 0:
			old := c.Remark
			for c.Remark == old {
				c.Remark = sandbox.Pick(rng, kdRemarks)
			}
		case 1:
			c.SalerName = s.PersonName()
			c.SaleDeptName = sandbox.Pick(rng, kdDepts)
		case 2: // the default contact is someone else now
			d := &c.Contacts[0]
			d.Person, d.Mobile, d.Gender = s.PersonName(), s.mobile(), fmt.Sprint(rng.IntN(2))
		case 3:
			k := &c.Contacts[rng.IntN(len(c.Contacts))]
			k.Mobile = s.mobile()
		case 4:
			c.Addr = fmt.Sprintf("%s%d号", sandbox.Pick(rng, kdRoadsOf(c.CityName)), 1+rng.IntN(999))
		case 5:
			g := sandbox.Pick(rng, kdGroups)
			c.GroupID, c.GroupName, c.GroupNumber = g.id, g.name, "KHLB"+g.id
			if c.GroupName == "普通客户" {
				c.Remark = "客户分类调整"
			}
		case 6:
			c.Bank = sandbox.Pick(rng, kdBanks) + kdShortOf(c.CityName) + "支行"
			c.BankAccount = s.Digits(19)
		default:
			if c.Enable == "1" && rng.IntN(4) == 0 {
				c.Enable, c.Remark = "0", "已停止合作"
			} else {
				c.Enable, c.Remark = "1", "恢复合作"
			}
		}
	}
	c.stamp(at)
}

func kdRoadsOf(city string) []string {
	for _, r := range kdRegions {
		if r.city == city {
			return r.roads
		}
	}
	return []string{"人民路"}
}

func kdShortOf(city string) string {
	for _, r := range kdRegions {
		if r.city == city {
			return r.short
		}
	}
	return ""
}
