package processors

import (
	"bytes"
	"testing"
)

// FuzzDecodeVersion feeds dedupe changelog values to the reader that
// restores a partition's state: it reads a version or skips the value; it
// never panics, and what it reads encodes back to the same value.
func FuzzDecodeVersion(f *testing.F) {
	f.Add(version{stamp: 1709294280000, hash: 0xfeedface}.encode())
	f.Add([]byte(nil))
	f.Add([]byte("not a version"))
	f.Fuzz(func(t *testing.T, b []byte) {
		v, ok := decodeVersion(b)
		if ok && !bytes.Equal(v.encode(), b) {
			t.Fatalf("%x read as %+v, which encodes to %x", b, v, v.encode())
		}
	})
}
