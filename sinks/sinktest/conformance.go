// Package sinktest is the conformance suite every sink writer passes,
// whatever its target: what a sink counts on when Kafka hands a writer the
// same records again after a crash or a rebuild, records out of order
// across a replay, and tombstones.
package sinktest

import (
	"context"
	"maps"
	"testing"
)

// Case is one writer on a target the test can read back.
type Case struct {
	// Write hands the writer records as a sink does, in order.
	Write func(ctx context.Context, recs []map[string]any) error
	// Delete hands it tombstones' keys; nil for a target that cannot
	// delete, whose sink logs and skips them.
	Delete func(ctx context.Context, keys []any) error
	// State reads what the target holds: by key, the version it shows.
	State func(ctx context.Context) (map[string]string, error)
	// Record is the canonical record of key at version v, and Key its key
	// as a tombstone names it. Versions grow with time.
	Record func(key, v int) map[string]any
	Key    func(key int) any
	// Versioned targets keep a record's newest version whatever order
	// versions come in (a guarded upsert). On the others the last write
	// wins, and Kafka's per-key order makes it the newest.
	Versioned bool
}

func state(t *testing.T, c Case) map[string]string {
	t.Helper()
	s, err := c.State(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func write(t *testing.T, c Case, recs ...map[string]any) {
	t.Helper()
	if err := c.Write(context.Background(), recs); err != nil {
		t.Fatal(err)
	}
}

// Run runs the suite: idempotent replay, older versions, and, for a
// target that deletes, tombstones. Each test starts from an empty target
// that fresh makes.
func Run(t *testing.T, fresh func(t *testing.T) Case) {
	t.Run("idempotent replay", func(t *testing.T) {
		c := fresh(t)
		batch := []map[string]any{c.Record(1, 1), c.Record(2, 1), c.Record(1, 2), c.Record(3, 1)}
		write(t, c, batch...)
		once := state(t, c)
		if len(once) != 3 {
			t.Fatalf("after one batch the target holds %v, want 3 keys", once)
		}
		write(t, c, batch...)
		if twice := state(t, c); !maps.Equal(once, twice) {
			t.Fatalf("a replayed batch changed the target: %v, then %v", once, twice)
		}
	})
	t.Run("older version ignored", func(t *testing.T) {
		c := fresh(t)
		write(t, c, c.Record(1, 1), c.Record(1, 2))
		want := state(t, c)
		if c.Versioned {
			// A replay from an earlier position: the older version comes
			// after the newer one was applied.
			write(t, c, c.Record(1, 1))
		} else {
			// The last write wins: a replay hands every version again,
			// in order, and ends on the newest.
			write(t, c, c.Record(1, 1), c.Record(1, 2))
		}
		if got := state(t, c); !maps.Equal(got, want) {
			t.Fatalf("after an older version the target shows %v, want %v", got, want)
		}
	})
	if fresh(t).Delete == nil {
		return // the target cannot delete; its sink skips tombstones
	}
	t.Run("tombstones", func(t *testing.T) {
		c := fresh(t)
		write(t, c, c.Record(1, 1), c.Record(2, 1))
		before := state(t, c)
		if err := c.Delete(context.Background(), []any{c.Key(1)}); err != nil {
			t.Fatal(err)
		}
		if err := c.Delete(context.Background(), []any{c.Key(1)}); err != nil {
			t.Fatalf("a replayed tombstone: %v", err)
		}
		after := state(t, c)
		if _, ok := after["1"]; ok || len(after) != len(before)-1 {
			t.Fatalf("after a tombstone of key 1: %v (before %v)", after, before)
		}
		// The key lives again with a newer version.
		write(t, c, c.Record(1, 3))
		if got := state(t, c); got["1"] == "" {
			t.Fatalf("a version newer than the tombstone did not land: %v", got)
		}
	})
}
