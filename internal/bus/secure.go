package bus

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/segmentio/kafka-go/sasl"
	"github.com/segmentio/kafka-go/sasl/plain"
	"github.com/segmentio/kafka-go/sasl/scram"
)

// Security is how a ferry process reaches its Kafka cluster: TLS, with a
// CA of its own and a client certificate when set, and SASL with one of
// PLAIN, SCRAM-SHA-256 and SCRAM-SHA-512. The zero value is plaintext.
type Security struct {
	TLS                       bool
	CAFile, CertFile, KeyFile string
	SASLMechanism             string
	SASLUser, SASLPassword    string
}

// SASLMechanisms are the SASL mechanisms ferry speaks.
var SASLMechanisms = []string{"PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"}

// plaintext are kafka-go's own defaults, which Secure restores for the
// zero Security.
var (
	plainDialer    = kafka.DefaultDialer
	plainTransport = kafka.DefaultTransport
)

// secured is the Security the defaults were last set to.
var secured struct {
	sync.Mutex
	Security
}

// Secure makes every Kafka client of the process reach the cluster with
// s: its readers, consumer groups and dials through kafka-go's
// DefaultDialer, its writers and admin clients through DefaultTransport,
// which ferry's clients leave unset. A ferry process talks to one cluster,
// so its security is the process's; Secure is called once at start. It
// refuses settings that cannot work: an unknown mechanism, a CA or a
// certificate that does not load.
func Secure(s Security) error {
	secured.Lock()
	defer secured.Unlock()
	if s == secured.Security {
		return nil // as it is: the defaults are not written (and raced on) again
	}
	if s == (Security{}) {
		kafka.DefaultDialer, kafka.DefaultTransport = plainDialer, plainTransport
		secured.Security = s
		return nil
	}
	var tc *tls.Config
	if s.TLS || s.CAFile != "" || s.CertFile != "" {
		var err error
		if tc, err = s.tlsConfig(); err != nil {
			return err
		}
	}
	var mech sasl.Mechanism
	switch s.SASLMechanism {
	case "":
	case "PLAIN":
		mech = plain.Mechanism{Username: s.SASLUser, Password: s.SASLPassword}
	case "SCRAM-SHA-256", "SCRAM-SHA-512":
		algo := scram.SHA256
		if s.SASLMechanism == "SCRAM-SHA-512" {
			algo = scram.SHA512
		}
		m, err := scram.Mechanism(algo, s.SASLUser, s.SASLPassword)
		if err != nil {
			return fmt.Errorf("kafka SASL %s: %w", s.SASLMechanism, err)
		}
		mech = m
	default:
		return fmt.Errorf("kafka SASL mechanism %q: want one of %s", s.SASLMechanism, strings.Join(SASLMechanisms, ", "))
	}
	kafka.DefaultDialer = &kafka.Dialer{Timeout: 10 * time.Second, DualStack: true, TLS: tc, SASLMechanism: mech}
	kafka.DefaultTransport = &kafka.Transport{Dial: (&net.Dialer{Timeout: 3 * time.Second}).DialContext, TLS: tc, SASL: mech}
	secured.Security = s
	return nil
}

func (s Security) tlsConfig() (*tls.Config, error) {
	tc := &tls.Config{MinVersion: tls.VersionTLS12}
	if s.CAFile != "" {
		pem, err := os.ReadFile(s.CAFile)
		if err != nil {
			return nil, fmt.Errorf("kafka TLS CA: %w", err)
		}
		tc.RootCAs = x509.NewCertPool()
		if !tc.RootCAs.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("kafka TLS CA %s: no PEM certificate in it", s.CAFile)
		}
	}
	if s.CertFile != "" || s.KeyFile != "" {
		cert, err := tls.LoadX509KeyPair(s.CertFile, s.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("kafka TLS client certificate: %w", err)
		}
		tc.Certificates = []tls.Certificate{cert}
	}
	return tc, nil
}

// CheckAccess connects to the cluster once, as every client will, and
// returns an error when the cluster refuses ferry: its TLS certificate is
// not trusted (or ferry's is not), or SASL authentication fails. Such a
// refusal would come back on every try, so a process stops at start with
// it instead of retrying forever. A cluster that does not answer is not
// an error here: the roles wait for it.
func CheckAccess(ctx context.Context, brokers []string) error {
	var last error
	for _, b := range brokers {
		conn, err := kafka.DefaultDialer.DialContext(ctx, "tcp", b)
		if err == nil {
			// A request that needs the session authenticated: a cluster
			// that wants SASL answers ApiVersions to anyone, and closes
			// the connection at the next request of one that did not
			// authenticate.
			_, err = conn.Brokers()
			conn.Close()
			if err == nil {
				return nil
			}
			if kafka.DefaultDialer.SASLMechanism == nil && (errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.ECONNRESET)) {
				return fmt.Errorf("kafka %s refuses ferry: it closed the connection at the first request: the cluster wants SASL (set FERRY_KAFKA_SASL_MECHANISM, _USERNAME and _PASSWORD): %w", b, err)
			}
		}
		if refused := refusal(err); refused != nil {
			return fmt.Errorf("kafka %s refuses ferry: %w", b, refused)
		}
		last = err
	}
	_ = last // unreachable or not answering: not a refusal
	return nil
}

// refusal returns what err says of a refusal by the cluster, or nil when
// it is not one.
func refusal(err error) error {
	var unknown x509.UnknownAuthorityError
	var invalid x509.CertificateInvalidError
	var hostname x509.HostnameError
	var verify *tls.CertificateVerificationError
	var alert tls.AlertError
	switch {
	case err == nil:
		return nil
	case errors.Is(err, kafka.SASLAuthenticationFailed):
		return fmt.Errorf("SASL authentication failed (check FERRY_KAFKA_SASL_USERNAME, the password and the mechanism): %w", err)
	case errors.Is(err, kafka.UnsupportedSASLMechanism):
		return fmt.Errorf("the SASL mechanism is not enabled on the cluster: %w", err)
	case errors.Is(err, kafka.IllegalSASLState):
		return fmt.Errorf("the cluster wants SASL (set FERRY_KAFKA_SASL_MECHANISM, _USERNAME and _PASSWORD): %w", err)
	case errors.As(err, &unknown), errors.As(err, &invalid), errors.As(err, &hostname), errors.As(err, &verify):
		return fmt.Errorf("TLS: the cluster's certificate is not trusted (set FERRY_KAFKA_TLS_CA_FILE to its CA): %w", err)
	case errors.As(err, &alert), strings.Contains(err.Error(), "remote error: tls:"):
		return fmt.Errorf("TLS: the cluster refused the handshake (does it want a client certificate, FERRY_KAFKA_TLS_CERT_FILE?): %w", err)
	case strings.Contains(err.Error(), "first record does not look like a TLS handshake"):
		return fmt.Errorf("TLS: the cluster does not speak TLS on this port: %w", err)
	}
	return nil
}
