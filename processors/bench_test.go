package processors

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/ferry-data/ferry/flows"
	"github.com/ferry-data/ferry/internal/bus"
	"github.com/ferry-data/ferry/schemas"
)

func benchCluster(b *testing.B) ([]string, context.Context) {
	b.Helper()
	c, err := kfake.NewCluster(kfake.NumBrokers(1))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(c.Close)
	b.Cleanup(kafka.DefaultTransport.(*kafka.Transport).CloseIdleConnections)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	b.Cleanup(cancel)
	return c.ListenAddrs(), ctx
}

func heap() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// BenchmarkRestore restores the dedupe state of a partition of one million
// keys, as a processor does when it is assigned the partition:
//
//	go test -run x -bench Restore -benchtime 1x ./processors/
//
// The baseline is the plain loop: the same reader into a
// map[string]version, which is what the processor kept before. Reported:
// seconds and bytes a key for both, and the ratios.
func BenchmarkRestore(b *testing.B) {
	const keys = 1_000_000
	brokers, ctx := benchCluster(b)
	const topic = "ferry.dedupe.bench"
	if err := bus.EnsureTopics(ctx, brokers, nil, bus.Topic{Name: topic, Settings: bus.Settings{Partitions: 1}, Compacted: true}); err != nil {
		b.Fatal(err)
	}
	w := bus.NewStateWriter(brokers, nil)
	defer w.Close()
	msgs := make([]kafka.Message, 0, 10_000)
	for i := range keys {
		v := version{stamp: 1709290000000 + int64(i), hash: uint64(i) * 0x9e3779b97f4a7c15}
		msgs = append(msgs, kafka.Message{Topic: topic, Key: []byte(fmt.Sprint(100_000_000 + i)), Value: v.encode()})
		if len(msgs) == cap(msgs) {
			if err := w.WriteMessages(ctx, msgs...); err != nil {
				b.Fatal(err)
			}
			msgs = msgs[:0]
		}
	}
	var ferryTime, plainTime time.Duration
	var ferryBytes, plainBytes float64
	b.ResetTimer()
	for range b.N {
		before := heap()
		start := time.Now()
		var st *state
		if _, err := bus.ReadPartition(ctx, brokers, topic, 0, func(n int64) { st = newState(int(n)) }, func(m kafka.Message) {
			if v, ok := decodeVersion(m.Value); ok {
				st.set(string(m.Key), v)
			}
		}); err != nil {
			b.Fatal(err)
		}
		ferryTime += time.Since(start)
		ferryBytes += float64(heap()-before) / keys
		if st.len() != keys {
			b.Fatalf("%d keys restored", st.len())
		}
		runtime.KeepAlive(st)
		st = nil

		before = heap()
		start = time.Now()
		plain := map[string]version{}
		if _, err := bus.ReadPartition(ctx, brokers, topic, 0, func(int64) {}, func(m kafka.Message) {
			if v, ok := decodeVersion(m.Value); ok {
				plain[string(m.Key)] = v
			}
		}); err != nil {
			b.Fatal(err)
		}
		plainTime += time.Since(start)
		plainBytes += float64(heap()-before) / keys
		runtime.KeepAlive(plain)
	}
	n := float64(b.N)
	b.ReportMetric(ferryTime.Seconds()/n, "restore-s")
	b.ReportMetric(plainTime.Seconds()/n, "plain-restore-s")
	b.ReportMetric(ferryTime.Seconds()/plainTime.Seconds(), "time-ratio")
	b.ReportMetric(ferryBytes/n, "bytes/key")
	b.ReportMetric(plainBytes/n, "plain-bytes/key")
	b.ReportMetric(ferryBytes/plainBytes, "bytes-ratio")
}

