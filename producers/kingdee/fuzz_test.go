package kingdee_test

import (
	"context"
	"errors"
	"testing"

	"github.com/ferry-data/ferry/internal/sandbox"
	"github.com/ferry-data/ferry/internal/vendortest"
	"github.com/ferry-data/ferry/producers/kingdee"
	"github.com/ferry-data/ferry/producers/kingdee/kingdeesandbox"
)

// FuzzReadList feeds 金蝶 answers to the client's reader of list calls,
// from the sandbox's own answers (authorisations, tokens, pages, throttles,
// truncated bodies) on: whatever the body, the reader returns a page of
// JSON rows, or an error that is retried or names the vendor's refusal;
// it never panics.
func FuzzReadList(f *testing.F) {
	fx := newFixture(f, kingdeesandbox.Config{Customers: 30, Settings: sandbox.Settings{Seed: 5, Faults: sandbox.Faults{ThrottleRate: 0.3, FailRate: 0.3}}})
	c := fx.client(f)
	for pg := 1; pg <= 3; pg++ {
		if _, err := c.List(context.Background(), kingdee.CustomerPath, params(pg, 10)); err != nil {
			f.Fatal(err)
		}
	}
	for _, b := range fx.srv.Bodies() {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		page, err := kingdee.ReadList(kingdee.CustomerPath, body)
		var refused *kingdee.APIError
		vendortest.CheckRead(t, page.Records, err, func(err error) bool { return errors.As(err, &refused) })
		if err == nil && (page.Total < 0 || page.TotalPages < 0) {
			t.Fatalf("a page read with the count %d of %d pages", page.Total, page.TotalPages)
		}
	})
}
