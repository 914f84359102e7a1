package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/ferry-data/ferry/flows"
	"github.com/ferry-data/ferry/internal/sandbox"
	"github.com/ferry-data/ferry/vendors"
)

// sandboxFaults are the trouble the served sandboxes make: a little
// throttling and failure, as the real vendors would.
var sandboxFaults = sandbox.Faults{ThrottleRate: 0.02, FailRate: 0.02}

// serveSandboxes makes every vendor's sandbox of the vendor table: realistic
// data that keeps changing, some of it showing up late.
func serveSandboxes(t vendorTable, seed int64, since time.Time) map[string]sandbox.Served {
	return t.serve(sandbox.Settings{Seed: seed, Since: since, Faults: sandboxFaults})
}

// serveUnset serves, on loopback ports until ctx ends, the sandbox of
// every vendor the flows use whose account has no endpoint, and makes it
// the account: ferry up on its embedded defaults.
func (t vendorTable) serveUnset(ctx context.Context, cfg *Config, fs []*flows.Flow, since time.Time, log *slog.Logger) error {
	served := serveSandboxes(t, 1, since)
	for _, name := range t.sandboxNames() {
		if cfg.endpoint(name) != "" || !uses(fs, name) {
			continue
		}
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return fmt.Errorf("sandbox: %w", err)
		}
		go serve(ctx, ln, served[name].Handler)
		cfg.useSandbox(name, "http://"+ln.Addr().String()+served[name].Path, served[name])
		log.Info("vendor sandbox", "vendor", name, "url", cfg.endpoint(name))
	}
	return nil
}

// useSandbox makes a sandbox the account of its vendor, at url.
func (c *Config) useSandbox(vendor, url string, s sandbox.Served) {
	a := vendors.Account{vendors.URL: url}
	for k, v := range s.Account {
		a[k] = v
	}
	if c.Accounts == nil {
		c.Accounts = map[string]vendors.Account{}
	}
	c.Accounts[vendor] = a
}

// endpoint returns the configured endpoint of a vendor.
func (c *Config) endpoint(vendor string) string {
	return c.Accounts[vendor][vendors.URL]
}

// serveSandbox serves the vendor sandboxes, each on its own address, until
// ctx ends.
func serveSandbox(ctx context.Context, cfg Config, log *slog.Logger) error {
	served := serveSandboxes(table, cfg.Seed, time.Now().Add(-72*time.Hour))
	g, ctx := errgroup.WithContext(ctx)
	for _, name := range table.sandboxNames() {
		s := served[name]
		ln, err := net.Listen("tcp", cfg.SandboxListen[name])
		if err != nil {
			return fmt.Errorf("sandbox %s: %w", name, err)
		}
		log.Info("serving a vendor sandbox", "vendor", name, "url", "http://"+ln.Addr().String()+s.Path)
		g.Go(func() error { return serve(ctx, ln, withHealth(s.Handler)) })
	}
	return g.Wait()
}

func withHealth(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/healthz" {
			w.Write([]byte("ok\n"))
			return
		}
		h.ServeHTTP(w, r)
	})
}

// serve runs an HTTP server on ln until ctx ends, then shuts it down.
func serve(ctx context.Context, ln net.Listener, h http.Handler) error {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return err
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
