package mysql_test

import (
	"context"
	"database/sql"
	"fmt"
	"math/big"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/ferry-data/ferry/internal/mysqltest"
	"github.com/ferry-data/ferry/schemas"
	sink "github.com/ferry-data/ferry/sinks/mysql"
)

// BenchmarkWrite200k compares the sink with a plain INSERT loop on MariaDB:
//
//	go test -run x -bench Write200k -benchtime 1x ./sinks/mysql/
//
// Both write the same 200k canonical refunds, all 39 columns, into an empty
// table of the same definition, 1000 rows per statement and one transaction
// per 1000 rows, on the same connection pool (interpolateParams=true). The
// baseline is as hard as it gets: its arguments (timestamps rendered in
// Asia/Shanghai, decimals as strings) are computed outside its timing, so
// plain-rows/s is what the database takes for one multi-row INSERT per
// transaction, while the sink's timing covers everything Write does
// (validation, per-key dedupe, value conversion, the version guarded ON
// DUPLICATE KEY UPDATE). The two alternate batch by batch, taking turns at
// going first, so both see the same server state (table sizes, background
// flushing). Reported: sink-rows/s, plain-rows/s and their ratio.
func BenchmarkWrite200k(b *testing.B) {
	const total, batch = 200_000, 1000
	ctx := context.Background()
	s, err := schemas.Load("refund")
	if err != nil {
		b.Fatal(err)
	}
	zone := shanghai(b)
	cols := make([]string, len(s.Fields))
	for i, f := range s.Fields {
		cols[i] = f.Name
	}
	recs := refunds(total, 1)
	db, _ := mysqltest.New(b)

	b.ResetTimer()
	for i := range b.N {
		b.StopTimer()
		sinkTable, plainTable := fmt.Sprint("sink_", i), fmt.Sprint("plain_", i)
		w, err := sink.New(db, s, sink.Config{Table: sinkTable, Columns: cols, Zone: zone, BatchRows: batch})
		if err != nil {
			b.Fatal(err)
		}
		if err := w.CreateTable(ctx); err != nil {
			b.Fatal(err)
		}
		if _, err := db.ExecContext(ctx, "CREATE TABLE `"+plainTable+"` LIKE `"+sinkTable+"`"); err != nil {
			b.Fatal(err)
		}
		p := newPlain(s, plainTable, zone, batch)
		b.StartTimer()

		var sinkTime, plainTime time.Duration
		for off := 0; off < total; off += batch {
			chunk := recs[off : off+batch]
			pargs := p.args(chunk)
			runs := []func() error{
				func() error { return timed(&sinkTime, func() error { return w.Write(ctx, chunk) }) },
				func() error { return timed(&plainTime, func() error { return p.exec(ctx, db, pargs) }) },
			}
			if off/batch%2 == 1 { // take turns at going first
				runs[0], runs[1] = runs[1], runs[0]
			}
			for _, run := range runs {
				if err := run(); err != nil {
					b.Fatal(err)
				}
			}
		}

		b.StopTimer()
		var sums [2]int64
		for j, t := range []string{sinkTable, plainTable} {
			var n int
			if err := db.QueryRowContext(ctx, "SELECT COUNT(*) FROM `"+t+"`").Scan(&n); err != nil || n != total {
				b.Fatalf("%s holds %d rows (%v), want %d", t, n, err, total)
			}
			var name string
			if err := db.QueryRowContext(ctx, "CHECKSUM TABLE `"+t+"`").Scan(&name, &sums[j]); err != nil {
				b.Fatal(err)
			}
			if _, err := db.ExecContext(ctx, "DROP TABLE `"+t+"`"); err != nil {
				b.Fatal(err)
			}
		}
		if sums[0] != sums[1] {
			b.Fatalf("the sink's table differs from the plain one: checksum %d, want %d", sums[0], sums[1])
		}
		sinkRate := total / sinkTime.Seconds()
		plainRate := total / plainTime.Seconds()
		b.ReportMetric(sinkRate, "sink-rows/s")
		b.ReportMetric(plainRate, "plain-rows/s")
		b.ReportMetric(sinkRate/plainRate, "ratio")
		b.Logf("sink %.0f rows/s (%v), plain INSERT %.0f rows/s (%v), ratio %.3f",
			sinkRate, sinkTime.Round(time.Millisecond), plainRate, plainTime.Round(time.Millisecond), sinkRate/plainRate)
		b.StartTimer()
	}
}

// timed runs f and adds the time it took to d.
func timed(d *time.Duration, f func() error) error {
	start := time.Now()
	err := f()
	*d += time.Since(start)
	return err
}

// plain is the baseline writer: a hand-written multi-row INSERT.
type plain struct {
	fields []schemas.Field
	zone   *time.Location
	query  string
}

func newPlain(s *schemas.Schema, table string, zone *time.Location, rows int) *plain {
	names := make([]string, len(s.Fields))
	for i, f := range s.Fields {
		names[i] = "`" + f.Name + "`"
	}
	row := "(" + strings.Repeat("?,", len(names)-1) + "?)"
	query := "INSERT INTO `" + table + "` (" + strings.Join(names, ",") + ") VALUES " +
		strings.Repeat(row+",", rows-1) + row
	return &plain{fields: s.Fields, zone: zone, query: query}
}

