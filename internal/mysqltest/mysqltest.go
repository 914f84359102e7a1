// Package mysqltest gives each test its own database on a real MySQL or
// MariaDB server.
//
// The server is named by the environment variable FERRY_TEST_MYSQL_DSN, a
// github.com/go-sql-driver/mysql DSN without a database (default
// "root@tcp(127.0.0.1:3306)/"). A test that cannot reach it fails: it is
// never skipped, so a CI run without its database cannot pass silently.
package mysqltest

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
)

// EnvDSN names the environment variable holding the server's DSN.
const EnvDSN = "FERRY_TEST_MYSQL_DSN"

// DefaultDSN is the server used when EnvDSN is unset.
const DefaultDSN = "root@tcp(127.0.0.1:3306)/"

// New creates a fresh database (ferry_<test name>_<random>) on the server
// named by FERRY_TEST_MYSQL_DSN, returns an open *sql.DB on it and its DSN,
// and drops it in t.Cleanup. If the server does not answer, New calls
// t.Fatalf.
//
// The DSN has parseTime=false, multiStatements=false and
// interpolateParams=true: arguments are interpolated by the driver into the
// statement text, one round trip per Exec instead of prepare, execute and
// close. That is safe with the utf8mb4 connection charset the driver uses
// (it refuses interpolation with multibyte charsets that are not).
func New(t testing.TB) (db *sql.DB, dsn string) {
	t.Helper()
	server := os.Getenv(EnvDSN)
	if server == "" {
		server = DefaultDSN
	}
	cfg, err := mysql.ParseDSN(server)
	if err != nil {
		t.Fatalf("mysqltest: bad %s %q: %v", EnvDSN, server, err)
	}
	cfg.DBName = ""
	cfg.ParseTime = false
	cfg.MultiStatements = false
	cfg.InterpolateParams = true
	if cfg.Timeout == 0 {
		cfg.Timeout = 5 * time.Second
	}

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	admin, err := sql.Open("mysql", cfg.FormatDSN())
	if err != nil {
		t.Fatalf("mysqltest: %v", err)
	}
	if err := admin.PingContext(ctx); err != nil {
		admin.Close()
		t.Fatalf("mysqltest: the test database server at %s does not answer (start it, or point %s at one): %v",
			cfg.Addr, EnvDSN, err)
	}

	name := dbName(t.Name())
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE `"+name+"` CHARACTER SET utf8mb4"); err != nil {
		admin.Close()
		t.Fatalf("mysqltest: create database %s: %v", name, err)
	}
	cfg.DBName = name
	dsn = cfg.FormatDSN()
	db, err = sql.Open("mysql", dsn)
	if err != nil {
		t.Fatalf("mysqltest: %v", err)
	}
	t.Cleanup(func() {
		db.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := admin.ExecContext(ctx, "DROP DATABASE IF EXISTS `"+name+"`"); err != nil {
			t.Errorf("mysqltest: drop database %s: %v", name, err)
		}
		admin.Close()
	})
	return db, dsn
}

// dbName makes a database name from a test name: lower-case letters,
// digits and underscores, at most 64 characters, with a random suffix.
func dbName(test string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(test) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	s := b.String()
	const maxTest = 64 - len("ferry_") - len("_12345678")
	if len(s) > maxTest {
		s = s[:maxTest]
	}
	return fmt.Sprintf("ferry_%s_%08x", s, rand.Uint32())
}
