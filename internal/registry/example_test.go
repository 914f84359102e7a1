package registry_test

import (
	"context"
	"encoding/binary"
	"fmt"
	"math/big"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/twmb/avro"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/sr"
	"github.com/twmb/franz-go/pkg/sr/srfake"

	"github.com/ferry-data/ferry/internal/bus"
	"github.com/ferry-data/ferry/internal/registry"
	"github.com/ferry-data/ferry/schemas"
)

// A service consuming canonical.order.v1 needs only a Kafka client, the
// registry's REST API and an Avro library: each value is a zero byte, the
// schema id (4 bytes, big-endian), then the Avro body. Here ferry's
// processor side writes one order into an in-process broker and registry;
// the consumer below uses kafka-go, franz-go's sr client and twmb/avro,
// nothing of ferry's.
func Example_consumeOrders() {
	ctx := context.Background()
	cluster, _ := kfake.NewCluster(kfake.NumBrokers(1))
	defer cluster.Close()
	fake := srfake.New()
	defer fake.Close()
	brokers := cluster.ListenAddrs()

	// What a ferry processor does: register the schema, write the order.
	reg, _ := registry.New(registry.Config{URL: fake.URL()})
	order, _ := schemas.Load("order")
	codec, err := reg.Prepare(ctx, "canonical.order.v1", order, "")
	if err != nil {
		fmt.Println(err)
		return
	}
	value, err := codec.Encode(map[string]any{"id": "3001", "name": "张三", "date": "20231001",
		"amount": schemas.Rat("150.75"), "items_detail": []any{}, "modified": time.Date(2023, 10, 1, 4, 0, 0, 0, time.UTC)})
	if err != nil {
		fmt.Println(err)
		return
	}
	if err := bus.EnsureTopics(ctx, brokers, nil, bus.Canonical("canonical.order.v1", bus.Settings{Partitions: 1})); err != nil {
		fmt.Println(err)
		return
	}
	w := bus.NewWriter(brokers, nil)
	if err := w.WriteMessages(ctx, kafka.Message{Topic: "canonical.order.v1", Key: []byte("3001"), Value: value}); err != nil {
		fmt.Println(err)
		return
	}
	w.Close()

	// The consumer.
	r := kafka.NewReader(kafka.ReaderConfig{Brokers: brokers, Topic: "canonical.order.v1", Partition: 0, MaxWait: 100 * time.Millisecond})
	defer r.Close()
	m, err := r.ReadMessage(ctx)
	if err != nil {
		fmt.Println(err)
		return
	}
	client, _ := sr.NewClient(sr.URLs(fake.URL()))
	registered, err := client.SchemaByID(ctx, int(binary.BigEndian.Uint32(m.Value[1:5])))
	if err != nil {
		fmt.Println(err)
		return
	}
	schema, _ := avro.Parse(registered.Schema)
	var rec map[string]any
	if _, err := schema.Decode(m.Value[5:], &rec); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(string(m.Key), rec["name"], rec["amount"].(*big.Rat).FloatString(2), rec["modified"].(time.Time).Format(time.DateTime))
	// Output: 3001 张三 150.75 2023-10-01 04:00:00
}