// BenchmarkReplicas has one processor, then two, each handling one
// partition at a time (a one-CPU replica), map 20k WDT refunds from a
// six-partition raw topic:
//
//	go test -run x -bench Replicas -benchtime 1x ./processors/
//
// Each run has a consumer group and dedupe state of its own. Reported:
// records a second for one and for two replicas, and their ratio; on a
// machine with fewer than two free CPUs the ratio cannot pass 1.
func BenchmarkReplicas(b *testing.B) {
	const records = 20_000
	r := refundBench(b, records)
	brokers, ctx, flow, schema, settings, end := r.brokers, r.ctx, r.flow, r.schema, r.settings, r.end
	w := bus.NewWriter(brokers, nil)
	defer w.Close()
	rate := map[int]float64{}
	b.ResetTimer()
	for i := range b.N {
		for _, replicas := range []int{1, 2} {
			f := *flow
			f.Name = fmt.Sprintf("bench_%d_%d", i, replicas)
			start := time.Now()
			rctx, stop := context.WithCancel(ctx)
			var wg sync.WaitGroup
			for range replicas {
				p := &Processor{Flow: &f, Schema: schema, Brokers: brokers, Topics: settings, Writer: w, Parallel: 1}
				wg.Go(func() { _ = p.Run(rctx) })
			}
			if err := bus.WaitCaughtUp(ctx, brokers, Group(&f), f.Source.Topic, end); err != nil {
				b.Fatal(err)
			}
			rate[replicas] += records / time.Since(start).Seconds()
			stop()
			wg.Wait()
		}
	}
	n := float64(b.N)
	b.ReportMetric(rate[1]/n, "one-replica-rec/s")
	b.ReportMetric(rate[2]/n, "two-replicas-rec/s")
	b.ReportMetric(rate[2]/rate[1], "ratio")
}

// refundRun is a kfake broker whose six-partition raw topic of the WDT
// refunds flow holds a benchmark's records, with the flow's other topics.
type refundRun struct {
	brokers  []string
	ctx      context.Context
	flow     *flows.Flow
	schema   *schemas.Schema
	settings bus.Settings
	end      map[int]int64 // the raw topic's end offsets
}

func refundBench(b *testing.B, records int, extra ...bus.Topic) refundRun {
	r := refundRun{settings: bus.Settings{Partitions: 6}}
	r.brokers, r.ctx = benchCluster(b)
	var err error
	if r.flow, err = flows.Named("wdt_refunds"); err != nil {
		b.Fatal(err)
	}
	if r.schema, err = schemas.Load(r.flow.Processor.Entity); err != nil {
		b.Fatal(err)
	}
	if err := bus.EnsureTopics(r.ctx, r.brokers, nil, append(Topics(r.flow, r.settings), extra...)...); err != nil {
		b.Fatal(err)
	}
	publishRefunds(b, r.ctx, r.brokers, r.flow.Source.Topic, records)
	if r.end, err = bus.EndOffsets(r.ctx, r.brokers, r.flow.Source.Topic); err != nil {
		b.Fatal(err)
	}
	return r
}

// publishRefunds publishes n raw refunds, the golden sample's first with
// its id, number and stamp varied, keyed as the producer keys them.
func publishRefunds(b *testing.B, ctx context.Context, brokers []string, topic string, n int) {
	b.Helper()
	data, err := os.ReadFile("testdata/wdt_refunds.raw.json")
	if err != nil {
		b.Fatal(err)
	}
	var sample []map[string]any
	if err := json.Unmarshal(data, &sample); err != nil {
		b.Fatal(err)
	}
	w := bus.NewWriter(brokers, nil)
	defer w.Close()
	var msgs []kafka.Message
	for i := range n {
		r := sample[0]
		r["refund_id"], r["refund_no"], r["modified"] = 1_000_000+i, fmt.Sprint("TK", i), 1709290000000+int64(i)
		v, err := json.Marshal(r)
		if err != nil {
			b.Fatal(err)
		}
		msgs = append(msgs, kafka.Message{Topic: topic, Key: []byte(fmt.Sprint(1_000_000 + i)), Value: v})
		if len(msgs) == 1000 || i == n-1 {
			if err := w.WriteMessages(ctx, msgs...); err != nil {
				b.Fatal(err)
			}
			msgs = msgs[:0]
		}
	}
}
