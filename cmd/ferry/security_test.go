package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"log/slog"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/ferry-data/ferry/internal/bus"
)

// testPKI is a CA and the certificates it signed, as PEM files.
type testPKI struct {
	dir                   string
	caFile                string
	server                tls.Certificate
	pool                  *x509.CertPool
	clientCert, clientKey string
}

func newTestPKI(t *testing.T) *testPKI {
	t.Helper()
	p := &testPKI{dir: t.TempDir()}
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ca := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "ferry test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, ca, ca, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	caCert, _ := x509.ParseCertificate(caDER)
	p.pool = x509.NewCertPool()
	p.pool.AddCert(caCert)
	p.caFile = p.write(t, "ca.pem", "CERTIFICATE", caDER)
	issue := func(serial int64, name string, usage x509.ExtKeyUsage) (certDER []byte, key *ecdsa.PrivateKey) {
		key, _ = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: name},
			NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
			IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, ExtKeyUsage: []x509.ExtKeyUsage{usage}, KeyUsage: x509.KeyUsageDigitalSignature}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, caCert, &key.PublicKey, caKey)
		if err != nil {
			t.Fatal(err)
		}
		return der, key
	}
	srvDER, srvKey := issue(2, "kafka", x509.ExtKeyUsageServerAuth)
	p.server = tls.Certificate{Certificate: [][]byte{srvDER}, PrivateKey: srvKey}
	cliDER, cliKey := issue(3, "ferry", x509.ExtKeyUsageClientAuth)
	keyDER, _ := x509.MarshalECPrivateKey(cliKey)
	p.clientCert = p.write(t, "client.pem", "CERTIFICATE", cliDER)
	p.clientKey = p.write(t, "client-key.pem", "EC PRIVATE KEY", keyDER)
	return p
}

func (p *testPKI) write(t *testing.T, name, kind string, der []byte) string {
	path := filepath.Join(p.dir, name)
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: kind, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestKafkaTLSAndSASL runs ferry against a kfake cluster that wants TLS
// with a client certificate and SASL: each mechanism reaches it through
// every kind of Kafka client ferry has, ferry up --once syncs every flow
// through it, and a wrong password, an untrusted certificate, a missing
// client certificate and a CA file that is not there each stop ferry at
// start with what to fix.
func TestKafkaTLSAndSASL(t *testing.T) {
	pki := newTestPKI(t)
	users := map[string][2]string{
		"PLAIN":         {"plain-user", "plain-S3cret"},
		"SCRAM-SHA-256": {"scram256-user", "scram256-S3cret"},
		"SCRAM-SHA-512": {"scram512-user", "scram512-S3cret"},
	}
	opts := []kfake.Opt{kfake.NumBrokers(1), kfake.EnableSASL(), kfake.TLS(&tls.Config{
		Certificates: []tls.Certificate{pki.server}, ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: pki.pool, MinVersion: tls.VersionTLS12})}
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
			"FERRY_KAFKA_TLS_CA_FILE":    pki.caFile,
			"FERRY_KAFKA_TLS_CERT_FILE":  pki.clientCert,
			"FERRY_KAFKA_TLS_KEY_FILE":   pki.clientKey,
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
		{"no CA for the cluster's certificate", func(e map[string]string) { delete(e, "FERRY_KAFKA_TLS_CA_FILE") }, "not trusted (set FERRY_KAFKA_TLS_CA_FILE"},
		{"a CA file that is not there", func(e map[string]string) { e["FERRY_KAFKA_TLS_CA_FILE"] = filepath.Join(pki.dir, "absent.pem") }, "kafka TLS CA: open"},
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
