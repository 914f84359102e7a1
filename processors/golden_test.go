package processors_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ferry-data/ferry/flows"
	"github.com/ferry-data/ferry/processors"
	"github.com/ferry-data/ferry/schemas"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// TestGoldenTransformations runs each shipped flow's processor over raw
// records as its vendor sends them (testdata/<flow>.raw.json) and compares
// the canonical records, round-tripped through Avro, with
// testdata/<flow>.golden.json. go test -update rewrites the golden files.
func TestGoldenTransformations(t *testing.T) {
	shipped, err := flows.Shipped()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range shipped {
		t.Run(f.Name, func(t *testing.T) {
			var raws []json.RawMessage
			data, err := os.ReadFile(filepath.Join("testdata", f.Name+".raw.json"))
			if err != nil {
				t.Fatalf("every shipped flow needs raw samples: %v", err)
			}
			if err := json.Unmarshal(data, &raws); err != nil {
				t.Fatal(err)
			}
			s, err := schemas.Load(f.Processor.Entity)
			if err != nil {
				t.Fatal(err)
			}
			var out []any
			for _, raw := range raws {
				rec, keep, err := processors.Map(s, &f.Processor, raw)
				switch {
				case err != nil:
					out = append(out, "refused: "+err.Error())
				case !keep:
					out = append(out, "filtered")
				default:
					b, err := s.Encode(rec)
					if err != nil {
						t.Fatal(err)
					}
					back, err := s.Decode(b)
					if err != nil {
						t.Fatal(err)
					}
					out = append(out, render(back))
				}
			}
			got, err := json.MarshalIndent(out, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, '\n')
			path := filepath.Join("testdata", f.Name+".golden.json")
			if *update {
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test -update to write it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("%s differs from what the flow makes now:\n%s", path, got)
			}
		})
	}
}

// render turns a plain record into JSON-friendly values: times in RFC 3339
// (UTC), decimals as exact text.
func render(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := map[string]any{}
		for k, e := range x {
			out[k] = render(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = render(e)
		}
		return out
	case time.Time:
		return x.UTC().Format(time.RFC3339Nano)
	case *big.Rat:
		s := x.FloatString(4)
		return strings.TrimSuffix(strings.TrimRight(s, "0"), ".")
	}
	return v
}
