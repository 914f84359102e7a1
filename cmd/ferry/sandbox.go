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

	"github.com/ferry-data/ferry/internal/sandbox"
	"github.com/ferry-data/ferry/producers/jackyun/jackyunsandbox"
	"github.com/ferry-data/ferry/producers/jushuitan/jstsandbox"
	"github.com/ferry-data/ferry/producers/kingdee/kingdeesandbox"
	"github.com/ferry-data/ferry/producers/wdt/wdtsandbox"
	"github.com/ferry-data/ferry/sinks/banniu/banniusandbox"
)

// sandboxes are the vendor sandboxes ferry serves on its own: realistic
// data that keeps changing, some of it showing up late, with a little
// throttling and failure, as the real vendors would.
type sandboxes struct {
	wdt     *wdtsandbox.Sandbox
	jst     *jstsandbox.Sandbox
	jackyun *jackyunsandbox.Sandbox
	kingdee *kingdeesandbox.Sandbox
	banniu  *banniusandbox.Sandbox
}

// vendorSandbox is one sandbox: its handler and the path of its endpoint.
type vendorSandbox struct {
	name    string
	handler http.Handler
	path    string // appended to http://host:port for the endpoint URL
}

func newSandboxes(seed int64, since time.Time) *sandboxes {
	faults := sandbox.Faults{ThrottleRate: 0.02, FailRate: 0.02}
	s := &sandboxes{
		wdt: wdtsandbox.New(wdtsandbox.Config{Seed: seed, Records: 400, Since: since,
			MutationsPerSecond: 0.5, CreationsPerSecond: 0.2, VisibilityLag: 30 * time.Second, CallsPerMinute: 120, Faults: faults}),
		jst: jstsandbox.New(jstsandbox.Config{Seed: seed, Orders: 400, Shops: 30, Since: since,
			MutationsPerSecond: 0.5, CreationsPerSecond: 0.2, VisibilityLag: 30 * time.Second, Faults: faults}),
		jackyun: jackyunsandbox.New(jackyunsandbox.Config{Seed: seed, Trades: 400, Since: since.Add(-24 * time.Hour),
			MutationsPerSecond: 0.5, CreationsPerSecond: 0.2, VisibilityLag: 30 * time.Second, Faults: faults}),
		kingdee: kingdeesandbox.New(kingdeesandbox.Config{Seed: seed, Customers: 300, Since: since,
			MutationsPerSecond: 0.2, CreationsPerSecond: 0.1, VisibilityLag: 30 * time.Second, Faults: faults}),
		banniu: banniusandbox.New(banniusandbox.Config{Seed: seed, Tasks: -1, Faults: faults}),
	}
	// Most trades already have their after-sales task in Banniu; the rest
	// are created later (or never), as in real life.
	for i, t := range s.jackyun.Truth() {
		if no, ok := t["onlineTradeNo"].(string); ok && i%10 != 0 {
			s.banniu.AddTask(banniusandbox.DefaultProject, map[string]any{"77213": no})
		}
	}
	return s
}

func (s *sandboxes) all() []vendorSandbox {
	return []vendorSandbox{
		{"wdt", s.wdt, "/openapi"},
		{"jushuitan", s.jst, ""},
		{"jackyun", s.jackyun, "/open/openapi/do"},
		{"kingdee", s.kingdee, ""},
		{"banniu", s.banniu, "/gateway/api/miniAPI"},
	}
}

// account fills an empty account of the config with a sandbox's
// credentials and endpoint.
func (s *sandboxes) account(cfg *Config, vendor, url string) {
	switch vendor {
	case "wdt":
		c := s.wdt.Config()
		cfg.WDT = WDTAccount{URL: url, SID: c.SID, AppKey: c.AppKey, AppSecret: c.AppSecret}
	case "jushuitan":
		c := s.jst.Config()
		cfg.JST = JSTAccount{URL: url, AppKey: c.AppKey, AppSecret: c.AppSecret, AccessToken: c.AccessToken, RefreshToken: c.RefreshToken}
	case "jackyun":
		c := s.jackyun.Config()
		cfg.Jackyun = JackyunAccount{URL: url, AppKey: c.AppKey, Secret: c.Secret}
	case "kingdee":
		c := s.kingdee.Config()
		cfg.Kingdee = KingdeeAccount{URL: url, ClientID: c.ClientID, ClientSecret: c.ClientSecret, OuterInstanceID: c.OuterInstanceID}
	case "banniu":
		c := s.banniu.Config()
		cfg.Banniu = BanniuAccount{URL: url, AppKey: c.AppKey, AppSecret: c.AppSecret, AccessToken: c.AccessToken}
	}
}

// endpoint returns the configured endpoint of a vendor.
func (c *Config) endpoint(vendor string) string {
	return map[string]string{
		"wdt": c.WDT.URL, "jushuitan": c.JST.URL, "jackyun": c.Jackyun.URL,
		"kingdee": c.Kingdee.URL, "banniu": c.Banniu.URL,
	}[vendor]
}

// serveSandbox serves the vendor sandboxes, each on its own address, until
// ctx ends.
func serveSandbox(ctx context.Context, cfg Config, log *slog.Logger) error {
	s := newSandboxes(cfg.Seed, time.Now().Add(-72*time.Hour))
	g, ctx := errgroup.WithContext(ctx)
	for _, v := range s.all() {
		ln, err := net.Listen("tcp", cfg.SandboxListen[v.name])
		if err != nil {
			return fmt.Errorf("sandbox %s: %w", v.name, err)
		}
		log.Info("serving a vendor sandbox", "vendor", v.name, "url", "http://"+ln.Addr().String()+v.path)
		g.Go(func() error { return serve(ctx, ln, withHealth(v.handler)) })
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
