package bus_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/ferry-data/ferry/internal/backoff"
	"github.com/ferry-data/ferry/internal/bus"
)

// consumed counts what handlers saw, by key, and how often each partition
// was opened.
type consumed struct {
	mu     sync.Mutex
	keys   map[string]int
	opened map[int]int
}

func publish(t *testing.T, ctx context.Context, brokers []string, topic string, n int) {
	t.Helper()
	if err := bus.EnsureTopics(ctx, brokers, nil, bus.Topic{Name: topic, Settings: bus.Settings{Partitions: 4}}); err != nil {
		t.Fatal(err)
	}
	w := bus.NewWriter(brokers, nil)
	defer w.Close()
	var msgs []kafka.Message
	for i := range n {
		msgs = append(msgs, kafka.Message{Topic: topic, Key: []byte(fmt.Sprint(i)), Value: []byte("v")})
	}
	if err := w.WriteMessages(ctx, msgs...); err != nil {
		t.Fatal(err)
	}
}

// consumer returns a consumer whose handler fails while fail says so.
func (c *consumed) consumer(brokers []string, fail func(partition, call int) error) *bus.Consumer {
	calls := map[int]int{}
	return &bus.Consumer{Brokers: brokers, Group: "g", Topic: "t", BatchSize: 10,
		Retry: backoff.Policy{Base: time.Millisecond, Max: time.Millisecond},
		Open: func(_ context.Context, p int) (bus.Handler, error) {
			c.mu.Lock()
			c.opened[p]++
			c.mu.Unlock()
			return func(_ context.Context, batch []kafka.Message) error {
				c.mu.Lock()
				defer c.mu.Unlock()
				calls[p]++
				if err := fail(p, calls[p]); err != nil {
					return err
				}
				for _, m := range batch {
					c.keys[string(m.Key)]++
				}
				return nil
			}, nil
		}}
}

func run(t *testing.T, ctx context.Context, brokers []string, c *bus.Consumer) (stop func() error) {
	t.Helper()
	cctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- c.Run(cctx) }()
	return func() error {
		cancel()
		return <-done
	}
}

// A handler that fails makes its partition start over from its last batch,
// opened afresh; every record is handled.
func TestConsumerStartsAFailedPartitionOver(t *testing.T) {
	brokers, ctx := cluster(t)
	publish(t, ctx, brokers, "t", 100)
	c := &consumed{keys: map[string]int{}, opened: map[int]int{}}
	stop := run(t, ctx, brokers, c.consumer(brokers, func(p, call int) error {
		if p == 2 && call <= 2 {
			return errors.New("database restarting")
		}
		return nil
	}))
	end, err := bus.EndOffsets(ctx, brokers, "t")
	if err != nil {
		t.Fatal(err)
	}
	if err := bus.WaitCaughtUp(ctx, brokers, "g", "t", end); err != nil {
		t.Fatal(err)
	}
	if err := stop(); !errors.Is(err, context.Canceled) {
		t.Fatalf("run: %v", err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.keys) != 100 {
		t.Errorf("%d of 100 keys handled", len(c.keys))
	}
	if c.opened[2] != 3 || c.opened[0] != 1 {
		t.Errorf("partitions opened %v, want partition 2 three times, the others once", c.opened)
	}
}

// A partition that keeps failing stops the consumer, saying why.
func TestConsumerGivesUp(t *testing.T) {
	brokers, ctx := cluster(t)
	publish(t, ctx, brokers, "t", 10)
	c := &consumed{keys: map[string]int{}, opened: map[int]int{}}
	cons := c.consumer(brokers, func(int, int) error { return errors.New("table missing") })
	err := cons.Run(ctx)
	if err == nil || !strings.Contains(err.Error(), "handle: table missing (8 failures in a row)") {
		t.Fatalf("run: %v", err)
	}
}

// Failures far apart are not in a row: a partition that runs a while
// between them (an idle one, meeting a broker restart now and then) never
// gives up, however many it meets.
func TestConsumerForgetsFailuresFarApart(t *testing.T) {
	brokers, ctx := cluster(t)
	publish(t, ctx, brokers, "t", 0)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var mu sync.Mutex
	now, opened := time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC), 0
	c := &bus.Consumer{Brokers: brokers, Group: "g", Topic: "t", Retry: backoff.Policy{Base: time.Millisecond, Max: time.Millisecond},
		Now: func() time.Time {
			mu.Lock()
			defer mu.Unlock()
			return now
		},
		Open: func(_ context.Context, p int) (bus.Handler, error) {
			mu.Lock()
			defer mu.Unlock()
			if p != 0 {
				return func(context.Context, []kafka.Message) error { return nil }, nil
			}
			opened++
			if opened == 3*8 {
				cancel() // three times as many failures as make a row
			}
			now = now.Add(2 * time.Minute) // each attempt ran two minutes
			return nil, errors.New("broker restarting")
		}}
	if err := c.Run(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("run: %v, want it to keep going until cancelled", err)
	}
}
