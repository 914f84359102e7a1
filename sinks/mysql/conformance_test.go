package mysql_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	sink "github.com/ferry-data/ferry/sinks/mysql"
	"github.com/ferry-data/ferry/sinks/sinktest"
)

// TestConformance runs the suite every sink writer passes, on MariaDB and
// on the embedded database.
func TestConformance(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			db := b.open(t)
			n := 0
			sinktest.Run(t, func(t *testing.T) sinktest.Case {
				n++
				table := fmt.Sprintf("conformance_%d", n)
				w := newWriter(t, db, table, sink.Config{Zone: time.UTC})
				return sinktest.Case{
					Write:  w.Write,
					Delete: w.Delete,
					State: func(ctx context.Context) (map[string]string, error) {
						out := map[string]string{}
						for _, row := range dump(t, db, table, "id", "s") {
							id, s, _ := strings.Cut(row, "|")
							out[id] = s
						}
						return out, nil
					},
					Record:    func(key, v int) map[string]any { return rec(int64(key), v, fmt.Sprintf("v%d", v)) },
					Key:       func(key int) any { return int64(key) },
					Versioned: true,
				}
			})
		})
	}
}
