package main

import (
	"context"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/segmentio/kafka-go"
	"golang.org/x/sync/errgroup"

	"github.com/ferry-data/ferry/flows"
	"github.com/ferry-data/ferry/internal/registry"
	"github.com/ferry-data/ferry/schemas"
)

// tailLine is one record as ferry tail prints it.
type tailLine struct {
	Topic     string            `json:"topic"`
	Partition int               `json:"partition"`
	Offset    int64             `json:"offset"`
	Time      string            `json:"time"`
	Key       string            `json:"key"`
	Headers   map[string]string `json:"headers,omitempty"`
	// Schema says how the value was read: json, bytes, tombstone, or the
	// canonical schema with its registry id or single-object fingerprint.
	Schema string `json:"schema"`
	Value  any    `json:"value"`
	Error  string `json:"error,omitempty"`
}

// tailer prints a topic's records.
type tailer struct {
	cfg   TailConfig
	p     *pipeline
	out   io.Writer
	mu    sync.Mutex
	count int
	reg   *registry.Registry
}

// newTailer prints p.cfg.Tail's records to out, reading registry-encoded
// values through the registry the settings name.
func newTailer(p *pipeline, out io.Writer) (*tailer, error) {
	t := &tailer{cfg: p.cfg.Tail, p: p, out: out}
	if p.cfg.Registry.URL != "" {
		reg, err := registry.New(p.cfg.Registry)
		if err != nil {
			return nil, err
		}
		t.reg = reg
	}
	return t, nil
}

// tail prints a topic's records as JSON lines, partition by partition
// (with --follow, as they come).
func tail(ctx context.Context, p *pipeline, out io.Writer) error {
	t, err := newTailer(p, out)
	if err != nil {
		return err
	}
	client := &kafka.Client{Addr: kafka.TCP(p.cfg.Brokers...), Timeout: 30 * time.Second}
	meta, err := client.Metadata(ctx, &kafka.MetadataRequest{Topics: []string{t.cfg.Topic}})
	if err != nil {
		return fmt.Errorf("tail: %w", err)
	}
	if len(meta.Topics) != 1 || meta.Topics[0].Error != nil {
		return fmt.Errorf("tail: no topic %s", t.cfg.Topic)
	}
	var reqs []kafka.OffsetRequest
	for _, part := range meta.Topics[0].Partitions {
		reqs = append(reqs, kafka.FirstOffsetOf(part.ID), kafka.LastOffsetOf(part.ID))
	}
	res, err := client.ListOffsets(ctx, &kafka.ListOffsetsRequest{Topics: map[string][]kafka.OffsetRequest{t.cfg.Topic: reqs}})
	if err != nil {
		return fmt.Errorf("tail: %w", err)
	}
	offsets := res.Topics[t.cfg.Topic]
	if !t.cfg.Follow {
		for id := range len(offsets) {
			for _, po := range offsets {
				if po.Partition == id {
					if err := t.partition(ctx, po); err != nil {
						return err
					}
				}
			}
		}
		return nil
	}
	g, gctx := errgroup.WithContext(ctx)
	for _, po := range offsets {
		g.Go(func() error { return t.partition(gctx, po) })
	}
	return clean(g.Wait())
}

// partition prints one partition's records.
func (t *tailer) partition(ctx context.Context, po kafka.PartitionOffsets) error {
	start := po.LastOffset
	if t.cfg.FromBeginning {
		start = po.FirstOffset
	} else if t.cfg.Limit > 0 {
		start = max(po.FirstOffset, po.LastOffset-int64(t.cfg.Limit))
	}
	if start >= po.LastOffset && !t.cfg.Follow {
		return nil
	}
	r := kafka.NewReader(kafka.ReaderConfig{Brokers: t.p.cfg.Brokers, Topic: t.cfg.Topic, Partition: po.Partition,
		MinBytes: 1, MaxBytes: 16 << 20, MaxWait: 250 * time.Millisecond})
	defer r.Close()
	if err := r.SetOffset(start); err != nil {
		return err
	}
	for {
		m, err := r.FetchMessage(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("tail %s/%d: %w", t.cfg.Topic, po.Partition, err)
		}
		if t.cfg.Key == "" || string(m.Key) == t.cfg.Key {
			if !t.print(m) {
				return nil
			}
		}
		if !t.cfg.Follow && m.Offset+1 >= po.LastOffset {
			return nil
		}
	}
}

