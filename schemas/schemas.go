// Package schemas holds ferry's canonical Avro schemas, the contract between
// processors and sinks, and their codecs.
//
// Every canonical record is a flat Avro record. Besides the standard
// attributes, a schema names its primary key ("key") and its version column
// ("version", a timestamp that only moves forward); a field may carry a
// "sqlType" that overrides the column type a sink derives from the Avro type.
//
// Records travel as Avro single-object encoding (magic 0xC3 0x01, the
// CRC-64-AVRO fingerprint of the schema's Parsing Canonical Form, as the
// specification defines it, then the binary body), so a consumer needs no
// registry to tell which schema wrote a message.
//
// A schema's earlier versions are kept in versions/<name>.v<n>.avsc. A
// record written under any of them decodes into the current version: its
// fields by name, new fields from their defaults (null), removed ones
// dropped, as Avro's schema resolution says.
//
// The codec is github.com/twmb/avro: it computes the canonical form as the
// specification (and Java's SchemaNormalization) does, which goavro does
// not (it keeps logical types in it), and it resolves writer to reader
// schemas, which goavro cannot.
package schemas

import (
	"embed"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"strings"
	"time"

	"github.com/twmb/avro"
)

//go:embed *.avsc versions/*.avsc
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
	Record                // map[string]any, with Fields
	Array                 // []any, of Items
)

func (k Kind) String() string {
	return [...]string{"long", "int", "double", "boolean", "string", "decimal", "timestamp", "record", "array"}[k]
}

// Field is one field of a canonical record.
type Field struct {
	Name      string
	Kind      Kind
	Nullable  bool
	Precision int // decimals only
	Scale     int // decimals only
	SQLType   string
	Doc       string
	// Fields are a nested record's fields; TypeName its full Avro name.
	Fields   []Field
	TypeName string
	// Items is an array's element.
	Items *Field
}

// Schema is a parsed canonical schema with its codec.
type Schema struct {
	Name string
	Key  string // primary key field
	// Version is the version field: a newer record has a greater or equal
	// value. Empty when the source keeps no modification stamp.
	Version string
	Fields  []Field

	text    string
	avro    *avro.Schema
	fp      [8]byte
	earlier []string
	// writers are the earlier versions resolved to this one, by
	// fingerprint.
	writers map[[8]byte]*avro.Schema
}

// Codec encodes and decodes canonical records: a Schema itself, in
// single-object encoding, or a schema registry's codec, in its wire format.
type Codec interface {
	Encode(rec map[string]any) ([]byte, error)
	Decode(b []byte) (map[string]any, error)
}

// Text is the schema's Avro JSON as written, for a registry.
func (s *Schema) Text() string { return s.text }

// Fingerprint is the CRC-64-AVRO of the schema's Parsing Canonical Form,
// little-endian, as single-object encoding carries it.
func (s *Schema) Fingerprint() [8]byte { return s.fp }

// Earlier are the texts of the schema's earlier versions, oldest first.
func (s *Schema) Earlier() []string { return s.earlier }

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
	s.writers = map[[8]byte]*avro.Schema{}
	for v := 1; ; v++ {
		old, err := files.ReadFile(fmt.Sprintf("versions/%s.v%d.avsc", name, v))
		if err != nil {
			break
		}
		w, err := avro.Parse(string(old))
		if err != nil {
			return nil, fmt.Errorf("schemas: versions/%s.v%d.avsc: %w", name, v, err)
		}
		r, err := avro.Resolve(w, s.avro)
		if err != nil {
			return nil, fmt.Errorf("schemas: %s.avsc cannot read its version %d: %w", name, v, err)
		}
		s.writers[fingerprint(w)] = r
		s.earlier = append(s.earlier, string(old))
	}
	return s, nil
}

// Parse parses a canonical schema from its text, without earlier
// versions: a schema under development, or one a test changes.
func Parse(text []byte) (*Schema, error) { return parse(text) }

