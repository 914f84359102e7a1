package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"database/sql"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	mysqldriver "github.com/go-sql-driver/mysql"
	"github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/ferry-data/ferry/internal/bus"
	"github.com/ferry-data/ferry/internal/mysqltest"
	"github.com/ferry-data/ferry/internal/testpki"
)

// TestKafkaTLSAndSASL runs ferry against a kfake cluster that wants TLS
// with a client certificate and SASL: each mechanism reaches it through
// every kind of Kafka client ferry has, ferry up --once syncs every flow
// through it, and a wrong password, an untrusted certificate, a missing
// client certificate and a CA file that is not there each stop ferry at
// start with what to fix.
func TestKafkaTLSAndSASL(t *testing.T) {
	pki := testpki.New(t)
	users := map[string][2]string{
		"PLAIN":         {"plain-user", "plain-S3cret"},
		"SCRAM-SHA-256": {"scram256-user", "scram256-S3cret"},
		"SCRAM-SHA-512": {"scram512-user", "scram512-S3cret"},
	}
	opts := []kfake.Opt{kfake.NumBrokers(1), kfake.EnableSASL(), kfake.TLS(&tls.Config{
		Certificates: []tls.Certificate{pki.Server}, ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: pki.Pool, MinVersion: tls.VersionTLS12})}
	for mech, u := range users {
		opts = append(opts, kfake.Superuser(mech, u[0], u[1]))
	}
	cluster, err := kfake.NewCluster(opts...)
	if err != nil {
		t.Fatal(err)
	}
	defer cluster.Close()
	t.Cleanup(func() { bus.Secure(bus.Security{}) })
	brokers := strings.Join(cluster.ListenAddrs(), ",")
	secure := func(mech string, change func(map[string]string)) map[string]string {
		env := map[string]string{
			"FERRY_KAFKA_BROKERS":        brokers,
			"FERRY_KAFKA_TLS":            "true",
			"FERRY_KAFKA_TLS_CA_FILE":    pki.CAFile,
			"FERRY_KAFKA_TLS_CERT_FILE":  pki.ClientCert,
			"FERRY_KAFKA_TLS_KEY_FILE":   pki.ClientKey,
			"FERRY_KAFKA_SASL_MECHANISM": mech,
			"FERRY_KAFKA_SASL_USERNAME":  users[mech][0],
			"FERRY_KAFKA_SASL_PASSWORD":  users[mech][1],
		}
		if change != nil {
			change(env)
		}
		return env
	}
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()

	for _, mech := range bus.SASLMechanisms {
		t.Run(mech, func(t *testing.T) {
			env := secure(mech, nil)
			cfg, err := parse([]string{"processor"}, func(k string) string { return env[k] })
			if err != nil {
				t.Fatal(err)
			}
			if err := reachKafka(ctx, cfg); err != nil {
				t.Fatal(err)
			}
			// An admin client and a writer (the transport), a reader (the
			// dialer), and readiness's ping.
			topic := "secure." + strings.ToLower(strings.ReplaceAll(mech, "-", ""))
			if err := bus.EnsureTopics(ctx, cfg.Brokers, nil, bus.Topic{Name: topic, Settings: bus.Settings{Partitions: 1}}); err != nil {
				t.Fatal(err)
			}
			w := bus.NewWriter(cfg.Brokers, nil)
			defer w.Close()
			if err := w.WriteMessages(ctx, kafka.Message{Topic: topic, Key: []byte("k"), Value: []byte(mech)}); err != nil {
				t.Fatal(err)
			}
			var got []byte
			if err := bus.ReadAll(ctx, cfg.Brokers, topic, func(m kafka.Message) { got = m.Value }); err != nil || string(got) != mech {
				t.Fatalf("read back %q, %v", got, err)
			}
			if err := bus.Ping(ctx, cfg.Brokers); err != nil {
				t.Fatal(err)
			}
		})
	}

	t.Run("ferry up --once", func(t *testing.T) {
		env := secure("SCRAM-SHA-512", nil)
		cfg, err := parse([]string{"up", "--once", "--timeout", "3m"}, func(k string) string { return env[k] })
		if err != nil {
			t.Fatal(err)
		}
		var out bytes.Buffer
		if err := run(ctx, cfg, &out, newTestLog(t, slog.LevelError)); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(out.String(), "wdt_refunds") {
			t.Fatalf("summary:\n%s", &out)
		}
	})

	for _, tc := range []struct {
		name   string
		change func(map[string]string)
		want   string
	}{
		{"a wrong password", func(e map[string]string) { e["FERRY_KAFKA_SASL_PASSWORD"] = "wrong" }, "SASL authentication failed"},
		{"no SASL", func(e map[string]string) {
			delete(e, "FERRY_KAFKA_SASL_MECHANISM")
			delete(e, "FERRY_KAFKA_SASL_USERNAME")
			delete(e, "FERRY_KAFKA_SASL_PASSWORD")
		}, "wants SASL"},
		{"no CA for the cluster's certificate", func(e map[string]string) { delete(e, "FERRY_KAFKA_TLS_CA_FILE") }, "not trusted (set FERRY_KAFKA_TLS_CA_FILE"},
		{"a CA file that is not there", func(e map[string]string) { e["FERRY_KAFKA_TLS_CA_FILE"] = filepath.Join(pki.Dir, "absent.pem") }, "kafka TLS CA: open"},
		{"no client certificate", func(e map[string]string) {
			delete(e, "FERRY_KAFKA_TLS_CERT_FILE")
			delete(e, "FERRY_KAFKA_TLS_KEY_FILE")
		}, "refused the handshake"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := secure("SCRAM-SHA-512", tc.change)
			cfg, err := parse([]string{"processor"}, func(k string) string { return env[k] })
			if err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			err = run(ctx, cfg, &bytes.Buffer{}, newTestLog(t, slog.LevelError))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("ferry processor: %v, want an error saying %q", err, tc.want)
			}
			t.Logf("stopped after %v: %v", time.Since(start).Round(time.Millisecond), err)
		})
	}
}

