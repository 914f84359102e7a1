//go:build !noembeddb

package main

import (
	"context"

	"github.com/sirupsen/logrus"

	"github.com/ferry-data/ferry/internal/embedmysql"
)

// startEmbeddedDB starts the in-process MySQL-protocol database that
// ferry up writes to when no FERRY_MYSQL_DSN is set. A build with
// -tags noembeddb (the image the roles run from) leaves it out, and with
// it go-mysql-server's start-up cost, which every process paid: its
// regular-expression engine compiles a WebAssembly module as the program
// starts (about 250 ms of CPU and 20 MB).
func startEmbeddedDB(ctx context.Context) (dsn string, stop func() error, err error) {
	logrus.SetLevel(logrus.ErrorLevel) // the embedded database logs every connection
	return embedmysql.Start(ctx, "ferry")
}
