package bus_test

import (
	"bytes"
	"context"
	"log/slog"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/ferry-data/ferry/internal/bus"
)

func cluster(t *testing.T) ([]string, context.Context) {
	t.Helper()
	c, err := kfake.NewCluster(kfake.NumBrokers(1))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return c.ListenAddrs(), ctx
}

func partitions(t *testing.T, ctx context.Context, brokers []string, topic string) int {
	t.Helper()
	end, err := bus.EndOffsets(ctx, brokers, topic)
	if err != nil {
		t.Fatal(err)
	}
	return len(end)
}

func TestEnsureTopicsSettings(t *testing.T) {
	brokers, ctx := cluster(t)
	s := bus.Settings{Partitions: 4, MinInsyncReplicas: 1}
	if err := bus.EnsureTopics(ctx, brokers, nil,
		bus.Topic{Name: "raw", Settings: s},
		bus.Topic{Name: "state", Settings: s, Compacted: true, With: "raw"},
		bus.Topic{Name: "plain"}); err != nil {
		t.Fatal(err)
	}
	for topic, want := range map[string]int{"raw": 4, "state": 4, "plain": bus.DefaultPartitions} {
		if got := partitions(t, ctx, brokers, topic); got != want {
			t.Errorf("%s: %d partitions, want %d", topic, got, want)
		}
	}
	client := &kafka.Client{Addr: kafka.TCP(brokers...)}
	res, err := client.DescribeConfigs(ctx, &kafka.DescribeConfigsRequest{Resources: []kafka.DescribeConfigRequestResource{
		{ResourceType: kafka.ResourceTypeTopic, ResourceName: "state", ConfigNames: []string{"cleanup.policy", "min.insync.replicas"}}}})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, e := range res.Resources[0].ConfigEntries {
		got[e.ConfigName] = e.ConfigValue
	}
	if got["cleanup.policy"] != "compact" || got["min.insync.replicas"] != "1" {
		t.Errorf("state configs %v", got)
	}
}

// A state topic created after its input follows the input's partitions,
// and a mismatch between existing topics is refused; so is a state topic
// that deletes by age. A count that only differs from the settings is
// used, with a warning.
func TestEnsureTopicsChecksExisting(t *testing.T) {
	brokers, ctx := cluster(t)
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	if err := bus.EnsureTopics(ctx, brokers, nil, bus.Topic{Name: "raw", Settings: bus.Settings{Partitions: 1}}); err != nil {
		t.Fatal(err)
	}
	if err := bus.EnsureTopics(ctx, brokers, log,
		bus.Topic{Name: "raw", Settings: bus.Settings{Partitions: 6}},
		bus.Topic{Name: "state", Settings: bus.Settings{Partitions: 6}, Compacted: true, With: "raw"}); err != nil {
		t.Fatal(err)
	}
	if got := partitions(t, ctx, brokers, "state"); got != 1 {
		t.Errorf("state has %d partitions, want the raw topic's 1", got)
	}
	if !strings.Contains(logs.String(), `msg="topic has another partition count than the settings; using it as it is" topic=raw partitions=1 settings=6`) {
		t.Errorf("no warning:\n%s", &logs)
	}

	if err := bus.EnsureTopics(ctx, brokers, nil, bus.Topic{Name: "raw2", Settings: bus.Settings{Partitions: 2}}, bus.Topic{Name: "state2", Settings: bus.Settings{Partitions: 3}}); err != nil {
		t.Fatal(err)
	}
	err := bus.EnsureTopics(ctx, brokers, nil, bus.Topic{Name: "state2", Compacted: false, With: "raw2"})
	if err == nil || !strings.Contains(err.Error(), "topic state2 has 3 partitions and raw2 2: they are co-partitioned") {
		t.Errorf("co-partitioning: %v", err)
	}
	err = bus.EnsureTopics(ctx, brokers, nil, bus.Topic{Name: "raw2", Compacted: true})
	if err == nil || !strings.Contains(err.Error(), "topic raw2 has cleanup.policy=delete: it holds state") {
		t.Errorf("compaction: %v", err)
	}
}

