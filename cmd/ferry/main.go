// Command ferry runs ferry's roles: producer, processor and sink, each a
// separately scalable service; up, all three in one process on embedded
// defaults; and sandbox, the vendor sandboxes.
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	cfg, err := parse(os.Args[1:], os.Getenv)
	if errors.Is(err, errHelp) {
		os.Exit(0)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "ferry:", err)
		os.Exit(2)
	}
	if fi, err := os.Stderr.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
		cfg.Progress = os.Stderr // a terminal: up --once shows its progress
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: cfg.LogLevel}))
	if err := run(ctx, cfg, os.Stdout, log); errors.Is(err, errDifferences) {
		os.Exit(1) // the report said what differs
	} else if err != nil {
		log.Error("ferry stopped", "command", cfg.Command, "err", err)
		os.Exit(1)
	}
}
