// Package producertest is the conformance suite every source connector of
// ferry's vendor table passes, against its own vendor's sandbox: what the
// producer engine counts on from a Source, tested once for all vendors
// instead of once per vendor.
package producertest

import (
	"context"
	"errors"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/time/rate"

	"github.com/ferry-data/ferry/flows"
	"github.com/ferry-data/ferry/internal/backoff"
	"github.com/ferry-data/ferry/internal/sandbox"
	"github.com/ferry-data/ferry/internal/vendortest"
	"github.com/ferry-data/ferry/producers"
	"github.com/ferry-data/ferry/vendors"
)

// Case is one source connector, its sandbox and a shipped flow of it.
type Case struct {
	Connector producers.Connector
	Sandbox   func(sandbox.Settings) sandbox.Served
	// Flow is a shipped flow of the vendor.
	Flow string
	// Refused is what the error of a call signed with a wrong secret says:
	// the vendor's code or message.
	Refused string
	// Secret is the setting a wrong value of which the vendor refuses.
	Secret string
	// Throttled and Failed are what the client's log says of a throttle
	// answer and of a failed call (502, slow 504, truncated body).
	Throttled, Failed []string
	// Malformed are HTTP 200 answers that look like success but are not
	// the vendor's answer (no status, no data), and Unreadable what the
	// log says of them: they are retried, never read as an empty page.
	Malformed  []string
	Unreadable string
}

// faulty is what the suite needs of a sandbox: its engine's controls.
type faulty interface {
	Freeze()
	SetFaults(sandbox.Faults)
	Counts() sandbox.Counts
}

// start is the time of the sandbox clock when a case starts.
var start = time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)

// rig is one case's sandbox, behind a server that counts and intercepts
// calls, and a connector bound to the flow through a fresh client.
type rig struct {
	t      *testing.T
	c      Case
	flow   *flows.Flow
	clock  *sandbox.Clock
	served sandbox.Served
	srv    *vendortest.Server
	logs   *vendortest.LogWatch
	acct   vendors.Account
	opts   vendors.Options
	dates  struct {
		sync.Mutex
		seen []string
	}
}

func newRig(t *testing.T, c Case) *rig {
	t.Helper()
	f, err := flows.Named(c.Flow)
	if err != nil {
		t.Fatal(err)
	}
	r := &rig{t: t, c: c, flow: f, clock: sandbox.NewClock(start), logs: &vendortest.LogWatch{}}
	r.served = c.Sandbox(sandbox.Settings{Seed: 11, Since: start.Add(-72 * time.Hour), Now: r.clock.Now})
	// The records stay as they are, and every call takes a second of the
	// vendor's clock, so that per-second quotas see calls as a real
	// vendor would.
	r.sandbox().Freeze()
	r.srv = vendortest.Serve(t, http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.clock.Advance(time.Second)
		r.served.Handler.ServeHTTP(w, req)
	}))
	r.acct = vendors.Account{vendors.URL: r.srv.URL + r.served.Path}
	for k, v := range r.served.Account {
		r.acct[k] = v
	}
	r.opts = vendors.Options{Limit: rate.Inf, Timeout: 2 * time.Second, Now: r.clock.Now, Logger: r.logs.Logger(),
		Backoff: backoff.Policy{Base: time.Millisecond, Max: 2 * time.Millisecond},
		Observe: func(h http.Header) {
			r.dates.Lock()
			defer r.dates.Unlock()
			r.dates.seen = append(r.dates.seen, h.Get("Date"))
		}}
	return r
}

// source binds the flow through a new client of the account.
func (r *rig) source() producers.Source {
	r.t.Helper()
	client, err := r.c.Connector.Connect(r.acct, r.opts)
	if err != nil {
		r.t.Fatal(err)
	}
	src, err := r.c.Connector.Bind(client, r.flow, r.logs.Logger())
	if err != nil {
		r.t.Fatal(err)
	}
	return src
}

// window is the last three days, or as much of them as the flow's window
// may span; or the full scan.
func (r *rig) window() producers.Window {
	span := min(r.flow.Source.Window.Max.D(), 72*time.Hour)
	if span == 0 {
		return producers.Window{}
	}
	return producers.Window{From: start.Add(-span), To: start}
}

func (r *rig) sandbox() faulty {
	r.t.Helper()
	s, ok := r.served.Sandbox.(faulty)
	if !ok {
		r.t.Fatalf("the %s sandbox has no fault controls", r.c.Connector.Name)
	}
	return s
}

