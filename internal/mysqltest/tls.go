package mysqltest

import (
	"context"
	"crypto/tls"
	"database/sql"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/ferry-data/ferry/internal/testpki"
)

// TLSServer starts a MariaDB server of the test's own that accepts only
// TLS connections, with a certificate of pki's CA, and returns the DSN of
// its database test (root, no password) without TLS settings: a client
// must bring the CA. It needs Debian's mariadb-server (mariadbd,
// mariadb-install-db), which scripts/test.sh installs; the server stops
// with the test.
func TLSServer(t testing.TB, pki *testpki.PKI) (dsn string) {
	t.Helper()
	for _, bin := range []string{"mariadb-install-db", "mariadbd"} {
		if _, err := exec.LookPath(bin); err != nil {
			if _, err := os.Stat(filepath.Join("/usr/sbin", bin)); err != nil {
				t.Fatalf("mysqltest: no %s (apt-get install mariadb-server)", bin)
			}
		}
	}
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	install := exec.Command("mariadb-install-db", "--no-defaults", "--datadir="+data, "--user=root",
		"--auth-root-authentication-method=normal", "--skip-test-db")
	if out, err := install.CombinedOutput(); err != nil {
		t.Fatalf("mysqltest: mariadb-install-db: %v\n%s", err, out)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	mariadbd := "mariadbd"
	if _, err := exec.LookPath(mariadbd); err != nil {
		mariadbd = "/usr/sbin/mariadbd"
	}
	srv := exec.Command(mariadbd, "--no-defaults", "--datadir="+data, "--user=root",
		fmt.Sprintf("--port=%d", port), "--bind-address=127.0.0.1", "--socket="+filepath.Join(dir, "sock"),
		"--pid-file="+filepath.Join(dir, "pid"), "--skip-log-bin", "--innodb-buffer-pool-size=8M",
		"--ssl-cert="+pki.ServerCert, "--ssl-key="+pki.ServerKey, "--ssl-ca="+pki.CAFile, "--require-secure-transport=ON")
	log, err := os.Create(filepath.Join(dir, "server.log"))
	if err != nil {
		t.Fatal(err)
	}
	srv.Stdout, srv.Stderr = log, log
	if err := srv.Start(); err != nil {
		t.Fatalf("mysqltest: start mariadbd: %v", err)
	}
	t.Cleanup(func() {
		srv.Process.Kill()
		srv.Wait()
		log.Close()
	})
	cfg := mysql.NewConfig()
	cfg.User, cfg.Net, cfg.Addr, cfg.DBName = "root", "tcp", fmt.Sprintf("127.0.0.1:%d", port), "test"
	cfg.Timeout = 2 * time.Second
	trusted := cfg.Clone()
	trusted.DBName, trusted.TLS = "", &tls.Config{RootCAs: pki.Pool, MinVersion: tls.VersionTLS12}
	connector, err := mysql.NewConnector(trusted)
	if err != nil {
		t.Fatal(err)
	}
	db := sql.OpenDB(connector)
	defer db.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for {
		if _, err = db.ExecContext(ctx, "CREATE DATABASE IF NOT EXISTS test"); err == nil {
			break
		}
		select {
		case <-ctx.Done():
			out, _ := os.ReadFile(filepath.Join(dir, "server.log"))
			t.Fatalf("mysqltest: the TLS server never answered: %v\n%s", err, out)
		case <-time.After(50 * time.Millisecond): // the server starting
		}
	}
	return cfg.FormatDSN()
}
