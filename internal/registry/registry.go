// Package registry puts ferry's canonical records on a Confluent-compatible
// schema registry (Confluent Schema Registry, Redpanda, Apicurio's
// compatibility API, Karapace), through franz-go's sr client.
//
// With a registry, a canonical record travels in the Confluent wire
// format: a zero byte, the schema's 4-byte id (big-endian), then the Avro
// binary body. Subjects follow the topic-name strategy (<topic>-value).
// At start, a processor sets its subject's compatibility level (BACKWARD
// unless the flow says otherwise), checks its schema against the versions
// already registered at that level, and registers it; with a read-only
// account it checks the level and looks its schema up instead. A schema
// the level refuses, here or at the registry, stops the processor before
// anything is written, naming the subject and the reason.
//
// Readers decode by id: the registry's schema for the id, resolved to the
// reader's current schema, so a topic holding records of several versions
// reads whole. A record in single-object encoding (written without a
// registry) still decodes by its fingerprint.
package registry

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/binary"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/twmb/avro"
	"github.com/twmb/franz-go/pkg/sr"

	"github.com/ferry-data/ferry/flows"
	"github.com/ferry-data/ferry/schemas"
)

// Config says how to reach the registry.
type Config struct {
	URL string
	// User and Password are basic auth credentials, if the registry wants
	// them.
	User, Password string
	// CAFile is a PEM file of the certificate authorities to trust for the
	// registry's TLS; the system's when empty.
	CAFile string
	// ReadOnly looks schemas up and checks compatibility levels, never
	// registering or setting anything.
	ReadOnly bool
}

// Registry is a client of one registry, with a cache of schemas by id.
type Registry struct {
	cl       *sr.Client
	readOnly bool

	mu    sync.Mutex
	texts map[int]string
}

// New returns a client of the registry at cfg.URL.
func New(cfg Config) (*Registry, error) {
	opts := []sr.ClientOpt{sr.URLs(strings.Split(cfg.URL, ",")...), sr.UserAgent("ferry")}
	if cfg.User != "" {
		opts = append(opts, sr.BasicAuth(cfg.User, cfg.Password))
	}
	if cfg.CAFile != "" {
		pem, err := os.ReadFile(cfg.CAFile)
		if err != nil {
			return nil, fmt.Errorf("schema registry CA: %w", err)
		}
		roots := x509.NewCertPool()
		if !roots.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("schema registry CA %s: no PEM certificate in it", cfg.CAFile)
		}
		opts = append(opts, sr.HTTPClient(&http.Client{Transport: &http.Transport{
			TLSClientConfig: &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}}}))
	}
	cl, err := sr.NewClient(opts...)
	if err != nil {
		return nil, fmt.Errorf("schema registry: %w", err)
	}
	return &Registry{cl: cl, readOnly: cfg.ReadOnly, texts: map[int]string{}}, nil
}

// lookupTimeout bounds a schema lookup by id.
const lookupTimeout = 30 * time.Second

// Subject is the subject of a topic's values (topic-name strategy).
func Subject(topic string) string { return topic + "-value" }

// Codec encodes one canonical schema's records in the registry's wire
// format, and decodes the records of its topic by id. It implements
// schemas.Codec.
type Codec struct {
	reg    *Registry
	schema *schemas.Schema
	id     int // 0 for a decode-only codec

	mu      sync.Mutex
	readers map[int]func([]byte) (map[string]any, error)
}

// Decoder returns a codec that decodes records of schema s's topics,
// written under any schema the registry holds that s can read.
func (r *Registry) Decoder(s *schemas.Schema) *Codec {
	return &Codec{reg: r, schema: s, readers: map[int]func([]byte) (map[string]any, error){}}
}

// Prepare readies the codec that writes schema s to topic: it sets the
// subject's compatibility level to level (or, read-only, checks it),
// checks s against the subject's versions at that level, and registers s
// (or, read-only, looks it up).
func (r *Registry) Prepare(ctx context.Context, topic string, s *schemas.Schema, level string) (*Codec, error) {
	subject := Subject(topic)
	if level == "" {
		level = flows.DefaultCompatibility
	}
	var want sr.CompatibilityLevel
	if err := want.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("subject %s: compatibility %q: want one of %s", subject, level, strings.Join(flows.CompatibilityLevels, ", "))
	}
	if r.readOnly {
		res := r.cl.Compatibility(sr.WithParams(ctx, sr.DefaultToGlobal), subject)
		if len(res) != 1 || res[0].Err != nil {
			return nil, fmt.Errorf("subject %s: read its compatibility level: %w", subject, resultErr(res))
		}
		if res[0].Level != want {
			return nil, fmt.Errorf("subject %s: compatibility level is %s, the flow wants %s; a read-only account cannot set it", subject, res[0].Level, want)
		}
	} else {
		res := r.cl.SetCompatibility(ctx, sr.SetCompatibility{Level: want}, subject)
		if len(res) != 1 || res[0].Err != nil {
			return nil, fmt.Errorf("subject %s: set compatibility %s: %w", subject, want, resultErr(res))
		}
	}
	if err := r.check(ctx, subject, s, want); err != nil {
		return nil, err
	}
	schema := sr.Schema{Schema: s.Text(), Type: sr.TypeAvro}
	var got sr.SubjectSchema
	var err error
	if r.readOnly {
		got, err = r.cl.LookupSchema(ctx, subject, schema)
	} else {
		got, err = r.cl.CreateSchema(ctx, subject, schema)
	}
	if err != nil {
		return nil, fmt.Errorf("subject %s: the registry refused schema %s: %s", subject, s.Name, reason(err))
	}
	c := r.Decoder(s)
	c.id = got.ID
	r.mu.Lock()
	r.texts[got.ID] = s.Text()
	r.mu.Unlock()
	return c, nil
}

