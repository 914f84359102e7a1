package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/ferry-data/ferry/internal/sandbox"
)

// newWDTSandbox makes the WDT sandbox ferry serves on its own: realistic
// refunds that keep changing, some showing up late, with a little
// throttling and failure, as the real vendor would.
func newWDTSandbox(seed int64, since time.Time) *sandbox.WDT {
	return sandbox.NewWDT(sandbox.WDTConfig{
		Seed:               seed,
		Records:            400,
		Since:              since,
		MutationsPerSecond: 0.5,
		CreationsPerSecond: 0.2,
		VisibilityLag:      30 * time.Second,
		CallsPerMinute:     120,
		Faults:             sandbox.Faults{ThrottleRate: 0.02, FailRate: 0.02},
	})
}

// serveSandbox serves the vendor sandboxes until ctx ends.
func serveSandbox(ctx context.Context, cfg Config, log *slog.Logger) error {
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return fmt.Errorf("sandbox: %w", err)
	}
	wdt := newWDTSandbox(cfg.Seed, time.Now().Add(-72*time.Hour))
	c := wdt.Config()
	log.Info("serving the WDT sandbox", "url", "http://"+ln.Addr().String()+"/openapi", "sid", c.SID, "app_key", c.AppKey)
	return serve(ctx, ln, sandboxMux(wdt))
}

func sandboxMux(wdt http.Handler) *http.ServeMux {
	mux := http.NewServeMux()
	mux.Handle("/openapi", wdt)
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) { w.Write([]byte("ok\n")) })
	return mux
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