// fingerprint is a schema's single-object fingerprint.
func fingerprint(s *avro.Schema) (fp [8]byte) {
	h := avro.NewRabin()
	h.Write(s.Canonical())
	binary.LittleEndian.PutUint64(fp[:], h.Sum64())
	return fp
}

// Names lists the embedded schemas.
func Names() []string {
	paths, _ := fs.Glob(files, "*.avsc")
	var names []string
	for _, p := range paths {
		names = append(names, strings.TrimSuffix(p, ".avsc"))
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
	Type        string          `json:"type"`
	Name        string          `json:"name"`
	Namespace   string          `json:"namespace"`
	LogicalType string          `json:"logicalType"`
	Precision   int             `json:"precision"`
	Scale       int             `json:"scale"`
	Fields      []avscField     `json:"fields"`
	Items       json.RawMessage `json:"items"`
}

func parse(text []byte) (*Schema, error) {
	var doc struct {
		Name      string      `json:"name"`
		Namespace string      `json:"namespace"`
		Key       string      `json:"key"`
		Version   string      `json:"version"`
		Fields    []avscField `json:"fields"`
	}
	if err := json.Unmarshal(text, &doc); err != nil {
		return nil, err
	}
	codec, err := avro.Parse(string(text))
	if err != nil {
		return nil, err
	}
	s := &Schema{Name: doc.Name, Key: doc.Key, Version: doc.Version, text: string(text), avro: codec, fp: fingerprint(codec)}
	if s.Fields, err = parseFields(doc.Fields, doc.Namespace); err != nil {
		return nil, err
	}
	if k := s.Field(s.Key); k == nil || k.Nullable || (k.Kind != Long && k.Kind != Int && k.Kind != String) {
		return nil, fmt.Errorf("key %q must be a required long, int or string field", s.Key)
	}
	if v := s.Field(s.Version); s.Version != "" && (v == nil || v.Kind != Timestamp || v.Nullable) {
		return nil, fmt.Errorf("version %q must be a required timestamp field", s.Version)
	}
	return s, nil
}

func parseFields(afs []avscField, namespace string) ([]Field, error) {
	var out []Field
	for _, af := range afs {
		f, err := parseType(af.Type, namespace)
		if err != nil {
			return nil, fmt.Errorf("field %s: %w", af.Name, err)
		}
		f.Name, f.Doc, f.SQLType = af.Name, af.Doc, af.SQLType
		out = append(out, f)
	}
	return out, nil
}

// parseType reads an Avro type: a name, a ["null", T] union, or an object.
func parseType(typ json.RawMessage, namespace string) (Field, error) {
	var f Field
	var union []json.RawMessage
	if json.Unmarshal(typ, &union) == nil {
		if len(union) != 2 || string(union[0]) != `"null"` {
			return f, errors.New(`only ["null", T] unions are canonical`)
		}
		f, err := parseType(union[1], namespace)
		f.Nullable = true
		return f, err
	}
	var t avscType
	if json.Unmarshal(typ, &t.Type) != nil {
		if err := json.Unmarshal(typ, &t); err != nil {
			return f, err
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
	case t.Type == "record":
		if t.Namespace != "" {
			namespace = t.Namespace
		}
		fields, err := parseFields(t.Fields, namespace)
		if err != nil {
			return f, err
		}
		f.Kind, f.Fields, f.TypeName = Record, fields, t.Name
		if namespace != "" && !strings.Contains(t.Name, ".") {
			f.TypeName = namespace + "." + t.Name
		}
	case t.Type == "array":
		items, err := parseType(t.Items, namespace)
		if err != nil {
			return f, fmt.Errorf("items: %w", err)
		}
		f.Kind, f.Items = Array, &items
	default:
		return f, fmt.Errorf("type %s is not canonical", typ)
	}
	return f, nil
}

// CheckColumns checks a table's columns against the schema: each names a
// field, none twice, and the key and the version are among them.
func (s *Schema) CheckColumns(columns []string) error {
	seen := make(map[string]bool, len(columns))
	for _, c := range columns {
		if s.Field(c) == nil {
			return fmt.Errorf("column %q is not a field of %s", c, s.Name)
		}
		if seen[c] {
			return fmt.Errorf("column %q listed twice", c)
		}
		seen[c] = true
	}
	if !seen[s.Key] {
		return fmt.Errorf("the columns lack the key %q", s.Key)
	}
	if s.Version != "" && !seen[s.Version] {
		return fmt.Errorf("the columns lack the version %q", s.Version)
	}
	return nil
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
	native, err := toNative(s.Fields, rec)
	if err != nil {
		return nil, fmt.Errorf("encode %s: %w", s.Name, err)
	}
	b, err := s.avro.AppendSingleObject(nil, native)
	if err != nil {
		return nil, fmt.Errorf("encode %s: %w", s.Name, err)
	}
	return b, nil
}

func toNative(fields []Field, rec map[string]any) (map[string]any, error) {
	native := make(map[string]any, len(fields))
	for _, f := range fields {
		v, err := f.toNative(rec[f.Name])
		if err != nil {
			return nil, err
		}
		native[f.Name] = v
	}
	return native, nil
}

func (f Field) toNative(v any) (any, error) {
	if v == nil {
		if !f.Nullable {
			return nil, fmt.Errorf("%s is required", f.Name)
		}
		return nil, nil
	}
	switch f.Kind {
	case Record:
		m, ok := v.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("%s is %T, want a record", f.Name, v)
		}
		sub, err := toNative(f.Fields, m)
		if err != nil {
			return nil, fmt.Errorf("%s.%w", f.Name, err)
		}
		v = sub
	case Array:
		xs, ok := v.([]any)
		if !ok {
			return nil, fmt.Errorf("%s is %T, want an array", f.Name, v)
		}
		out := make([]any, len(xs))
		for i, x := range xs {
			item := *f.Items
			item.Name = fmt.Sprintf("%s[%d]", f.Name, i)
			n, err := item.toNative(x)
			if err != nil {
				return nil, err
			}
			out[i] = n
		}
		v = out
	}
	return v, nil
}

// Binary renders a plain record as the Avro binary body alone, without a
// header: the body of a registry's wire format.
func (s *Schema) Binary(rec map[string]any) ([]byte, error) {
	native, err := toNative(s.Fields, rec)
	if err != nil {
		return nil, fmt.Errorf("encode %s: %w", s.Name, err)
	}
	b, err := s.avro.Encode(native)
	if err != nil {
		return nil, fmt.Errorf("encode %s: %w", s.Name, err)
	}
	return b, nil
}

// Reader returns a decoder of binary bodies written under writer (an Avro
// schema's JSON, as a registry returns it by id) into plain records of
// this schema. It fails when this schema cannot read what writer wrote.
func (s *Schema) Reader(writer string) (func(body []byte) (map[string]any, error), error) {
	w, err := avro.Parse(writer)
	if err != nil {
		return nil, fmt.Errorf("%s: writer schema: %w", s.Name, err)
	}
	codec := s.avro
	if fingerprint(w) != s.fp {
		if codec, err = avro.Resolve(w, s.avro); err != nil {
			return nil, fmt.Errorf("%s cannot read what its writer schema wrote: %w", s.Name, err)
		}
	}
	return func(body []byte) (map[string]any, error) {
		var m map[string]any
		if _, err := codec.Decode(body, &m); err != nil {
			return nil, fmt.Errorf("decode %s: %w", s.Name, err)
		}
		if err := fromNative(s.Fields, m); err != nil {
			return nil, fmt.Errorf("decode %s: %w", s.Name, err)
		}
		return m, nil
	}, nil
}

// Decode parses a single-object encoded message, written under this
// schema or one of its earlier versions, into a plain record of this one.
func (s *Schema) Decode(b []byte) (map[string]any, error) {
	fp, body, err := avro.SingleObjectFingerprint(b)
	if err != nil {
		return nil, fmt.Errorf("decode %s: %w", s.Name, err)
	}
	codec := s.avro
	if fp != s.fp {
		if codec = s.writers[fp]; codec == nil {
			return nil, fmt.Errorf("decode %s: written under a schema ferry does not know (fingerprint %x)", s.Name, fp)
		}
	}
	var m map[string]any
	if _, err := codec.Decode(body, &m); err != nil {
		return nil, fmt.Errorf("decode %s: %w", s.Name, err)
	}
	if err := fromNative(s.Fields, m); err != nil {
		return nil, fmt.Errorf("decode %s: %w", s.Name, err)
	}
	return m, nil
}

// fromNative turns what the Avro decoder made into a plain record, and
// refuses what the schema does not allow but the encoding can carry: a
// decimal of more digits than its precision.
func fromNative(fields []Field, m map[string]any) error {
	for _, f := range fields {
		v, err := f.fromNative(m[f.Name])
		if err != nil {
			return fmt.Errorf("field %s: %w", f.Name, err)
		}
		m[f.Name] = v
	}
	return nil
}

func (f Field) fromNative(v any) (any, error) {
	switch x := v.(type) {
	case time.Time:
		return x.UTC(), nil
	case *big.Rat:
		if f.Kind == Decimal && f.Precision > 0 {
			unscaled := new(big.Rat).Mul(x, new(big.Rat).SetInt(new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(f.Scale)), nil)))
			if n := len(new(big.Int).Abs(unscaled.Num()).String()); unscaled.IsInt() && n > f.Precision {
				return nil, fmt.Errorf("a decimal of %d digits, more than its precision %d", n, f.Precision)
			}
		}
	case map[string]any:
		if f.Kind == Record {
			if err := fromNative(f.Fields, x); err != nil {
				return nil, err
			}
		}
	case []any:
		if f.Kind == Array {
			for i := range x {
				var err error
				if x[i], err = f.Items.fromNative(x[i]); err != nil {
					return nil, fmt.Errorf("item %d: %w", i, err)
				}
			}
		}
	}
	return v, nil
}