// check refuses a schema that cannot join the subject's versions at the
// level: the newest one, or all of them for a transitive level. ferry
// checks itself, with the Avro codec's rules, so that a registry that
// checks loosely cannot let an incompatible schema through.
func (r *Registry) check(ctx context.Context, subject string, s *schemas.Schema, level sr.CompatibilityLevel) error {
	if level == sr.CompatNone {
		return nil
	}
	versions, err := r.cl.Schemas(ctx, subject)
	var re *sr.ResponseError
	if errors.As(err, &re) && re.StatusCode == http.StatusNotFound {
		return nil // a new subject
	}
	if err != nil {
		return fmt.Errorf("subject %s: read its versions: %w", subject, err)
	}
	if !strings.HasSuffix(level.String(), "_TRANSITIVE") && len(versions) > 0 {
		versions = versions[len(versions)-1:]
	}
	mine, err := avro.Parse(s.Text())
	if err != nil {
		return err
	}
	for _, v := range versions {
		if v.Schema.Schema == s.Text() {
			continue
		}
		theirs, err := avro.Parse(v.Schema.Schema)
		if err != nil {
			return fmt.Errorf("subject %s version %d: %w", subject, v.Version, err)
		}
		backward := strings.HasPrefix(level.String(), "BACKWARD") || strings.HasPrefix(level.String(), "FULL")
		forward := strings.HasPrefix(level.String(), "FORWARD") || strings.HasPrefix(level.String(), "FULL")
		if backward {
			if err := avro.CheckCompatibility(theirs, mine); err != nil {
				return fmt.Errorf("subject %s: schema %s cannot read version %d (%s): %v", subject, s.Name, v.Version, level, err)
			}
		}
		if forward {
			if err := avro.CheckCompatibility(mine, theirs); err != nil {
				return fmt.Errorf("subject %s: version %d cannot read schema %s (%s): %v", subject, v.Version, s.Name, level, err)
			}
		}
	}
	return nil
}

// Encode renders a record in the wire format.
func (c *Codec) Encode(rec map[string]any) ([]byte, error) {
	if c.id == 0 {
		return nil, errors.New("registry codec: not prepared for writing")
	}
	body, err := c.schema.Binary(rec)
	if err != nil {
		return nil, err
	}
	out := make([]byte, 5, 5+len(body))
	binary.BigEndian.PutUint32(out[1:], uint32(c.id))
	return append(out, body...), nil
}

// Decode reads a record in the wire format, or in single-object encoding.
func (c *Codec) Decode(b []byte) (map[string]any, error) {
	if len(b) < 5 || b[0] != 0 {
		return c.schema.Decode(b) // single-object encoding, or an error saying why not
	}
	id := int(binary.BigEndian.Uint32(b[1:5]))
	read, err := c.reader(id)
	if err != nil {
		return nil, err
	}
	return read(b[5:])
}

// reader returns the decoder of bodies written under schema id.
func (c *Codec) reader(id int) (func([]byte) (map[string]any, error), error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if read, ok := c.readers[id]; ok {
		return read, nil
	}
	text, err := c.reg.text(id)
	if err != nil {
		return nil, err
	}
	read, err := c.schema.Reader(text)
	if err != nil {
		return nil, fmt.Errorf("schema id %d: %w", id, err)
	}
	c.readers[id] = read
	return read, nil
}

// text returns the registry's schema of an id.
func (r *Registry) text(id int) (string, error) {
	r.mu.Lock()
	text, ok := r.texts[id]
	r.mu.Unlock()
	if ok {
		return text, nil
	}
	// Decode has no context; a registry that does not answer within
	// the timeout fails the record's batch, which is tried again.
	ctx, cancel := context.WithTimeout(context.Background(), lookupTimeout)
	defer cancel()
	s, err := r.cl.SchemaByID(ctx, id)
	if err != nil {
		return "", fmt.Errorf("schema id %d: %w", id, err)
	}
	r.mu.Lock()
	r.texts[id] = s.Schema
	r.mu.Unlock()
	return s.Schema, nil
}

func reason(err error) string {
	var re *sr.ResponseError
	if errors.As(err, &re) && re.Message != "" {
		return fmt.Sprintf("%s (error %d)", re.Message, re.ErrorCode)
	}
	return err.Error()
}

func resultErr(res []sr.CompatibilityResult) error {
	for _, r := range res {
		if r.Err != nil {
			return errors.New(reason(r.Err))
		}
	}
	return errors.New("no answer")
}
