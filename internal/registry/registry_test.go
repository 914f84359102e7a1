package registry_test

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"strings"
	"testing"
	"time"

	hamba "github.com/hamba/avro/v2"
	"github.com/twmb/avro"
	"github.com/twmb/franz-go/pkg/sr"
	"github.com/twmb/franz-go/pkg/sr/srfake"

	"github.com/ferry-data/ferry/internal/registry"
	"github.com/ferry-data/ferry/schemas"
)

const topic = "canonical.refund.v1"

func setup(t *testing.T, cfg registry.Config) (*srfake.Registry, *registry.Registry, *schemas.Schema) {
	t.Helper()
	fake := srfake.New()
	t.Cleanup(fake.Close)
	cfg.URL = fake.URL()
	reg, err := registry.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	s, err := schemas.Load("refund")
	if err != nil {
		t.Fatal(err)
	}
	return fake, reg, s
}

var refund = map[string]any{"refund_id": int64(1130899), "refund_no": "TK2306140001", "status": int32(90),
	"actual_refund_amount": schemas.Rat("12.34"), "modified": time.Date(2024, 1, 2, 3, 4, 5, 6e6, time.UTC)}

// A record written through the registry starts with magic 0 and the id of
// its subject's schema, and another Avro implementation (hamba/avro)
// decodes it with the schema the registry holds for that id.
func TestWireFormatReadsElsewhere(t *testing.T) {
	fake, reg, s := setup(t, registry.Config{})
	codec, err := reg.Prepare(context.Background(), topic, s, "")
	if err != nil {
		t.Fatal(err)
	}
	b, err := codec.Encode(refund)
	if err != nil {
		t.Fatal(err)
	}
	latest, ok := fake.GetSchema(registry.Subject(topic), 1)
	if !ok {
		t.Fatal("nothing registered under the subject")
	}
	if b[0] != 0 || int(binary.BigEndian.Uint32(b[1:5])) != latest.ID {
		t.Fatalf("header % x, want 00 and id %d", b[:5], latest.ID)
	}
	if latest.Schema.Schema != s.Text() {
		t.Fatal("the subject holds another schema")
	}
	other, err := hamba.Parse(latest.Schema.Schema)
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := hamba.Unmarshal(other, b[5:], &got); err != nil {
		t.Fatal(err)
	}
	if got["refund_id"] != int64(1130899) || got["refund_no"] != "TK2306140001" {
		t.Fatalf("hamba/avro read %v", got)
	}
	if mod, ok := got["modified"].(time.Time); !ok || !mod.Equal(refund["modified"].(time.Time)) {
		t.Fatalf("modified %v", got["modified"])
	}
	back, err := codec.Decode(b)
	if err != nil || back["refund_no"] != "TK2306140001" {
		t.Fatalf("ferry read %v, %v", back, err)
	}
}

// A schema the subject's level refuses stops Prepare, naming the subject
// and the reason.
func TestIncompatibleSchemaRefused(t *testing.T) {
	fake, reg, s := setup(t, registry.Config{})
	// An earlier refund whose refund_no was a number: the current string
	// cannot read it.
	old := strings.Replace(s.Text(), `"name": "refund_no",
      "type": [
        "null",
        "string"
      ]`, `"name": "refund_no",
      "type": [
        "null",
        "boolean"
      ]`, 1)
	if old == s.Text() {
		t.Fatal("the test's edit of refund.avsc no longer applies")
	}
	if _, _, err := fake.RegisterSchema(registry.Subject(topic), sr.Schema{Schema: old, Type: sr.TypeAvro}); err != nil {
		t.Fatal(err)
	}
	_, err := reg.Prepare(context.Background(), topic, s, "BACKWARD")
	if err == nil || !strings.Contains(err.Error(), "subject canonical.refund.v1-value: schema refund cannot read version 1 (BACKWARD)") {
		t.Fatalf("prepare: %v", err)
	}
	if _, err := reg.Prepare(context.Background(), topic, s, "NONE"); err != nil {
		t.Fatalf("level NONE: %v", err)
	}
}

// Records written under an earlier version of a schema decode into the
// current one by their id.
func TestEarlierVersionByID(t *testing.T) {
	fake, reg, s := setup(t, registry.Config{})
	var doc map[string]any
	if err := json.Unmarshal([]byte(s.Text()), &doc); err != nil {
		t.Fatal(err)
	}
	fields := doc["fields"].([]any)
	doc["fields"] = fields[:len(fields)-1] // before provider_refund_no
	oldText, _ := json.Marshal(doc)
	id, _, err := fake.RegisterSchema(registry.Subject(topic), sr.Schema{Schema: string(oldText), Type: sr.TypeAvro})
	if err != nil {
		t.Fatal(err)
	}
	old, err := avro.Parse(string(oldText))
	if err != nil {
		t.Fatal(err)
	}
	body, err := old.Encode(refund)
	if err != nil {
		t.Fatal(err)
	}
	b := binary.BigEndian.AppendUint32([]byte{0}, uint32(id))
	rec, err := reg.Decoder(s).Decode(append(b, body...))
	if err != nil {
		t.Fatal(err)
	}
	if rec["refund_no"] != "TK2306140001" || rec["provider_refund_no"] != nil {
		t.Fatalf("decoded %v", rec)
	}
	if _, err := reg.Prepare(context.Background(), topic, s, ""); err != nil {
		t.Fatalf("the current schema after the earlier one: %v", err)
	}
}

// A read-only account looks the schema up and checks the level, and says
// so when the schema is not registered.
func TestReadOnly(t *testing.T) {
	fake, reg, s := setup(t, registry.Config{ReadOnly: true})
	ctx := context.Background()
	if _, err := reg.Prepare(ctx, topic, s, ""); err == nil || !strings.Contains(err.Error(), "subject canonical.refund.v1-value: the registry refused schema refund") {
		t.Fatalf("unregistered: %v", err)
	}
	id, _, err := fake.RegisterSchema(registry.Subject(topic), sr.Schema{Schema: s.Text(), Type: sr.TypeAvro})
	if err != nil {
		t.Fatal(err)
	}
	codec, err := reg.Prepare(ctx, topic, s, "")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := codec.Encode(refund)
	if int(binary.BigEndian.Uint32(b[1:5])) != id {
		t.Fatalf("id %d, want %d", binary.BigEndian.Uint32(b[1:5]), id)
	}
	if _, err := reg.Prepare(ctx, topic, s, "FULL"); err == nil || !strings.Contains(err.Error(), "a read-only account cannot set it") {
		t.Fatalf("level: %v", err)
	}
}
