package mysqltest_test

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"testing"

	"github.com/go-sql-driver/mysql"

	"github.com/ferry-data/ferry/internal/mysqltest"
)

func TestNew(t *testing.T) {
	ctx := context.Background()
	var name string
	t.Run("Sub/Test with spaces", func(t *testing.T) {
		db, dsn := mysqltest.New(t)
		cfg, err := mysql.ParseDSN(dsn)
		if err != nil {
			t.Fatal(err)
		}
		if !cfg.InterpolateParams || cfg.ParseTime || cfg.MultiStatements {
			t.Errorf("dsn %s: want interpolateParams, no parseTime, no multiStatements", dsn)
		}
		if err := db.QueryRowContext(ctx, "SELECT DATABASE()").Scan(&name); err != nil {
			t.Fatal(err)
		}
		if name != cfg.DBName || !strings.HasPrefix(name, "ferry_testnew_sub_test_with_spaces_") {
			t.Errorf("database %q, dsn names %q", name, cfg.DBName)
		}
		if _, err := db.ExecContext(ctx, "CREATE TABLE t (id BIGINT PRIMARY KEY, s VARCHAR(10))"); err != nil {
			t.Fatal(err)
		}
		if _, err := db.ExecContext(ctx, "INSERT INTO t VALUES (?, ?)", 1, "it's ✓"); err != nil {
			t.Fatal(err)
		}
		var s string
		if err := db.QueryRowContext(ctx, "SELECT s FROM t WHERE id = ?", 1).Scan(&s); err != nil || s != "it's ✓" {
			t.Fatalf("got %q, %v", s, err)
		}
	})

	other, _ := mysqltest.New(t)
	var n int
	err := other.QueryRowContext(ctx, "SELECT COUNT(*) FROM information_schema.schemata WHERE schema_name = ?", name).Scan(&n)
	if err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Errorf("database %s was not dropped", name)
	}
}

// fatalTB records Fatalf and ends the goroutine, as testing.T does.
type fatalTB struct {
	testing.TB
	msg string
}

func (f *fatalTB) Helper() {}

func (f *fatalTB) Fatalf(format string, args ...any) {
	f.msg = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

func TestNewFailsWithoutServer(t *testing.T) {
	t.Setenv(mysqltest.EnvDSN, "root@tcp(127.0.0.1:1)/?timeout=1s")
	f := &fatalTB{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		mysqltest.New(f)
		t.Error("New returned without a server")
	}()
	<-done
	if !strings.Contains(f.msg, "does not answer") || !strings.Contains(f.msg, mysqltest.EnvDSN) {
		t.Errorf("Fatalf message %q", f.msg)
	}
}