// exec inserts one batch in its own transaction.
func (p *plain) exec(ctx context.Context, db *sql.DB, args []any) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, p.query, args...); err != nil {
		return err
	}
	return tx.Commit()
}

// args renders recs as the statement's arguments.
func (p *plain) args(recs []map[string]any) []any {
	args := make([]any, 0, len(recs)*len(p.fields))
	for _, r := range recs {
		for _, f := range p.fields {
			switch v := r[f.Name].(type) {
			case time.Time:
				args = append(args, v.In(p.zone).Format("2006-01-02 15:04:05.000"))
			case *big.Rat:
				args = append(args, v.FloatString(f.Scale))
			default:
				args = append(args, v)
			}
		}
	}
	return args
}

// refunds generates n canonical refunds with every field filled, the same
// ones for the same seed; refund_id runs from 1 to n.
func refunds(n int, seed uint64) []map[string]any {
	rng := rand.New(rand.NewPCG(seed, 0x5eed))
	pick := func(xs ...string) string { return xs[rng.IntN(len(xs))] }
	digits := func(k int) string {
		b := make([]byte, k)
		for i := range b {
			b[i] = byte('0' + rng.IntN(10))
		}
		return string(b)
	}
	money := func(maxCents int64) *big.Rat { return big.NewRat(rng.Int64N(maxCents), 100) }
	base := time.Date(2023, 6, 1, 0, 0, 0, 0, time.UTC)
	names := []string{"张伟", "王芳", "李娜", "刘洋", "陈静", "杨磊", "赵敏", "黄勇"}
	out := make([]map[string]any, n)
	for i := range out {
		created := base.Add(time.Duration(rng.Int64N(30*24*3600*1000)) * time.Millisecond)
		check := created.Add(time.Duration(rng.IntN(48*3600*1000)) * time.Millisecond)
		settle := check.Add(time.Duration(rng.IntN(72*3600*1000)) * time.Millisecond)
		modified := settle.Add(time.Duration(rng.IntN(3600*1000)) * time.Millisecond)
		tid := "E" + digits(18)
		amount := money(200000)
		out[i] = map[string]any{
			"refund_id":               int64(i + 1),
			"src_tids":                tid,
			"refund_no":               "TK" + created.Format("060102") + digits(6),
			"remark":                  pick("", "客户要求退货退款", "破损，已拍照", "补发一件，差价退回", "七天无理由退货，商品完好，吊牌未拆，请尽快处理"),
			"type":                    int32([]int{1, 2, 3, 4, 6}[rng.IntN(5)]),
			"stockin_status":          int32(rng.IntN(5)),
			"flag_name":               pick("无", "加急", "VIP客户", "已联系"),
			"return_goods_count":      big.NewRat(int64(1+rng.IntN(5)), 1),
			"receiver_telno":          "1" + pick("38", "39", "58", "86") + "****" + digits(4),
			"receiver_name":           names[rng.IntN(len(names))],
			"modified":                modified,
			"note_count":              int32(rng.IntN(4)),
			"shop_no":                 fmt.Sprintf("SHOP%03d", rng.IntN(40)),
			"from_type":               int32(rng.IntN(3)),
			"created":                 created,
			"settle_time":             settle,
			"check_time":              check,
			"return_logistics_no":     pick("SF", "ZTO", "YT", "YD") + digits(12),
			"trade_no_list":           "JY" + created.Format("20060102") + digits(6),
			"guarantee_refund_amount": money(2000),
			"return_goods_amount":     amount,
			"return_logistics_name":   pick("顺丰速运", "中通快递", "圆通速递", "韵达快递"),
			"reason_name":             pick("七天无理由", "质量问题", "发错货", "尺码不合适", "少件漏发"),
			"refund_reason":           pick("不想要了", "商品破损", "与描述不符", "拍错了"),
			"buyer_nick":              "tb" + digits(10),
			"operator_name":           names[rng.IntN(len(names))],
			"actual_refund_amount":    amount,
			"revert_reason_name":      pick("无", "超过售后期", "商品已使用"),
			"return_warehouse_no":     fmt.Sprintf("WH%02d", rng.IntN(8)),
			"direct_refund_amount":    money(100000),
			"receive_amount":          money(100000),
			"customer_name":           names[rng.IntN(len(names))],
			"fenxiao_nick_name":       pick("自营", "分销-华东", "分销-华南"),
			"status":                  int32([]int{10, 20, 30, 40, 80, 90}[rng.IntN(6)]),
			"shop_id":                 int32(1 + rng.IntN(40)),
			"trade_id":                rng.Int64N(1 << 40),
			"raw_refund_nos":          digits(19),
			"pay_id":                  "2023" + digits(24),
			"provider_refund_no":      "GYS" + digits(10),
		}
	}
	return out
}

func shanghai(tb testing.TB) *time.Location {
	zone, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		tb.Fatal(err)
	}
	return zone
}
