// Package embedmysql serves an in-memory database over the MySQL protocol
// (github.com/dolthub/go-mysql-server), so the standalone run needs no
// MySQL server. Its data lives in memory and is gone when it stops.
package embedmysql

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"

	sqle "github.com/dolthub/go-mysql-server"
	"github.com/dolthub/go-mysql-server/memory"
	"github.com/dolthub/go-mysql-server/server"
	gmssql "github.com/dolthub/go-mysql-server/sql"
	"github.com/go-sql-driver/mysql"
)

// Start serves an in-memory database named dbName over the MySQL protocol
// on 127.0.0.1 at a free port, and returns a DSN for
// github.com/go-sql-driver/mysql (user root, no password) and a stop func.
// The DSN asks for interpolateParams=true: the driver renders arguments into
// the statement text instead of preparing it, one round trip per Exec.
//
// The server runs until stop is called or ctx is done, whichever comes
// first; stop closes the listener, waits until the server stopped accepting
// and may be called more than once. Connections already open are not cut.
func Start(ctx context.Context, dbName string) (dsn string, stop func() error, err error) {
	if dbName == "" {
		return "", nil, errors.New("embedmysql: empty database name")
	}
	if err := ctx.Err(); err != nil {
		return "", nil, fmt.Errorf("embedmysql: %w", err)
	}
	db := memory.NewDatabase(dbName)
	db.EnablePrimaryKeyIndexes()
	pro := memory.NewDBProvider(db)
	engine := sqle.NewDefault(pro)

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, fmt.Errorf("embedmysql: %w", err)
	}
	cfg := server.Config{Protocol: "tcp", Address: ln.Addr().String(), Listener: ln}
	srv, err := server.NewServer(cfg, engine, gmssql.NewContext, memory.NewSessionBuilder(pro), nil)
	if err != nil {
		ln.Close()
		return "", nil, fmt.Errorf("embedmysql: %w", err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		srv.Start() // returns when the listener is closed; its error is always nil
	}()

	stop = sync.OnceValue(func() error {
		err := srv.Close()
		<-done
		return err
	})
	context.AfterFunc(ctx, func() { stop() })

	c := mysql.NewConfig()
	c.User = "root"
	c.Net = "tcp"
	c.Addr = ln.Addr().String()
	c.DBName = dbName
	c.InterpolateParams = true
	return c.FormatDSN(), stop, nil
}
