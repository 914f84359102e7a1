package processors

import "testing"

func TestState(t *testing.T) {
	st := newState(0)
	v := func(stamp int64, hash uint64) version { return version{stamp: stamp, hash: hash} }
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
	if st.seen("a", v(11, 2)) || st.len() != 1 {
		t.Errorf("after forget: %d keys", st.len())
	}
}

// When two keys share an entry's hash but not its check, the newcomer is
// never taken for a duplicate.
func TestStateHashCollisionIsNeverADuplicate(t *testing.T) {
	st := newState(0)
	st.set("a", version{stamp: 100, hash: 1})
	k, _ := keyHashes("b")
	ka, _ := keyHashes("a")
	st.m[k] = st.m[ka] // "b" now finds "a"'s entry under its hash
	if st.seen("b", version{stamp: 50, hash: 1}) {
		t.Fatal("a colliding key was taken for a duplicate")
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