// pages walks every page of the window.
func (r *rig) pages(ctx context.Context, src producers.Source) [][]string {
	r.t.Helper()
	var out [][]string
	for pg := 0; ; pg++ {
		p, err := src.Page(ctx, r.window(), pg)
		if err != nil {
			r.t.Fatalf("page %d: %v", pg, err)
		}
		var recs []string
		for _, rec := range p.Records {
			recs = append(recs, string(rec))
		}
		out = append(out, recs)
		more := p.More
		if p.Total >= 0 {
			more = (pg+1)*src.PageSize() < p.Total
		}
		if !more || len(p.Records) == 0 {
			return out
		}
	}
}

// hang holds a call until its caller leaves. The server notices a caller
// leaving only once the request's body is read.
func hang(req *http.Request) {
	_, _ = io.Copy(io.Discard, req.Body)
	select {
	case <-req.Context().Done():
	case <-time.After(time.Minute): // a client that never leaves fails its test, not the run
	}
}

// Run runs the suite.
func Run(t *testing.T, c Case) {
	t.Run("pages", func(t *testing.T) {
		r := newRig(t, c)
		src := r.source()
		seen := map[string]bool{}
		pages := r.pages(context.Background(), src)
		for _, p := range pages {
			for _, rec := range p {
				if seen[rec] {
					t.Fatalf("a record came twice: %.200s", rec)
				}
				seen[rec] = true
			}
		}
		if len(pages) < 2 || len(seen) == 0 {
			t.Fatalf("%d pages, %d records: the case should span pages", len(pages), len(seen))
		}
		first, err := src.Page(context.Background(), r.window(), 0)
		if err != nil {
			t.Fatal(err)
		}
		if first.Total >= 0 && first.Total != len(seen) {
			t.Fatalf("the vendor counts %d records, the pages held %d", first.Total, len(seen))
		}
	})
	t.Run("resume", func(t *testing.T) {
		// A page read again by a new client, as a restarted producer
		// would, is the page the first client read.
		r := newRig(t, c)
		first := r.pages(context.Background(), r.source())
		last := len(first) - 1
		p, err := r.source().Page(context.Background(), r.window(), last)
		if err != nil {
			t.Fatal(err)
		}
		var again []string
		for _, rec := range p.Records {
			again = append(again, string(rec))
		}
		if !slices.Equal(first[last], again) {
			t.Fatalf("page %d read again differs", last)
		}
	})
	t.Run("cancel", func(t *testing.T) {
		r := newRig(t, c)
		src := r.source()
		ctx, cancel := context.WithCancel(context.Background())
		r.srv.Intercept(func(n int64, w http.ResponseWriter, req *http.Request) bool {
			cancel()
			hang(req)
			return true
		})
		if _, err := src.Page(ctx, r.window(), 0); !errors.Is(err, context.Canceled) {
			t.Fatalf("a canceled call returned %v", err)
		}
	})
	for _, tc := range []struct {
		name   string
		faults sandbox.Faults
		count  func(sandbox.Counts) int
		logged []string
	}{
		{"throttled", sandbox.Faults{ThrottleRate: 1}, func(c sandbox.Counts) int { return c.Throttled }, c.Throttled},
		{"5xx, slow and truncated", sandbox.Faults{FailRate: 1, SlowDelay: time.Millisecond}, func(c sandbox.Counts) int { return c.Failed }, c.Failed},
	} {
		t.Run(tc.name+" is retried", func(t *testing.T) {
			r := newRig(t, c)
			src := r.source()
			want, err := src.Page(context.Background(), r.window(), 0) // tokens, if any, come first
			if err != nil {
				t.Fatal(err)
			}
			sb := r.sandbox()
			before, calls := tc.count(sb.Counts()), r.srv.Calls()
			sb.SetFaults(tc.faults)
			r.srv.At(calls+7, func() { sb.SetFaults(sandbox.Faults{}) })
			got, err := src.Page(context.Background(), r.window(), 0)
			if err != nil {
				t.Fatal(err)
			}
			if len(got.Records) != len(want.Records) || got.Total != want.Total {
				t.Fatalf("after the faults: %d records of %d, want %d of %d", len(got.Records), got.Total, len(want.Records), want.Total)
			}
			if n := tc.count(sb.Counts()) - before; n != 6 {
				t.Fatalf("%d faults before the answer, want 6", n)
			}
			for _, text := range tc.logged {
				if !strings.Contains(r.logs.String(), text) {
					t.Errorf("the log does not name the failure %q:\n%s", text, r.logs)
				}
			}
		})
	}
	for _, body := range c.Malformed {
		t.Run("malformed success is retried: "+body, func(t *testing.T) {
			r := newRig(t, c)
			src := r.source()
			want, err := src.Page(context.Background(), r.window(), 0) // tokens, if any, come first
			if err != nil {
				t.Fatal(err)
			}
			after := r.srv.Calls()
			r.srv.Answer(body, func(n int64, _ *http.Request) bool { return n <= after+2 })
			got, err := src.Page(context.Background(), r.window(), 0)
			if err != nil {
				t.Fatal(err)
			}
			if len(got.Records) != len(want.Records) || got.Total != want.Total {
				t.Fatalf("got %d of %d records, want %d of %d", len(got.Records), got.Total, len(want.Records), want.Total)
			}
			if !strings.Contains(r.logs.String(), c.Unreadable) {
				t.Fatalf("the malformed answers were not logged as %q:\n%s", c.Unreadable, r.logs)
			}
		})
	}
	t.Run("timeout is retried", func(t *testing.T) {
		r := newRig(t, c)
		src := r.source()
		if _, err := src.Page(context.Background(), r.window(), 0); err != nil {
			t.Fatal(err)
		}
		r.opts.Timeout = 50 * time.Millisecond
		src = r.source()
		hung := r.srv.Calls() + 1
		r.srv.Intercept(func(n int64, w http.ResponseWriter, req *http.Request) bool {
			if n != hung {
				return false
			}
			hang(req) // until the client gives up on it
			return true
		})
		if _, err := src.Page(context.Background(), r.window(), 0); err != nil {
			t.Fatal(err)
		}
		if r.srv.Calls() <= hung {
			t.Fatalf("no call after the one that timed out")
		}
	})
	t.Run("vendor errors are named", func(t *testing.T) {
		r := newRig(t, c)
		r.acct[c.Secret] = "wrong-" + r.acct[c.Secret]
		client, err := c.Connector.Connect(r.acct, r.opts)
		if err == nil {
			var src producers.Source
			if src, err = c.Connector.Bind(client, r.flow, r.logs.Logger()); err == nil {
				_, err = src.Page(context.Background(), r.window(), 0)
			}
		}
		if err == nil || !strings.Contains(err.Error(), c.Refused) {
			t.Fatalf("a wrong %s gave %v, want an error naming %q", c.Secret, err, c.Refused)
		}
	})
	t.Run("no secret in logs", func(t *testing.T) {
		r := newRig(t, c)
		sb := r.sandbox()
		sb.SetFaults(sandbox.Faults{FailRate: 0.7, ThrottleRate: 0.2, SlowDelay: time.Millisecond})
		r.srv.At(15, func() { sb.SetFaults(sandbox.Faults{}) })
		r.pages(context.Background(), r.source())
		// A dead endpoint: transport errors carry the URL.
		r.acct[vendors.URL] = "http://127.0.0.1:1" + r.served.Path
		ctx := r.logs.CancelWhenSeen(context.Background(), "127.0.0.1:1")
		client, err := c.Connector.Connect(r.acct, r.opts)
		if err == nil {
			var src producers.Source
			if src, err = c.Connector.Bind(client, r.flow, r.logs.Logger()); err == nil {
				_, err = src.Page(ctx, r.window(), 0)
			}
		}
		var secrets []string
		for _, s := range c.Connector.Settings {
			if s.Secret && r.served.Account[s.Name] != "" {
				secrets = append(secrets, r.served.Account[s.Name])
			}
		}
		if len(secrets) == 0 {
			t.Fatal("the vendor has no secret settings")
		}
		vendortest.NoLeak(t, vendortest.Exposed(r.logs.String(), err), secrets...)
	})
	t.Run("vendor clock from Date", func(t *testing.T) {
		r := newRig(t, c)
		if _, err := r.source().Page(context.Background(), r.window(), 0); err != nil {
			t.Fatal(err)
		}
		r.dates.Lock()
		defer r.dates.Unlock()
		want := r.clock.Now().UTC().Format(http.TimeFormat)
		if len(r.dates.seen) == 0 || r.dates.seen[len(r.dates.seen)-1] != want {
			t.Fatalf("the client showed Dates %v, want the sandbox clock's %s", r.dates.seen, want)
		}
	})
}
