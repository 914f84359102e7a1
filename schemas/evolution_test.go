package schemas_test

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twmb/avro"

	"github.com/ferry-data/ferry/schemas"
)

// canonical is the Parsing Canonical Form of an Avro schema, written here
// from the specification alone ("Transforming into Parsing Canonical
// Form"), to check the codec's against.
func canonical(t *testing.T, text []byte) []byte {
	t.Helper()
	var v any
	if err := json.Unmarshal(text, &v); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	writeCanonical(&buf, v, "")
	return buf.Bytes()
}

var primitives = []string{"null", "boolean", "int", "long", "float", "double", "bytes", "string"}

func fullname(name, namespace string) string {
	if strings.Contains(name, ".") || namespace == "" {
		return name
	}
	return namespace + "." + name
}

func writeCanonical(buf *bytes.Buffer, v any, namespace string) {
	str := func(s string) { b, _ := json.Marshal(s); buf.Write(b) }
	switch x := v.(type) {
	case string: // [PRIMITIVES], [FULLNAMES]
		if slices.Contains(primitives, x) {
			str(x)
		} else {
			str(fullname(x, namespace))
		}
	case []any: // a union
		buf.WriteByte('[')
		for i, b := range x {
			if i > 0 {
				buf.WriteByte(',')
			}
			writeCanonical(buf, b, namespace)
		}
		buf.WriteByte(']')
	case map[string]any:
		typ, _ := x["type"].(string)
		switch typ {
		case "record", "error", "enum", "fixed":
			name := x["name"].(string)
			if ns, ok := x["namespace"].(string); ok && !strings.Contains(name, ".") {
				namespace = ns
			}
			full := fullname(name, namespace)
			if i := strings.LastIndex(full, "."); i >= 0 {
				namespace = full[:i]
			}
			// [STRIP], [ORDER]: name, type, fields, symbols, size.
			buf.WriteString(`{"name":`)
			str(full)
			buf.WriteString(`,"type":`)
			str(typ)
			if fields, ok := x["fields"].([]any); ok {
				buf.WriteString(`,"fields":[`)
				for i, f := range fields {
					if i > 0 {
						buf.WriteByte(',')
					}
					fm := f.(map[string]any)
					buf.WriteString(`{"name":`)
					str(fm["name"].(string))
					buf.WriteString(`,"type":`)
					writeCanonical(buf, fm["type"], namespace)
					buf.WriteByte('}')
				}
				buf.WriteByte(']')
			}
			if size, ok := x["size"].(float64); ok { // [INTEGERS]
				fmt.Fprintf(buf, `,"size":%d`, int64(size))
			}
			buf.WriteByte('}')
		case "array":
			buf.WriteString(`{"type":"array","items":`)
			writeCanonical(buf, x["items"], namespace)
			buf.WriteByte('}')
		case "map":
			buf.WriteString(`{"type":"map","values":`)
			writeCanonical(buf, x["values"], namespace)
			buf.WriteByte('}')
		default: // a primitive with attributes, logical types among them
			writeCanonical(buf, typ, namespace)
		}
	}
}

// crc64avro is the specification's reference fingerprint.
func crc64avro(b []byte) [8]byte {
	const empty = 0xc15d213aa4d7a795
	var table [256]uint64
	for i := range table {
		fp := uint64(i)
		for range 8 {
			fp = (fp >> 1) ^ (empty & -(fp & 1))
		}
		table[i] = fp
	}
	fp := uint64(empty)
	for _, c := range b {
		fp = (fp >> 8) ^ table[byte(fp)^c]
	}
	var out [8]byte
	binary.LittleEndian.PutUint64(out[:], fp)
	return out
}

// TestFingerprintsFollowTheSpec: every shipped schema and every earlier
// version carries, in its single-object header, the CRC-64-AVRO of the
// Parsing Canonical Form the specification defines, with logical types
// stripped; refund's is the value the issue that found goavro's wrong one
// computed independently.
func TestFingerprintsFollowTheSpec(t *testing.T) {
	paths, _ := filepath.Glob("*.avsc")
	old, _ := filepath.Glob("versions/*.avsc")
	for _, path := range append(paths, old...) {
		text, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		w, err := avro.Parse(string(text))
		if err != nil {
			t.Fatal(err)
		}
		if want, got := string(canonical(t, text)), string(w.Canonical()); got != want {
			t.Errorf("%s: canonical form\n got  %s\n want %s", path, got, want)
		}
		if !strings.HasPrefix(path, "versions/") {
			s, err := schemas.Load(strings.TrimSuffix(path, ".avsc"))
			if err != nil {
				t.Fatal(err)
			}
			want := crc64avro(canonical(t, text))
			if s.Fingerprint() != want {
				t.Errorf("%s: fingerprint %x, want %x", path, s.Fingerprint(), want)
			}
			b, err := s.Encode(sample(s))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(b[:10], append([]byte{0xc3, 0x01}, want[:]...)) {
				t.Errorf("%s: header % x, want c3 01 % x", path, b[:10], want)
			}
		}
	}
	refund, _ := schemas.Load("refund")
	if fp := refund.Fingerprint(); hex.EncodeToString(fp[:]) != "c34893e41c3319ad" {
		t.Errorf("refund fingerprint %x, want c34893e41c3319ad", fp)
	}
}

// TestEarlierVersionsDecode: an order written under its first version
// (before shop_id) decodes into the current one, shop_id null.
func TestEarlierVersionsDecode(t *testing.T) {
	text, err := fs.ReadFile(os.DirFS("."), "versions/order.v1.avsc")
	if err != nil {
		t.Fatal(err)
	}
	v1, err := avro.Parse(string(text))
	if err != nil {
		t.Fatal(err)
	}
	b, err := v1.AppendSingleObject(nil, map[string]any{"id": "3001", "name": "张三", "date": "20231001",
		"amount": schemas.Rat("150.75"), "modified": time.Date(2023, 10, 1, 4, 0, 0, 0, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	order, err := schemas.Load("order")
	if err != nil {
		t.Fatal(err)
	}
	rec, err := order.Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	if rec["id"] != "3001" || rec["name"] != "张三" || rec["shop_id"] != nil || len(order.Earlier()) != 1 {
		t.Fatalf("decoded %v", rec)
	}
	if _, err := order.Decode(append([]byte{0xc3, 0x01, 1, 2, 3, 4, 5, 6, 7, 8}, b[10:]...)); err == nil ||
		!strings.Contains(err.Error(), "written under a schema ferry does not know (fingerprint 0102030405060708)") {
		t.Fatalf("unknown writer: %v", err)
	}
}

// TestSchemasEvolveCompatibly: every schema reads everything its earlier
// versions wrote (BACKWARD, transitively).
func TestSchemasEvolveCompatibly(t *testing.T) {
	for _, name := range schemas.Names() {
		s, err := schemas.Load(name)
		if err != nil {
			t.Fatal(err)
		}
		reader, err := avro.Parse(s.Text())
		if err != nil {
			t.Fatal(err)
		}
		for i, old := range s.Earlier() {
			writer, err := avro.Parse(old)
			if err != nil {
				t.Fatal(err)
			}
			if err := avro.CheckCompatibility(writer, reader); err != nil {
				t.Errorf("%s cannot read its version %d: %v", name, i+1, err)
			}
		}
	}
}
