package embedmysql_test

import (
	"context"
	"database/sql"
	"testing"

	_ "github.com/go-sql-driver/mysql"

	"github.com/ferry-data/ferry/internal/embedmysql"
)

func TestStart(t *testing.T) {
	ctx := context.Background()
	dsn, stop, err := embedmysql.Start(ctx, "ferry")
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := stop(); err != nil {
			t.Error(err)
		}
	}()
	db, err := sql.Open("mysql", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()

	stmts := []string{
		"CREATE TABLE `t` (`id` BIGINT NOT NULL PRIMARY KEY, `name` VARCHAR(255) NULL, `at` DATETIME(3) NULL) DEFAULT CHARSET=utf8mb4",
		"INSERT INTO `t` (`id`, `name`, `at`) VALUES (1, 'a', '2023-06-14 11:13:00.123'), (2, '退货', NULL)",
	}
	for _, s := range stmts {
		if _, err := db.ExecContext(ctx, s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
	if _, err := db.ExecContext(ctx, "INSERT INTO `t` (`id`, `name`) VALUES (?, ?)", 3, "c"); err != nil {
		t.Fatal(err)
	}
	rows, err := db.QueryContext(ctx, "SELECT `id`, `name`, `at` FROM `t` ORDER BY `id`")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var got []string
	for rows.Next() {
		var id int64
		var name, at sql.NullString
		if err := rows.Scan(&id, &name, &at); err != nil {
			t.Fatal(err)
		}
		got = append(got, name.String+"|"+at.String)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	want := []string{"a|2023-06-14 11:13:00.123", "退货|", "c|"}
	if len(got) != len(want) {
		t.Fatalf("got %q, want %q", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("row %d: got %q, want %q", i, got[i], want[i])
		}
	}
}

func TestStopOnContextDone(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	dsn, stop, err := embedmysql.Start(ctx, "ferry")
	if err != nil {
		t.Fatal(err)
	}
	cancel()
	if err := stop(); err != nil { // waits for the server; idempotent after the context stopped it
		t.Fatal(err)
	}
	db, err := sql.Open("mysql", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.PingContext(context.Background()); err == nil {
		t.Error("server still answers after its context is done")
	}
}
