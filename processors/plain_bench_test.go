package processors

import (
	"context"
	"encoding/json"
	"fmt"
	"math/big"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/twmb/avro"

	"github.com/ferry-data/ferry/internal/bus"
)

// BenchmarkProcessor maps 20k WDT refunds (about 3 KB each) from a
// six-partition raw topic onto the canonical topic twice, over kfake:
// with ferry's processor (one replica, its defaults), and with the loop a
// user would write by hand for this one flow (plainRefunds). Both write
// with acks from all replicas.
//
//	go test -run x -bench 'Processor$' -benchtime 3x ./processors/
//
// Reported: records a second for each, their ratio, and ferry's
// CPU-seconds a thousand records against the loop's.
func BenchmarkProcessor(b *testing.B) {
	const records = 20_000
	r := refundBench(b, records, bus.Topic{Name: "plain.refund", Settings: bus.Settings{Partitions: 6}})
	brokers, ctx, flow, schema, settings, end := r.brokers, r.ctx, r.flow, r.schema, r.settings, r.end
	avsc := schema.Text()
	w := bus.NewWriter(brokers, nil)
	defer w.Close()
	var ferryTime, plainTime, ferryCPU, plainCPU time.Duration
	b.ResetTimer()
	for i := range b.N {
		start, cpu := time.Now(), cpuTime()
		if err := plainRefunds(ctx, brokers, flow.Source.Topic, "plain.refund", fmt.Sprintf("plain-%d", i), avsc, records); err != nil {
			b.Fatal(err)
		}
		plainTime, plainCPU = plainTime+time.Since(start), plainCPU+cpuTime()-cpu

		f := *flow
		f.Name = fmt.Sprintf("bench_%d", i)
		start, cpu = time.Now(), cpuTime()
		rctx, stop := context.WithCancel(ctx)
		var wg sync.WaitGroup
		p := &Processor{Flow: &f, Schema: schema, Brokers: brokers, Topics: settings, Writer: w}
		wg.Go(func() { _ = p.Run(rctx) })
		if err := bus.WaitCaughtUp(ctx, brokers, Group(&f), f.Source.Topic, end); err != nil {
			b.Fatal(err)
		}
		ferryTime, ferryCPU = ferryTime+time.Since(start), ferryCPU+cpuTime()-cpu
		stop()
		wg.Wait()
	}
	n := float64(b.N) * records
	b.ReportMetric(n/ferryTime.Seconds(), "ferry-rec/s")
	b.ReportMetric(n/plainTime.Seconds(), "plain-rec/s")
	b.ReportMetric(plainTime.Seconds()/ferryTime.Seconds(), "ratio")
	b.ReportMetric(ferryCPU.Seconds()/n*1000, "ferry-cpu-s/krec")
	b.ReportMetric(plainCPU.Seconds()/n*1000, "plain-cpu-s/krec")
}

// cpuTime is the CPU time this process has used, user and system.
func cpuTime() time.Duration {
	var u syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &u)
	return time.Duration(u.Utime.Nano() + u.Stime.Nano())
}