// Keys land where Java clients put them: murmur2, Kafka's golden vectors
// (UtilsTest.testMurmur2), positive, modulo the partition count.
func TestKeysGoWhereJavaPutsThem(t *testing.T) {
	brokers, ctx := cluster(t)
	const n = 6
	if err := bus.EnsureTopics(ctx, brokers, nil, bus.Topic{Name: "t", Settings: bus.Settings{Partitions: n}}); err != nil {
		t.Fatal(err)
	}
	vectors := map[string]int32{
		"21":                         -973932308,
		"foobar":                     -790332482,
		"a-little-bit-long-string":   -985981536,
		"a-little-bit-longer-string": -1486304829,
		"lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8": -58897971,
		"abc": 479470107,
	}
	w := bus.NewWriter(brokers, nil)
	defer w.Close()
	for key, h := range vectors {
		if err := w.WriteMessages(ctx, kafka.Message{Topic: "t", Key: []byte(key), Value: []byte(key)}); err != nil {
			t.Fatal(err)
		}
		want := int(uint32(h)&0x7fffffff) % n
		r := kafka.NewReader(kafka.ReaderConfig{Brokers: brokers, Topic: "t", Partition: want, MaxWait: 50 * time.Millisecond})
		found := false
		end, _ := bus.EndOffsets(ctx, brokers, "t")
		for off := int64(0); off < end[want]; off++ {
			m, err := r.ReadMessage(ctx)
			if err != nil {
				t.Fatal(err)
			}
			found = found || string(m.Key) == key
		}
		r.Close()
		if !found {
			t.Errorf("key %q is not in partition %d", key, want)
		}
	}
}

// The state writer puts each record in the partition it names.
func TestStateWriterKeepsThePartition(t *testing.T) {
	brokers, ctx := cluster(t)
	if err := bus.EnsureTopics(ctx, brokers, nil, bus.Topic{Name: "s", Settings: bus.Settings{Partitions: 3}, Compacted: true}); err != nil {
		t.Fatal(err)
	}
	w := bus.NewStateWriter(brokers, nil)
	defer w.Close()
	var msgs []kafka.Message
	for i := range 9 {
		msgs = append(msgs, kafka.Message{Topic: "s", Partition: 2, Key: []byte{byte(i)}, Value: []byte{1}})
	}
	if err := w.WriteMessages(ctx, msgs...); err != nil {
		t.Fatal(err)
	}
	end, err := bus.EndOffsets(ctx, brokers, "s")
	if err != nil {
		t.Fatal(err)
	}
	if end[0] != 0 || end[1] != 0 || end[2] != 9 {
		t.Errorf("end offsets %v, want all 9 in partition 2", end)
	}
}

// Canonical topics are compacted, keeping tombstones for a week, unless
// the settings say delete.
func TestCanonicalTopicsAreCompacted(t *testing.T) {
	brokers, ctx := cluster(t)
	if err := bus.EnsureTopics(ctx, brokers, nil,
		bus.Canonical("canonical.refund.v1", bus.Settings{}),
		bus.Canonical("canonical.order.v1", bus.Settings{CanonicalCleanup: "delete"}),
		bus.Canonical("canonical.shop.v1", bus.Settings{CanonicalCleanup: "compact,delete"})); err != nil {
		t.Fatal(err)
	}
	client := &kafka.Client{Addr: kafka.TCP(brokers...)}
	for topic, want := range map[string]string{
		"canonical.refund.v1": "compact 604800000",
		"canonical.order.v1":  "delete 86400000",
		"canonical.shop.v1":   "compact,delete 604800000",
	} {
		res, err := client.DescribeConfigs(ctx, &kafka.DescribeConfigsRequest{Resources: []kafka.DescribeConfigRequestResource{
			{ResourceType: kafka.ResourceTypeTopic, ResourceName: topic, ConfigNames: []string{"cleanup.policy", "delete.retention.ms"}}}})
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]string{}
		for _, e := range res.Resources[0].ConfigEntries {
			got[e.ConfigName] = e.ConfigValue
		}
		if s := got["cleanup.policy"] + " " + got["delete.retention.ms"]; s != want {
			t.Errorf("%s: %s, want %s", topic, s, want)
		}
	}
}

// cuttingListener closes the first cuts connections it accepts.
type cuttingListener struct {
	net.Listener
	cuts atomic.Int32
}

func (l *cuttingListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil || l.cuts.Add(-1) < 0 {
			return c, err
		}
		c.Close()
	}
}

// TestEnsureTopicsRidesOutCutConnections: a role that checks its topics
// while the broker cuts its connections (a restart, a network blip) tries
// again, and says so, instead of exiting.
func TestEnsureTopicsRidesOutCutConnections(t *testing.T) {
	ln := &cuttingListener{}
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.ListenFn(func(network, addr string) (net.Listener, error) {
		inner, err := net.Listen(network, addr)
		ln.Listener = inner
		return ln, err
	}))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	ln.cuts.Store(2)
	var logs bytes.Buffer
	if err := bus.EnsureTopics(ctx, c.ListenAddrs(), slog.New(slog.NewTextHandler(&logs, nil)), bus.Topic{Name: "raw"}); err != nil {
		t.Fatal(err)
	}
	if got := partitions(t, ctx, c.ListenAddrs(), "raw"); got != bus.DefaultPartitions {
		t.Errorf("raw: %d partitions", got)
	}
	if !strings.Contains(logs.String(), "cannot check the topics; trying again") {
		t.Errorf("no warning of the retry in:\n%s", logs.String())
	}
}
