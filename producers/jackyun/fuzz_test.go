package jackyun_test

import (
	"context"
	"errors"
	"testing"

	"github.com/ferry-data/ferry/internal/sandbox"
	"github.com/ferry-data/ferry/internal/vendortest"
	"github.com/ferry-data/ferry/producers/jackyun"
	"github.com/ferry-data/ferry/producers/jackyun/jackyunsandbox"
)

// FuzzReadPage feeds Jackyun answers to the client's reader, from the
// sandbox's own answers (pages, throttles, truncated bodies) on: whatever
// the body, the reader returns a page of JSON records, or an error that is
// retried or names the vendor's refusal; it never panics.
func FuzzReadPage(f *testing.F) {
	fx := newFixture(f, jackyunsandbox.Config{Trades: 30, Settings: sandbox.Settings{Seed: 5, Faults: sandbox.Faults{ThrottleRate: 0.3, FailRate: 0.3}}})
	c := fx.client(f)
	for pg := range 3 {
		if _, err := c.Search(context.Background(), method, lastThreeDays, pg, 10); err != nil {
			f.Fatal(err)
		}
	}
	for _, b := range fx.srv.Bodies() {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		page, err := jackyun.ReadPage(method, body)
		var refused *jackyun.APIError
		vendortest.CheckRead(t, page.Records, err, func(err error) bool { return errors.As(err, &refused) })
		if err == nil && page.Total < -1 {
			t.Fatalf("a page read with the count %d", page.Total)
		}
	})
}
