package processors

import (
	"fmt"
	"testing"
)

func TestState(t *testing.T) {
	st := newState(0)
	v := func(stamp int64, hash uint64) version { return version{stamp: stampBase + stamp, hash: hash} }
	for _, tc := range []struct {
		name string
		key  string
		v    version
		seen bool
	}{
		{"new key", "a", v(10, 1), false},
		{"same version and content", "a", v(10, 1), true},
		{"older", "a", v(9, 7), true},
		{"same stamp, other content", "a", v(10, 2), false},
		{"newer", "a", v(11, 2), false},
		{"other key", "b", v(1, 1), false},
	} {
		if got := st.seen(tc.key, tc.v); got != tc.seen {
			t.Errorf("%s: seen %v, want %v", tc.name, got, tc.seen)
		}
		if !tc.seen {
			st.set(tc.key, tc.v)
		}
	}
	st.forget("a")
	if st.seen("a", v(11, 2)) {
		t.Error("a forgotten key was seen")
	}
}

// When another key takes the slot of a key's hash (the hashes collide, the
// checks do not), the key is never taken for a duplicate.
func TestStateHashCollisionIsNeverADuplicate(t *testing.T) {
	st := newState(0)
	st.set("a", version{stamp: stampBase + 100, hash: 1})
	h, check := keyHashes("a")
	st.put(h, check^1, pack(version{stamp: stampBase + 200, hash: 1})) // another key, same hash
	if st.seen("a", version{stamp: stampBase + 100, hash: 1}) {
		t.Fatal("a colliding key was taken for a duplicate")
	}
}

func TestStateGrows(t *testing.T) {
	st := newState(0)
	for i := range 10_000 {
		st.set(fmt.Sprint(i), version{stamp: stampBase + int64(i), hash: uint64(i)})
	}
	if st.len() != 10_000 || len(st.hashes) != 16384 { // 8 doubled until 10k keys fit under 80%
		t.Fatalf("%d keys in %d slots", st.len(), len(st.hashes))
	}
	for i := range 10_000 {
		k := fmt.Sprint(i)
		if !st.seen(k, version{stamp: stampBase + int64(i), hash: uint64(i)}) || st.seen(k, version{stamp: stampBase + int64(i) + 1}) {
			t.Fatalf("key %s", k)
		}
	}
	if sized := newState(10_000); len(sized.hashes) != 12_501 {
		t.Fatalf("a state sized for 10k keys has %d slots", len(sized.hashes))
	}
}

func TestVersionEncoding(t *testing.T) {
	v := version{stamp: 1709290000000, hash: 0xdeadbeefcafe}
	got, ok := decodeVersion(v.encode())
	if !ok || got != v {
		t.Fatalf("%+v %v", got, ok)
	}
	if _, ok := decodeVersion(nil); ok {
		t.Fatal("a tombstone decoded")
	}
}

func TestDuplicate(t *testing.T) {
	const at = 1709290000000
	for _, c := range []struct {
		name        string
		stamp       int64
		hash        uint64
		isDuplicate bool
	}{
		{"the same version", at, 7, true},
		{"an older stamp", at - 1, 9, true},
		{"a newer stamp", at + 1, 7, false},
		{"the same stamp, other content", at, 8, false},
	} {
		if got := Duplicate(at, 7, c.stamp, c.hash); got != c.isDuplicate {
			t.Errorf("%s: Duplicate = %v", c.name, got)
		}
	}
}
