package backoff_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/ferry-data/ferry/internal/backoff"
)

func TestDelayGrowsAndIsCapped(t *testing.T) {
	p := backoff.Policy{Base: 100 * time.Millisecond, Max: time.Second}
	for attempt, want := range []time.Duration{100, 200, 400, 800, 1000, 1000} {
		want *= time.Millisecond
		for range 50 {
			if d := p.Delay(attempt); d < want/2 || d > want {
				t.Fatalf("attempt %d: delay %v outside [%v, %v]", attempt, d, want/2, want)
			}
		}
	}
	if d := p.Delay(1000); d > time.Second {
		t.Fatalf("huge attempt: %v", d)
	}
}

func TestSleepEndsWithContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := backoff.Sleep(ctx, time.Hour); err != context.Canceled {
		t.Fatalf("Sleep = %v", err)
	}
	if err := backoff.Sleep(context.Background(), time.Microsecond); err != nil {
		t.Fatal(err)
	}
}

// Tries bounds Do: the last try's failure comes back as its cause, no
// longer marked retryable, so that callers stop.
func TestDoStopsAfterItsTries(t *testing.T) {
	cause := errors.New("connection reset")
	calls := 0
	err := backoff.Do(context.Background(), backoff.Policy{Base: time.Microsecond, Max: time.Microsecond, Tries: 3}, func() error {
		calls++
		return &backoff.Retry{Err: cause}
	}, nil)
	if calls != 3 || err != cause {
		t.Fatalf("%d calls, %v; want 3 calls and the cause", calls, err)
	}
}