// TestMySQLTLSWithACustomCA writes a flow into a MariaDB server that takes
// only TLS, trusting the CA FERRY_MYSQL_TLS_CA_FILE names; without it the
// sink cannot reach the server, and says so at start.
func TestMySQLTLSWithACustomCA(t *testing.T) {
	pki := testpki.New(t)
	dsn := mysqltest.TLSServer(t, pki)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	env := map[string]string{"FERRY_MYSQL_DSN": dsn, "FERRY_MYSQL_TLS_CA_FILE": pki.CAFile}
	cfg, err := parse([]string{"up", "--once", "--timeout", "2m", "--flow", "wdt_refunds"}, func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := run(ctx, cfg, &out, newTestLog(t, slog.LevelError)); err != nil {
		t.Fatal(err)
	}
	c, err := writerConfig(dsn, pki.CAFile)
	if err != nil {
		t.Fatal(err)
	}
	connector, err := mysqldriver.NewConnector(c)
	if err != nil {
		t.Fatal(err)
	}
	db := sql.OpenDB(connector)
	defer db.Close()
	var rows int
	var cipher string
	if err := db.QueryRowContext(ctx, "SELECT COUNT(*) FROM aftersales_refund_refund_search").Scan(&rows); err != nil || rows == 0 {
		t.Fatalf("%d rows written over TLS: %v", rows, err)
	}
	if err := db.QueryRowContext(ctx, "SELECT VARIABLE_VALUE FROM information_schema.SESSION_STATUS WHERE VARIABLE_NAME = 'Ssl_cipher'").Scan(&cipher); err != nil || cipher == "" {
		t.Fatalf("the session is not TLS: %q, %v", cipher, err)
	}

	delete(env, "FERRY_MYSQL_TLS_CA_FILE")
	cfg, err = parse([]string{"up", "--once", "--timeout", "2m", "--flow", "wdt_refunds"}, func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	if err := run(ctx, cfg, &out, newTestLog(t, slog.LevelError)); err == nil || !strings.Contains(err.Error(), "database") {
		t.Fatalf("without the CA: %v, want the database refused at start", err)
	}
}
