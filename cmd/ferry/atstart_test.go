package main

import (
	"context"
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/ferry-data/ferry/internal/backoff"
)

// TestAtStartRidesOutABlip: a step of a role's start that fails
// transiently is tried again, a bounded number of times; a refusal ends
// the start at once.
func TestAtStartRidesOutABlip(t *testing.T) {
	saved := startRetries
	t.Cleanup(func() { startRetries = saved })
	startRetries.Base, startRetries.Max = time.Millisecond, time.Millisecond
	blip := backoff.Transient("connection reset")
	refused := errors.New("Error 1142: CREATE command denied")
	p := &pipeline{log: slog.New(slog.DiscardHandler)}
	for _, c := range []struct {
		name  string
		fails int   // calls that fail before one succeeds
		err   error // how they fail
		calls int
		ends  error // what atStart returns
	}{
		{"a blip", 2, blip, 3, nil},
		{"a refusal", 99, refused, 1, refused},
		{"a lasting outage", 99, blip, saved.Tries, blip.(*backoff.Retry).Err},
	} {
		t.Run(c.name, func(t *testing.T) {
			calls := 0
			err := p.atStart(context.Background(), "a step", func() error {
				if calls++; calls <= c.fails {
					return c.err
				}
				return nil
			})
			if calls != c.calls || !errors.Is(err, c.ends) || (c.ends == nil) != (err == nil) {
				t.Fatalf("%d calls, %v; want %d calls, %v", calls, err, c.calls, c.ends)
			}
			if _, ok := backoff.Retryable(err); ok {
				t.Fatalf("atStart returned a retryable error: %v", err)
			}
		})
	}
}
