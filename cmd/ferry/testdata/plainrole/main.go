// Command plainrole is BenchmarkStartup's baseline: what a role written
// by hand with ferry's libraries does before its loop. It reaches Kafka,
// opens the database when given one, says it started, and waits for
// SIGTERM.
package main

import (
	"context"
	"database/sql"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"

	_ "github.com/go-sql-driver/mysql"
	"github.com/segmentio/kafka-go"
)

func main() {
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	client := &kafka.Client{Addr: kafka.TCP(strings.Split(os.Getenv("FERRY_KAFKA_BROKERS"), ",")...)}
	if _, err := client.Metadata(ctx, &kafka.MetadataRequest{}); err != nil {
		log.Error("kafka", "err", err)
		os.Exit(1)
	}
	if dsn := os.Getenv("FERRY_MYSQL_DSN"); dsn != "" {
		db, err := sql.Open("mysql", dsn)
		if err == nil {
			err = db.PingContext(ctx)
		}
		if err != nil {
			log.Error("database", "err", err)
			os.Exit(1)
		}
		defer db.Close()
	}
	log.Info("ferry started")
	<-ctx.Done()
}
