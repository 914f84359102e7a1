package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/twmb/franz-go/pkg/sr/srfake"

	"github.com/ferry-data/ferry/internal/mysqltest"
	"github.com/ferry-data/ferry/internal/sandbox"
)

// syncBuffer is a bytes.Buffer many goroutines may write.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestNoSecretInOutput runs ferry up --once, every credential set: the
// vendors' (their sandboxes' accounts, which throttle, fail and answer
// slowly on the way), the database's password (a MariaDB user of its
// own) and the schema registry's (basic auth). Its summary and every log
// line, down to debug, must hold none of them, in clear or as the
// registry's Authorization header.
func TestNoSecretInOutput(t *testing.T) {
	rnd := rand.New(rand.NewPCG(7, 7))
	secretOf := func(what string) string { return fmt.Sprintf("Scan-%s-%08x", what, rnd.Uint32()) }

	db, dsn := mysqltest.New(t)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	d, err := mysql.ParseDSN(dsn)
	if err != nil {
		t.Fatal(err)
	}
	user, pass := fmt.Sprintf("scan_%08x", rnd.Uint32()), secretOf("mysql")
	for _, q := range []string{
		fmt.Sprintf("CREATE USER '%s'@'%%' IDENTIFIED BY '%s'", user, pass),
		fmt.Sprintf("GRANT ALL ON `%s`.* TO '%s'@'%%'", d.DBName, user),
	} {
		if _, err := db.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() { db.Exec(fmt.Sprintf("DROP USER '%s'@'%%'", user)) })
	d.User, d.Passwd = user, pass

	regUser, regPass := "ferry-registry", secretOf("registry")
	header := base64.StdEncoding.EncodeToString([]byte(regUser + ":" + regPass))
	reg := srfake.New(srfake.WithAuth("Basic " + header))
	defer reg.Close()

	secrets := []string{pass, regPass, header}
	for name, served := range table.Sandboxes {
		account := served(sandbox.Settings{}).Account
		for _, v := range table.vendors() {
			for _, s := range v.Settings {
				if v.Name == name && s.Secret && account[s.Name] != "" {
					secrets = append(secrets, account[s.Name])
				}
			}
		}
	}
	env := map[string]string{
		"FERRY_MYSQL_DSN":                d.FormatDSN(),
		"FERRY_SCHEMA_REGISTRY_URL":      reg.URL(),
		"FERRY_SCHEMA_REGISTRY_USER":     regUser,
		"FERRY_SCHEMA_REGISTRY_PASSWORD": regPass,
	}
	cfg, err := parse([]string{"up", "--once", "--timeout", "3m", "--log-level", "debug"}, func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	var out, logs syncBuffer
	log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	if err := run(ctx, cfg, &out, log); err != nil {
		t.Fatalf("ferry up --once: %v\n%s", err, logs.String())
	}
	all := out.String() + logs.String()
	if !strings.Contains(all, "wdt_refunds") || !strings.Contains(logs.String(), "level=WARN") {
		t.Fatalf("the run printed too little to scan (no summary, or no failure met):\n%s", all)
	}
	for _, s := range secrets {
		if i := strings.Index(all, s); i >= 0 {
			t.Errorf("the secret %q is in ferry's output: …%s…", s, all[max(i-200, 0):min(i+len(s)+50, len(all))])
		}
	}
	t.Logf("scanned %d bytes of output for %d secrets", len(all), len(secrets))
}
