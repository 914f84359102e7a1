package jushuitan_test

import (
	"context"
	"errors"
	"testing"

	"github.com/ferry-data/ferry/internal/sandbox"
	"github.com/ferry-data/ferry/internal/vendortest"
	"github.com/ferry-data/ferry/producers/jushuitan"
	"github.com/ferry-data/ferry/producers/jushuitan/jstsandbox"
)

// FuzzReadQuery feeds Jushuitan answers to the client's reader of paged
// queries, from the sandbox's own answers (tokens, pages, throttles,
// truncated bodies) on: whatever the body, the reader returns a page of
// JSON records, or an error that is retried or names the vendor's
// refusal; it never panics.
func FuzzReadQuery(f *testing.F) {
	fx := newFixture(f, jstsandbox.Config{Orders: 30, Settings: sandbox.Settings{Seed: 5, Faults: sandbox.Faults{ThrottleRate: 0.3, FailRate: 0.3}}})
	c := fx.client(f)
	for _, path := range []string{jushuitan.OrdersPath, jushuitan.ShopsPath} {
		if _, err := c.Query(context.Background(), path, lastThreeDays); err != nil {
			f.Fatal(err)
		}
	}
	for _, b := range fx.srv.Bodies() {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		page, err := jushuitan.ReadQuery(jushuitan.OrdersPath, body)
		var refused *jushuitan.APIError
		vendortest.CheckRead(t, page.Records, err, func(err error) bool { return errors.As(err, &refused) })
		if err == nil && page.Total < -1 {
			t.Fatalf("a page read with the count %d", page.Total)
		}
	})
}
