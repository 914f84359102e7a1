package backoff_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/ferry-data/ferry/internal/backoff"
)

func TestDoRetriesWhatIsMarked(t *testing.T) {
	ctx := context.Background()
	p := backoff.Policy{Base: time.Millisecond, Max: time.Millisecond}
	calls, notes := 0, 0
	err := backoff.Do(ctx, p, func() error {
		calls++
		if calls < 3 {
			return backoff.Transient("lost: %w", io.ErrUnexpectedEOF)
		}
		return nil
	}, func(int, time.Duration, error) { notes++ })
	if err != nil || calls != 3 || notes != 2 {
		t.Fatalf("err %v after %d calls, %d notes", err, calls, notes)
	}

	refused := errors.New("refused")
	calls = 0
	err = backoff.Do(ctx, p, func() error { calls++; return fmt.Errorf("call: %w", refused) }, nil)
	if !errors.Is(err, refused) || calls != 1 {
		t.Fatalf("a refusal: %v after %d calls", err, calls)
	}
}

// The wait is at least what the failing side asked for.
func TestDoWaitsAtLeastRetryAfter(t *testing.T) {
	p := backoff.Policy{Base: time.Millisecond, Max: time.Millisecond}
	var waited time.Duration
	calls := 0
	err := backoff.Do(context.Background(), p, func() error {
		if calls++; calls == 1 {
			return &backoff.Retry{Err: errors.New("HTTP 429"), After: 20 * time.Millisecond}
		}
		return nil
	}, func(_ int, wait time.Duration, _ error) { waited = wait })
	if err != nil || waited != 20*time.Millisecond {
		t.Fatalf("waited %v (%v)", waited, err)
	}
}

func TestRetryKeepsItsCause(t *testing.T) {
	err := fmt.Errorf("wdt: %w", backoff.Transient("read: %w", io.EOF))
	r, ok := backoff.Retryable(err)
	if !ok || !errors.Is(err, io.EOF) || r.Error() != "transient: read: EOF" {
		t.Fatalf("%v %v %v", r, ok, err)
	}
}

func TestDoStopsWithItsContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	calls := 0
	err := backoff.Do(ctx, backoff.Policy{Base: time.Hour}, func() error {
		calls++
		cancel()
		return backoff.Transient("down")
	}, nil)
	if calls != 1 || err == nil {
		t.Fatalf("%d calls, %v", calls, err)
	}
}
