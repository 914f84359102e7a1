package sandbox

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// CST is Beijing time, the zone every vendor here writes its times in. A
// fixed zone keeps the sandboxes free of tzdata.
var CST = time.FixedZone("CST", 8*3600)

// FormatCST writes t as yyyy-MM-dd HH:mm:ss in Beijing time.
func FormatCST(t time.Time) string { return t.In(CST).Format(time.DateTime) }

// Stand-in Chinese names for the people in every sandbox's records.
var (
	Surnames   = []string{"王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "马", "朱", "胡", "郭", "何", "林", "罗", "高"}
	GivenNames = []string{"伟", "芳", "娜", "秀英", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛", "明", "超", "秀兰", "霞", "子涵", "浩然", "欣怡", "梓萱", "宇轩"}
	// Nicknames and PhonePrefixes make buyers' nicknames and masked phone numbers.
	Nicknames     = []string{"爱吃鱼的猫", "小太阳", "晴天娃娃", "追风少年", "柠檬不萌", "半糖主义", "月亮邮递员", "南方姑娘"}
	PhonePrefixes = []string{"130", "135", "138", "139", "150", "158", "176", "186", "188", "199"}
	// Carriers are couriers and the prefix of their waybill numbers.
	Carriers = []struct{ Name, Prefix string }{
		{"中通", "78"}, {"顺丰速运", "SF"}, {"圆通", "YT"}, {"韵达", "43"},
		{"申通", "77"}, {"京东物流", "JDV"}, {"邮政EMS", "98"},
	}
	// Goods are what the shops sell.
	Goods = []Product{
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
)

// Product is one of the goods the sandboxes' shops sell.
type Product struct {
	No, Name string
	Cents    int64
	Specs    []string
}

// Yuan is cents in yuan.
func Yuan(cents int64) float64 { return float64(cents) / 100 }

// StringParam reads a string or number parameter of a JSON request as text.
func StringParam(v any) string {
	switch v := v.(type) {
	case string:
		return strings.TrimSpace(v)
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	}
	return ""
}

// SpanText renders a window cap as the vendor words it ("30天").
func SpanText(d time.Duration) string {
	if d%(24*time.Hour) == 0 {
		return fmt.Sprintf("%d天", d/(24*time.Hour))
	}
	if d%time.Hour == 0 {
		return fmt.Sprintf("%d小时", d/time.Hour)
	}
	return d.String()
}

// ListParam reads a comma-separated string, a number or an array of them.
func ListParam(v any) []string {
	var out []string
	if xs, ok := v.([]any); ok {
		for _, x := range xs {
			out = append(out, ListParam(x)...)
		}
		return out
	}
	for _, f := range strings.Split(StringParam(v), ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}
