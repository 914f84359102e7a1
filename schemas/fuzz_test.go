package schemas_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/ferry-data/ferry/flows"
	"github.com/ferry-data/ferry/processors"
	"github.com/ferry-data/ferry/schemas"
)

// FuzzDecode feeds canonical topic records to every schema's decoder, from
// the records the shipped flows make of their sandboxes' samples on:
// whatever the bytes, a record decodes, and encodes again, or is refused
// with an error (a sink dead-letters it); nothing panics.
func FuzzDecode(f *testing.F) {
	names := schemas.Names()
	ss := make([]*schemas.Schema, len(names))
	for i, n := range names {
		s, err := schemas.Load(n)
		if err != nil {
			f.Fatal(err)
		}
		ss[i] = s
	}
	shipped, err := flows.Shipped()
	if err != nil {
		f.Fatal(err)
	}
	for _, fl := range shipped {
		s, err := schemas.Load(fl.Processor.Entity)
		if err != nil {
			f.Fatal(err)
		}
		data, err := os.ReadFile(filepath.Join("..", "processors", "testdata", fl.Name+".raw.json"))
		if err != nil {
			f.Fatal(err)
		}
		var raws []json.RawMessage
		if err := json.Unmarshal(data, &raws); err != nil {
			f.Fatal(err)
		}
		for _, r := range raws {
			rec, keep, err := processors.Map(s, &fl.Processor, r)
			if err != nil || !keep {
				continue
			}
			b, err := s.Encode(rec)
			if err != nil {
				f.Fatal(err)
			}
			for i, n := range names {
				if n == s.Name {
					f.Add(uint8(i), b)
				}
			}
		}
	}
	f.Fuzz(func(t *testing.T, schema uint8, b []byte) {
		s := ss[int(schema)%len(ss)]
		rec, err := s.Decode(b)
		if err != nil {
			return
		}
		if _, err := s.Encode(rec); err != nil {
			t.Fatalf("%s: a decoded record that does not encode again: %v", s.Name, err)
		}
	})
}
