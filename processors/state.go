package processors

import (
	"encoding/binary"
	"math/bits"

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
// It is an open-addressing table kept small, 20 bytes a slot: a key is
// stored as its 64-bit xxhash with a 32-bit FNV check, and its version in
// 64 bits: the stamp's milliseconds since 2020 in 40 bits (until 2054;
// earlier stamps count as 2020) and 24 bits of the content hash. Tables
// grow by doubling at 80% load, so a key costs 25 to 50 bytes, and a
// restored table, sized for its changelog, 25.
//
// Two keys whose hash and check both collide (about one chance in 2^96
// per pair) would share a slot; when only the hash collides, the check
// tells them apart and the newcomer takes the slot: at worst a record is
// emitted twice, never dropped. A changed record that keeps its stamp is
// told apart by the content hash, to one chance in 2^24.
type state struct {
	hashes []uint64 // 0: an empty slot
	checks []uint32
	vers   []uint64
	n      int
}

// stampBase is where packed stamps count from: 2020-01-01 UTC.
const stampBase = 1577836800000

// gone is the packed version of a forgotten key.
const gone = ^uint64(0)

func pack(v version) uint64 {
	ms := max(v.stamp-stampBase, 0)
	return uint64(min(ms, 1<<40-2))<<24 | v.hash&(1<<24-1)
}

// newState returns a state with room for size keys under 80% load.
func newState(size int) *state {
	c := max(8, size*5/4+1)
	return &state{hashes: make([]uint64, c), checks: make([]uint32, c), vers: make([]uint64, c)}
}

// keyHashes are a key's xxhash (never 0) and its FNV-1a check.
func keyHashes(key string) (uint64, uint32) {
	check := uint32(2166136261)
	for i := 0; i < len(key); i++ {
		check ^= uint32(key[i])
		check *= 16777619
	}
	return max(xxhash.Sum64String(key), 1), check
}

// find returns the slot of the key's hash, or the empty slot where it
// would go.
func (s *state) find(h uint64) int {
	hi, _ := bits.Mul64(h, uint64(len(s.hashes))) // the hash scaled to the table
	i := int(hi)
	for s.hashes[i] != 0 && s.hashes[i] != h {
		if i++; i == len(s.hashes) {
			i = 0
		}
	}
	return i
}

// seen reports whether a record of key at version v is not news: the key
// was emitted at a newer version, or at this very version and content.
func (s *state) seen(key string, v version) bool {
	h, check := keyHashes(key)
	i := s.find(h)
	if s.hashes[i] == 0 || s.checks[i] != check || s.vers[i] == gone {
		return false
	}
	return duplicate(s.vers[i], pack(v))
}

// duplicate tells, of packed versions, whether now is one the processor
// drops after old: an older stamp, or the same version.
func duplicate(old, now uint64) bool { return now>>24 < old>>24 || now == old }

// Duplicate reports whether a record of a key at version (stamp, hash:
// epoch milliseconds, a hash of its canonical encoding) is one the
// processor drops after publishing (lastStamp, lastHash) for the key: an
// older stamp, or the same version. ferry trace works the processor's
// decisions out with it.
func Duplicate(lastStamp int64, lastHash uint64, stamp int64, hash uint64) bool {
	return duplicate(pack(version{stamp: lastStamp, hash: lastHash}), pack(version{stamp: stamp, hash: hash}))
}

// set records that key was emitted at version v.
func (s *state) set(key string, v version) {
	h, check := keyHashes(key)
	s.put(h, check, pack(v))
}

func (s *state) put(h uint64, check uint32, ver uint64) {
	i := s.find(h)
	if s.hashes[i] == 0 {
		if (s.n+1)*5 > len(s.hashes)*4 {
			s.grow()
			i = s.find(h)
		}
		s.n++
	}
	s.hashes[i], s.checks[i], s.vers[i] = h, check, ver
}

func (s *state) grow() {
	old := *s
	*s = state{hashes: make([]uint64, 2*len(old.hashes)), checks: make([]uint32, 2*len(old.hashes)), vers: make([]uint64, 2*len(old.hashes))}
	for i, h := range old.hashes {
		if h != 0 {
			s.put(h, old.checks[i], old.vers[i])
		}
	}
}

// forget drops a key (its changelog tombstone).
func (s *state) forget(key string) {
	h, check := keyHashes(key)
	if i := s.find(h); s.hashes[i] != 0 && s.checks[i] == check {
		s.vers[i] = gone
	}
}

// len is the number of keys.
func (s *state) len() int { return s.n }
