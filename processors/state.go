package processors

import (
	"encoding/binary"

	"github.com/cespare/xxhash/v2"
)

// version is what dedupe compares: the record's version stamp and a hash
// of its canonical encoding.
type version struct {
	stamp int64  // version field, epoch ms
	hash  uint64 // FNV-64a of the canonical encoding
}

// encode is the changelog value of a version: stamp and hash, big-endian.
func (v version) encode() []byte {
	b := make([]byte, 16)
	binary.BigEndian.PutUint64(b, uint64(v.stamp))
	binary.BigEndian.PutUint64(b[8:], v.hash)
	return b
}

// decodeVersion reads a changelog value; ok is false for a tombstone or a
// value of another form.
func decodeVersion(b []byte) (v version, ok bool) {
	if len(b) != 16 {
		return v, false
	}
	return version{stamp: int64(binary.BigEndian.Uint64(b)), hash: binary.BigEndian.Uint64(b[8:])}, true
}

// state is the dedupe state of one raw partition: the newest version
// emitted for each canonical key whose records arrive there.
//
// It is kept small: a key is stored as its 64-bit xxhash, with a 32-bit
// FNV check and the version (stamp and 32 bits of the content hash) in a
// 16-byte entry, 24 bytes a slot. Two keys whose hash and check both
// collide (about one chance in 2^96 per pair) would share an entry; when
// only the hash collides, the check tells them apart, and the newcomer
// simply replaces the entry: at worst a record is emitted twice, never
// dropped. A changed record that keeps its stamp is told apart by the
// content hash, to one chance in 2^32.
type state struct {
	m map[uint64]entry
}

type entry struct {
	stamp int64
	hash  uint32
	check uint32
}

func newState(size int) *state { return &state{m: make(map[uint64]entry, size)} }

// keyHashes are a key's xxhash and its FNV-1a check.
func keyHashes(key string) (uint64, uint32) {
	check := uint32(2166136261)
	for i := 0; i < len(key); i++ {
		check ^= uint32(key[i])
		check *= 16777619
	}
	return xxhash.Sum64String(key), check
}

// seen reports whether a record of key at version v is not news: the key
// was emitted at a newer version, or at this very version and content.
func (s *state) seen(key string, v version) bool {
	k, check := keyHashes(key)
	e, ok := s.m[k]
	if !ok || e.check != check {
		return false
	}
	return v.stamp < e.stamp || (v.stamp == e.stamp && uint32(v.hash) == e.hash)
}

// set records that key was emitted at version v.
func (s *state) set(key string, v version) {
	k, check := keyHashes(key)
	s.m[k] = entry{stamp: v.stamp, hash: uint32(v.hash), check: check}
}

// forget drops a key (its changelog tombstone).
func (s *state) forget(key string) {
	k, check := keyHashes(key)
	if e, ok := s.m[k]; ok && e.check == check {
		delete(s.m, k)
	}
}

func (s *state) len() int { return len(s.m) }
