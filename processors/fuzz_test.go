package processors_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/ferry-data/ferry/flows"
	"github.com/ferry-data/ferry/processors"
	"github.com/ferry-data/ferry/schemas"
)

// FuzzMap feeds raw records to every shipped flow's mapping, from the
// records each vendor's sandbox sends (testdata/<flow>.raw.json) on:
// whatever the record, the mapping refuses it (for the dead-letter topic),
// filters it, or makes a canonical record its schema encodes and decodes
// again; it never panics.
func FuzzMap(f *testing.F) {
	shipped, err := flows.Shipped()
	if err != nil {
		f.Fatal(err)
	}
	schemaOf := make([]*schemas.Schema, len(shipped))
	for i, fl := range shipped {
		if schemaOf[i], err = schemas.Load(fl.Processor.Entity); err != nil {
			f.Fatal(err)
		}
		data, err := os.ReadFile(filepath.Join("testdata", fl.Name+".raw.json"))
		if err != nil {
			f.Fatal(err)
		}
		var raws []json.RawMessage
		if err := json.Unmarshal(data, &raws); err != nil {
			f.Fatal(err)
		}
		for _, r := range raws {
			f.Add(uint8(i), []byte(r))
		}
	}
	f.Fuzz(func(t *testing.T, flow uint8, raw []byte) {
		i := int(flow) % len(shipped)
		rec, keep, err := processors.Map(schemaOf[i], &shipped[i].Processor, raw)
		if err != nil || !keep {
			return
		}
		b, err := schemaOf[i].Encode(rec)
		if err != nil {
			t.Fatalf("%s: a mapped record the schema cannot encode: %v", shipped[i].Name, err)
		}
		if _, err := schemaOf[i].Decode(b); err != nil {
			t.Fatalf("%s: an encoded record that does not decode: %v", shipped[i].Name, err)
		}
	})
}
