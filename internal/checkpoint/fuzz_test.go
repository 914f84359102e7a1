package checkpoint_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/ferry-data/ferry/internal/checkpoint"
)

// FuzzDecode feeds ferry.checkpoints values to the store's reader: it
// reads a checkpoint with an end, or skips the value; it never panics, and
// what it reads encodes back to a checkpoint it reads the same.
func FuzzDecode(f *testing.F) {
	c := checkpoint.Checkpoint{Flow: "wdt_refunds", End: time.Date(2024, 3, 1, 11, 58, 0, 0, time.UTC), At: time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)}
	b, _ := json.Marshal(c)
	f.Add(b)
	f.Add([]byte(`{"flow":"x","end":"not a time"}`))
	f.Add([]byte(nil))
	f.Fuzz(func(t *testing.T, value []byte) {
		c, ok := checkpoint.Decode(value)
		if !ok {
			return
		}
		if c.End.IsZero() {
			t.Fatal("a checkpoint without an end")
		}
		b, err := json.Marshal(c)
		if err != nil {
			t.Fatalf("a checkpoint that does not encode: %v", err)
		}
		if again, ok := checkpoint.Decode(b); !ok || !again.End.Equal(c.End) {
			t.Fatalf("read %+v, then %+v", c, again)
		}
	})
}