// rawRefund is the part of a WDT refund the canonical refund takes, typed
// as the vendor sends it (vendors.md §3): ids and codes as numbers, stamps
// as epoch milliseconds, amounts as numbers, times as text.
type rawRefund struct {
	RefundID              int64       `json:"refund_id"`
	SrcTids               string      `json:"src_tids"`
	RefundNo              string      `json:"refund_no"`
	Remark                string      `json:"remark"`
	Type                  int32       `json:"type"`
	StockinStatus         int32       `json:"stockin_status"`
	FlagName              string      `json:"flag_name"`
	ReturnGoodsCount      json.Number `json:"return_goods_count"`
	ReceiverTelno         string      `json:"receiver_telno"`
	ReceiverName          string      `json:"receiver_name"`
	Modified              int64       `json:"modified"`
	NoteCount             int32       `json:"note_count"`
	ShopNo                string      `json:"shop_no"`
	FromType              int32       `json:"from_type"`
	Created               int64       `json:"created"`
	SettleTime            string      `json:"settle_time"`
	CheckTime             string      `json:"check_time"`
	ReturnLogisticsNo     string      `json:"return_logistics_no"`
	TradeNoList           string      `json:"trade_no_list"`
	GuaranteeRefundAmount json.Number `json:"guarantee_refund_amount"`
	ReturnGoodsAmount     json.Number `json:"return_goods_amount"`
	ReturnLogisticsName   string      `json:"return_logistics_name"`
	ReasonName            string      `json:"reason_name"`
	RefundReason          string      `json:"refund_reason"`
	BuyerNick             string      `json:"buyer_nick"`
	OperatorName          string      `json:"operator_name"`
	ActualRefundAmount    json.Number `json:"actual_refund_amount"`
	RevertReasonName      string      `json:"revert_reason_name"`
	ReturnWarehouseNo     string      `json:"return_warehouse_no"`
	DirectRefundAmount    json.Number `json:"direct_refund_amount"`
	ReceiveAmount         json.Number `json:"receive_amount"`
	CustomerName          string      `json:"customer_name"`
	FenxiaoNickName       string      `json:"fenxiao_nick_name"`
	Status                int32       `json:"status"`
	ShopID                int32       `json:"shop_id"`
	TradeID               int64       `json:"trade_id"`
	RawRefundNos          string      `json:"raw_refund_nos"`
	PayID                 string      `json:"pay_id"`
	ProviderRefundNo      string      `json:"provider_refund_no"`
}

// canonicalRefund is the canonical refund as a struct for the Avro
// encoder: a nullable field is a pointer.
type canonicalRefund struct {
	RefundID              int64      `avro:"refund_id"`
	SrcTids               *string    `avro:"src_tids"`
	RefundNo              *string    `avro:"refund_no"`
	Remark                *string    `avro:"remark"`
	Type                  *int32     `avro:"type"`
	StockinStatus         *int32     `avro:"stockin_status"`
	FlagName              *string    `avro:"flag_name"`
	ReturnGoodsCount      *big.Rat   `avro:"return_goods_count"`
	ReceiverTelno         *string    `avro:"receiver_telno"`
	ReceiverName          *string    `avro:"receiver_name"`
	Modified              time.Time  `avro:"modified"`
	NoteCount             *int32     `avro:"note_count"`
	ShopNo                *string    `avro:"shop_no"`
	FromType              *int32     `avro:"from_type"`
	Created               *time.Time `avro:"created"`
	SettleTime            *time.Time `avro:"settle_time"`
	CheckTime             *time.Time `avro:"check_time"`
	ReturnLogisticsNo     *string    `avro:"return_logistics_no"`
	TradeNoList           *string    `avro:"trade_no_list"`
	GuaranteeRefundAmount *big.Rat   `avro:"guarantee_refund_amount"`
	ReturnGoodsAmount     *big.Rat   `avro:"return_goods_amount"`
	ReturnLogisticsName   *string    `avro:"return_logistics_name"`
	ReasonName            *string    `avro:"reason_name"`
	RefundReason          *string    `avro:"refund_reason"`
	BuyerNick             *string    `avro:"buyer_nick"`
	OperatorName          *string    `avro:"operator_name"`
	ActualRefundAmount    *big.Rat   `avro:"actual_refund_amount"`
	RevertReasonName      *string    `avro:"revert_reason_name"`
	ReturnWarehouseNo     *string    `avro:"return_warehouse_no"`
	DirectRefundAmount    *big.Rat   `avro:"direct_refund_amount"`
	ReceiveAmount         *big.Rat   `avro:"receive_amount"`
	CustomerName          *string    `avro:"customer_name"`
	FenxiaoNickName       *string    `avro:"fenxiao_nick_name"`
	Status                *int32     `avro:"status"`
	ShopID                *int32     `avro:"shop_id"`
	TradeID               *int64     `avro:"trade_id"`
	RawRefundNos          *string    `avro:"raw_refund_nos"`
	PayID                 *string    `avro:"pay_id"`
	ProviderRefundNo      *string    `avro:"provider_refund_no"`
}

