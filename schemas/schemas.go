// Package schemas holds ferry's canonical Avro schemas, the contract between
// processors and sinks, and their codecs.
//
// Every canonical record is a flat Avro record. Besides the standard
// attributes, a schema names its primary key ("key") and its version column
// ("version", a timestamp that only moves forward); a field may carry a
// "sqlType" that overrides the column type a sink derives from the Avro type.
//
// Records travel as Avro single-object encoding (magic 0xC3 0x01, the
// schema's CRC-64-AVRO fingerprint, then the binary body), so a consumer
// needs no registry to tell which schema wrote a message.
package schemas

import (
	"embed"
	"encoding/json"
	"fmt"
	"math/big"
	"time"

	"github.com/linkedin/goavro/v2"
)

//go:embed *.avsc
var files embed.FS

// Kind is the Go shape of a field's values in a plain record.
type Kind int

// The kinds a canonical field can have, with the Go type a plain record
// holds for each.
const (
	Long      Kind = iota // int64
	Int                   // int32
	Double                // float64
	Boolean               // bool
	String                // string
	Decimal               // *big.Rat
	Timestamp             // time.Time (Avro timestamp-millis)
)

func (k Kind) String() string {
	return [...]string{"long", "int", "double", "boolean", "string", "decimal", "timestamp"}[k]
}

// Field is one column of a canonical record.
type Field struct {
	Name      string
	Kind      Kind
	Nullable  bool
	Precision int // decimals only
	Scale     int // decimals only
	SQLType   string
	Doc       string
}

// Schema is a parsed canonical schema with its codec.
type Schema struct {
	Name    string
	Key     string // primary key field
	Version string // version field: a newer record has a greater or equal value
	Fields  []Field
	codec   *goavro.Codec
}

// Load parses the embedded schema of the named entity ("refund" for
// refund.avsc).
func Load(name string) (*Schema, error) {
	text, err := files.ReadFile(name + ".avsc")
	if err != nil {
		return nil, fmt.Errorf("schemas: no canonical schema %q", name)
	}
	s, err := parse(text)
	if err != nil {
		return nil, fmt.Errorf("schemas: %s.avsc: %w", name, err)
	}
	return s, nil
}

// Names lists the embedded schemas.
func Names() []string {
	entries, _ := files.ReadDir(".")
	var names []string
	for _, e := range entries {
		names = append(names, e.Name()[:len(e.Name())-len(".avsc")])
	}
	return names
}

type avscField struct {
	Name    string          `json:"name"`
	Type    json.RawMessage `json:"type"`
	Doc     string          `json:"doc"`
	SQLType string          `json:"sqlType"`
}

type avscType struct {
	Type        string `json:"type"`
	LogicalType string `json:"logicalType"`
	Precision   int    `json:"precision"`
	Scale       int    `json:"scale"`
}

func parse(text []byte) (*Schema, error) {
	var doc struct {
		Name    string      `json:"name"`
		Key     string      `json:"key"`
		Version string      `json:"version"`
		Fields  []avscField `json:"fields"`
	}
	if err := json.Unmarshal(text, &doc); err != nil {
		return nil, err
	}
	codec, err := goavro.NewCodec(string(text))
	if err != nil {
		return nil, err
	}
	s := &Schema{Name: doc.Name, Key: doc.Key, Version: doc.Version, codec: codec}
	for _, af := range doc.Fields {
		f := Field{Name: af.Name, Doc: af.Doc, SQLType: af.SQLType}
		typ := af.Type
		var union []json.RawMessage
		if json.Unmarshal(typ, &union) == nil {
			if len(union) != 2 || string(union[0]) != `"null"` {
				return nil, fmt.Errorf("field %s: only [\"null\", T] unions are canonical", af.Name)
			}
			f.Nullable, typ = true, union[1]
		}
		var t avscType
		if json.Unmarshal(typ, &t.Type) != nil {
			if err := json.Unmarshal(typ, &t); err != nil {
				return nil, fmt.Errorf("field %s: %w", af.Name, err)
			}
		}
		switch {
		case t.LogicalType == "decimal" && t.Type == "bytes":
			f.Kind, f.Precision, f.Scale = Decimal, t.Precision, t.Scale
		case t.LogicalType == "timestamp-millis" && t.Type == "long":
			f.Kind = Timestamp
		case t.Type == "long":
			f.Kind = Long
		case t.Type == "int":
			f.Kind = Int
		case t.Type == "double":
			f.Kind = Double
		case t.Type == "boolean":
			f.Kind = Boolean
		case t.Type == "string":
			f.Kind = String
		default:
			return nil, fmt.Errorf("field %s: type %s is not canonical", af.Name, typ)
		}
		s.Fields = append(s.Fields, f)
	}
	if s.Field(s.Key) == nil {
		return nil, fmt.Errorf("key %q is not a field", s.Key)
	}
	if v := s.Field(s.Version); v == nil || v.Kind != Timestamp || v.Nullable {
		return nil, fmt.Errorf("version %q must be a required timestamp field", s.Version)
	}
	return s, nil
}

// Field returns the named field, or nil.
func (s *Schema) Field(name string) *Field {
	for i := range s.Fields {
		if s.Fields[i].Name == name {
			return &s.Fields[i]
		}
	}
	return nil
}

// Encode renders a plain record (field name → value of the field's Kind, or
// nil) as an Avro single-object encoded message.
func (s *Schema) Encode(rec map[string]any) ([]byte, error) {
	native := make(map[string]any, len(s.Fields))
	for _, f := range s.Fields {
		v := rec[f.Name]
		if v == nil {
			if !f.Nullable {
				return nil, fmt.Errorf("%s.%s is required", s.Name, f.Name)
			}
			native[f.Name] = nil
			continue
		}
		if f.Nullable {
			v = goavro.Union(f.avroName(), v)
		}
		native[f.Name] = v
	}
	b, err := s.codec.SingleFromNative(nil, native)
	if err != nil {
		return nil, fmt.Errorf("encode %s: %w", s.Name, err)
	}
	return b, nil
}

// Decode parses a single-object encoded message into a plain record.
func (s *Schema) Decode(b []byte) (map[string]any, error) {
	native, _, err := s.codec.NativeFromSingle(b)
	if err != nil {
		return nil, fmt.Errorf("decode %s: %w", s.Name, err)
	}
	m, ok := native.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("decode %s: not a record", s.Name)
	}
	for _, f := range s.Fields {
		if u, ok := m[f.Name].(map[string]any); ok && f.Nullable {
			for _, v := range u {
				m[f.Name] = v
			}
		}
		if t, ok := m[f.Name].(time.Time); ok {
			m[f.Name] = t.UTC()
		}
	}
	return m, nil
}

// avroName is the union branch name goavro expects for the field's type.
func (f Field) avroName() string {
	switch f.Kind {
	case Decimal:
		return "bytes.decimal"
	case Timestamp:
		return "long.timestamp-millis"
	}
	return f.Kind.String()
}

// Rat is a convenience for literal decimals in tests and examples.
func Rat(s string) *big.Rat {
	r, ok := new(big.Rat).SetString(s)
	if !ok {
		panic("schemas.Rat: bad decimal " + s)
	}
	return r
}