// Rat is a convenience for literal decimals in tests and examples.
func Rat(s string) *big.Rat {
	r, ok := new(big.Rat).SetString(s)
	if !ok {
		panic("schemas.Rat: bad decimal " + s)
	}
	return r
}

// Identify returns the shipped schema whose current or earlier version
// wrote a single-object encoded message, and which version (0 for the
// current one).
func Identify(b []byte) (*Schema, int, error) {
	fp, _, err := avro.SingleObjectFingerprint(b)
	if err != nil {
		return nil, 0, err
	}
	for _, name := range Names() {
		s, err := Load(name)
		if err != nil {
			return nil, 0, err
		}
		if s.fp == fp {
			return s, 0, nil
		}
		for v, text := range s.earlier {
			w, err := avro.Parse(text)
			if err == nil && fingerprint(w) == fp {
				return s, v + 1, nil
			}
		}
	}
	return nil, 0, fmt.Errorf("no shipped schema has fingerprint %x", fp)
}

// JSON returns a plain record as JSON-friendly values: decimals as
// strings at the field's scale, timestamps in RFC 3339 (UTC).
func (s *Schema) JSON(rec map[string]any) map[string]any {
	return jsonRecord(s.Fields, rec)
}

func jsonRecord(fields []Field, rec map[string]any) map[string]any {
	out := make(map[string]any, len(fields))
	for _, f := range fields {
		out[f.Name] = f.json(rec[f.Name])
	}
	return out
}

func (f Field) json(v any) any {
	switch x := v.(type) {
	case *big.Rat:
		return x.FloatString(f.Scale)
	case time.Time:
		return x.UTC().Format(time.RFC3339Nano)
	case map[string]any:
		if f.Kind == Record {
			return jsonRecord(f.Fields, x)
		}
	case []any:
		if f.Kind == Array {
			out := make([]any, len(x))
			for i := range x {
				out[i] = f.Items.json(x[i])
			}
			return out
		}
	}
	return v
}