// print writes one record; false once the limit is reached.
func (t *tailer) print(m kafka.Message) bool {
	line := tailLine{Topic: m.Topic, Partition: m.Partition, Offset: m.Offset,
		Time: m.Time.UTC().Format(time.RFC3339Nano), Key: string(m.Key)}
	for _, h := range m.Headers {
		if line.Headers == nil {
			line.Headers = map[string]string{}
		}
		line.Headers[h.Key] = string(h.Value)
	}
	line.Schema, line.Value, line.Error = t.decode(m)
	b, _ := json.Marshal(line)
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.cfg.Limit > 0 && t.count >= t.cfg.Limit {
		return false
	}
	t.count++
	fmt.Fprintf(t.out, "%s\n", b)
	return t.cfg.Limit == 0 || t.count < t.cfg.Limit
}

// decode reads a value: a registry's wire format, single-object encoding,
// JSON (raw vendor records), or else bytes.
func (t *tailer) decode(m kafka.Message) (schema string, value any, problem string) {
	b := m.Value
	switch {
	case b == nil:
		return "tombstone", nil, ""
	case len(b) >= 5 && b[0] == 0:
		id := binary.BigEndian.Uint32(b[1:5])
		schema = fmt.Sprintf("registry id %d", id)
		s, err := t.schemaOf(m.Topic)
		if err == nil && t.reg == nil {
			err = fmt.Errorf("written through a schema registry: set FERRY_SCHEMA_REGISTRY_URL")
		}
		if err != nil {
			return schema, base64.StdEncoding.EncodeToString(b), err.Error()
		}
		rec, err := t.reg.Decoder(s).Decode(b)
		if err != nil {
			return schema, base64.StdEncoding.EncodeToString(b), err.Error()
		}
		return fmt.Sprintf("%s, registry id %d", s.Name, id), s.JSON(rec), ""
	case len(b) >= 10 && b[0] == 0xc3 && b[1] == 0x01:
		s, version, err := schemas.Identify(b)
		if err != nil {
			return "single-object", base64.StdEncoding.EncodeToString(b), err.Error()
		}
		fp := s.Fingerprint()
		schema = fmt.Sprintf("%s, fingerprint %x", s.Name, fp)
		if version > 0 {
			schema = fmt.Sprintf("%s version %d", s.Name, version)
		}
		rec, err := s.Decode(b)
		if err != nil {
			return schema, base64.StdEncoding.EncodeToString(b), err.Error()
		}
		return schema, s.JSON(rec), ""
	case json.Valid(b):
		return "json", json.RawMessage(b), ""
	}
	return "bytes", base64.StdEncoding.EncodeToString(b), ""
}

// schemaOf is the canonical schema a topic's records are written in:
// canonical.<entity>.v1, or a flow's dead-letter and retry topics.
func (t *tailer) schemaOf(topic string) (*schemas.Schema, error) {
	if entity, ok := strings.CutPrefix(topic, "canonical."); ok {
		return schemas.Load(strings.TrimSuffix(entity, ".v1"))
	}
	for _, prefix := range []string{"dlq.", "retry."} {
		if name, ok := strings.CutPrefix(topic, prefix); ok {
			for _, f := range t.p.flows {
				if f.Name == name {
					return schemas.Load(f.Processor.Entity)
				}
			}
			f, err := flows.Named(name)
			if err != nil {
				return nil, err
			}
			return schemas.Load(f.Processor.Entity)
		}
	}
	return nil, fmt.Errorf("topic %s holds no canonical records ferry knows", topic)
}
