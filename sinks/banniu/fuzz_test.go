package banniu_test

import (
	"context"
	"errors"
	"testing"

	"github.com/ferry-data/ferry/internal/sandbox"
	"github.com/ferry-data/ferry/internal/vendortest"
	"github.com/ferry-data/ferry/sinks/banniu"
	"github.com/ferry-data/ferry/sinks/banniu/banniusandbox"
)

// FuzzReadTaskList feeds 班牛 answers to the client's reader of
// task.list, from the sandbox's own answers (pages, throttles, truncated
// bodies) on: whatever the body, the reader returns rows, or an error that
// is retried or names the vendor's refusal; it never panics.
func FuzzReadTaskList(f *testing.F) {
	fx := newFixture(f, banniusandbox.Config{})
	sb := banniusandbox.New(banniusandbox.Config{Tasks: 25, PerSecond: -1,
		Settings: sandbox.Settings{Seed: 5, Now: fx.clock.Now, Faults: sandbox.Faults{ThrottleRate: 0.3, FailRate: 0.3}}})
	srv := vendortest.Serve(f, sb) // this fuzz target's sandbox, whose answers it keeps
	fx.cfg.URL = srv.URL + "/gateway/api/miniAPI"
	c := fx.client(f)
	for pg := 1; pg <= 3; pg++ {
		if _, err := c.TaskList(context.Background(), project, nil, pg, 10); err != nil {
			f.Fatal(err)
		}
	}
	for _, b := range srv.Bodies() {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		_, err := banniu.ReadTaskList(body)
		var refused *banniu.APIError
		vendortest.CheckRead(t, nil, err, func(err error) bool { return errors.As(err, &refused) })
	})
}