// plainRefunds is the baseline: one consumer-group reader, batches of 500,
// json.Unmarshal into a struct, Avro encoding of a struct, one produce
// call and one commit a batch, on one goroutine, until it has read n
// records. It keeps no dedupe state and sends nothing to a dead-letter
// topic: on a malformed record it stops.
func plainRefunds(ctx context.Context, brokers []string, in, out, group, avsc string, n int) error {
	schema, err := avro.Parse(avsc)
	if err != nil {
		return err
	}
	shanghai, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		return err
	}
	r := kafka.NewReader(kafka.ReaderConfig{Brokers: brokers, GroupID: group, Topic: in, MinBytes: 1, MaxBytes: 16 << 20, MaxWait: 250 * time.Millisecond})
	defer r.Close()
	w := bus.NewWriter(brokers, nil)
	defer w.Close()
	str := func(s string) *string {
		if s == "" {
			return nil
		}
		return &s
	}
	i32 := func(v int32) *int32 { return &v }
	amount := func(v json.Number) (*big.Rat, error) {
		r, ok := new(big.Rat).SetString(v.String())
		if !ok {
			return nil, fmt.Errorf("amount %q", v)
		}
		return r, nil
	}
	when := func(s string) (*time.Time, error) {
		if s == "" {
			return nil, nil
		}
		t, err := time.ParseInLocation(time.DateTime, s, shanghai)
		return &t, err
	}
	batch := make([]kafka.Message, 0, 500)
	outs := make([]kafka.Message, 0, 500)
	for read := 0; read < n; {
		batch, outs = batch[:0], outs[:0]
		for len(batch) < cap(batch) && read+len(batch) < n {
			m, err := r.FetchMessage(ctx)
			if err != nil {
				return err
			}
			batch = append(batch, m)
		}
		for _, m := range batch {
			var raw rawRefund
			if err := json.Unmarshal(m.Value, &raw); err != nil {
				return err
			}
			created, modified := time.UnixMilli(raw.Created), time.UnixMilli(raw.Modified)
			c := canonicalRefund{RefundID: raw.RefundID, SrcTids: str(raw.SrcTids), RefundNo: str(raw.RefundNo), Remark: str(raw.Remark),
				Type: i32(raw.Type), StockinStatus: i32(raw.StockinStatus), FlagName: str(raw.FlagName), ReceiverTelno: str(raw.ReceiverTelno),
				ReceiverName: str(raw.ReceiverName), Modified: modified, NoteCount: i32(raw.NoteCount), ShopNo: str(raw.ShopNo),
				FromType: i32(raw.FromType), Created: &created, ReturnLogisticsNo: str(raw.ReturnLogisticsNo), TradeNoList: str(raw.TradeNoList),
				ReturnLogisticsName: str(raw.ReturnLogisticsName), ReasonName: str(raw.ReasonName), RefundReason: str(raw.RefundReason),
				BuyerNick: str(raw.BuyerNick), OperatorName: str(raw.OperatorName), RevertReasonName: str(raw.RevertReasonName),
				ReturnWarehouseNo: str(raw.ReturnWarehouseNo), CustomerName: str(raw.CustomerName), FenxiaoNickName: str(raw.FenxiaoNickName),
				Status: i32(raw.Status), ShopID: i32(raw.ShopID), TradeID: &raw.TradeID, RawRefundNos: str(raw.RawRefundNos),
				PayID: str(raw.PayID), ProviderRefundNo: str(raw.ProviderRefundNo)}
			for _, a := range []struct {
				to   **big.Rat
				from json.Number
			}{{&c.ReturnGoodsCount, raw.ReturnGoodsCount}, {&c.GuaranteeRefundAmount, raw.GuaranteeRefundAmount},
				{&c.ReturnGoodsAmount, raw.ReturnGoodsAmount}, {&c.ActualRefundAmount, raw.ActualRefundAmount},
				{&c.DirectRefundAmount, raw.DirectRefundAmount}, {&c.ReceiveAmount, raw.ReceiveAmount}} {
				if *a.to, err = amount(a.from); err != nil {
					return err
				}
			}
			if c.SettleTime, err = when(raw.SettleTime); err != nil {
				return err
			}
			if c.CheckTime, err = when(raw.CheckTime); err != nil {
				return err
			}
			v, err := schema.AppendSingleObject(nil, &c)
			if err != nil {
				return err
			}
			outs = append(outs, kafka.Message{Topic: out, Key: m.Key, Value: v})
		}
		if err := w.WriteMessages(ctx, outs...); err != nil {
			return err
		}
		if err := r.CommitMessages(ctx, batch...); err != nil {
			return err
		}
		read += len(batch)
	}
	return nil
}
