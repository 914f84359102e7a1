package checkpoint_test

import (
	"context"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/ferry-data/ferry/internal/bus"
	"github.com/ferry-data/ferry/internal/checkpoint"
)

func TestCheckpointsSurviveReopen(t *testing.T) {
	c, err := kfake.NewCluster(kfake.NumBrokers(1))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	s, err := checkpoint.Open(ctx, c.ListenAddrs(), bus.Settings{})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := s.Get("a"); ok {
		t.Fatal("checkpoint before any commit")
	}
	t1 := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	for i, flow := range []string{"a", "b", "a"} {
		if err := s.Commit(ctx, flow, t1.Add(time.Duration(i)*time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
	s.Close()

	s2, err := checkpoint.Open(ctx, c.ListenAddrs(), bus.Settings{})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	for flow, want := range map[string]time.Time{"a": t1.Add(2 * time.Hour), "b": t1.Add(time.Hour)} {
		got, ok := s2.Get(flow)
		if !ok || !got.End.Equal(want) {
			t.Errorf("%s: %v %v, want %v", flow, got.End, ok, want)
		}
	}
}
