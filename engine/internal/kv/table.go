package kv

import "math/bits"

// A table is an array of bucket heads (entry ids, 0 for an empty bucket)
// whose length is a power of two; a key's bucket is Hash(key) & mask, and
// entries of one bucket chain through entry.next.
//
// The heads are split in chunks of chunkLen (64 KiB). A table of more than
// one chunk starts with every chunk pointing at the shared, read-only
// zeroChunk and gets a chunk of its own on the first write into it, so
// creating even a huge table costs one small allocation, and memory is
// committed as buckets are used. During a resize the old table's chunks are
// released as the rehash index passes them.
const (
	minBuckets = 8
	chunkShift = 14
	chunkLen   = 1 << chunkShift
	// rehashStepBuckets is the number of buckets a mutating call moves
	// while a resize is in progress (more when the target table is already
	// over full); each call also skips at most 10 empty buckets per bucket.
	rehashStepBuckets = 2
	rehashHurry       = 8
)

var zeroChunk [chunkLen]uint32

type table struct {
	chunks [][]uint32
	mask   uint64 // buckets - 1
	shift  uint   // bucket i is in chunks[i>>shift]
	cmask  uint64 // at index i&cmask
	used   int    // entries linked in this table
	real   int    // chunks allocated (not zeroChunk)
}

func newTable(size uint64) table {
	t := table{mask: size - 1}
	if size <= chunkLen {
		t.chunks = [][]uint32{make([]uint32, size)}
		t.shift = uint(bits.TrailingZeros64(size))
		t.cmask = size - 1
		t.real = 1
		return t
	}
	t.chunks = make([][]uint32, size>>chunkShift)
	for i := range t.chunks {
		t.chunks[i] = zeroChunk[:]
	}
	t.shift = chunkShift
	t.cmask = chunkLen - 1
	return t
}

func (t *table) size() uint64 { return t.mask + 1 }

// bytes is the memory the table holds: its own chunks and the chunk list.
func (t *table) bytes() int64 {
	if len(t.chunks) == 1 {
		return int64(len(t.chunks[0]))*4 + 24
	}
	return int64(t.real)*chunkLen*4 + int64(len(t.chunks))*24
}

func (t *table) head(i uint64) uint32 { return t.chunks[i>>t.shift][i&t.cmask] }

func isZeroChunk(c []uint32) bool { return len(c) == chunkLen && &c[0] == &zeroChunk[0] }

// setHead sets bucket i's head, allocating the bucket's chunk if it is
// still the shared zero chunk.
func (t *table) setHead(i uint64, id uint32) {
	c := t.chunks[i>>t.shift]
	if isZeroChunk(c) {
		if id == 0 {
			return
		}
		c = make([]uint32, chunkLen)
		t.chunks[i>>t.shift] = c
		t.real++
	}
	c[i&t.cmask] = id
}

// link puts entry id (e) at the head of its bucket: in the resize target
// while a resize is in progress, else in the main table. O(1).
func (s *Store) link(id uint32, e *entry) {
	t := &s.t[0]
	if s.rehashing {
		t = &s.t[1]
	}
	i := e.hash & t.mask
	e.next = t.head(i)
	t.setHead(i, id)
	t.used++
}

// unlink takes entry id (e) out of its bucket chain. O(chain length).
func (s *Store) unlink(id uint32, e *entry) {
	if i := e.hash & s.t[0].mask; !s.rehashing || i >= s.rehashIdx {
		if s.removeFrom(&s.t[0], i, id) {
			return
		}
	}
	if s.rehashing && s.removeFrom(&s.t[1], e.hash&s.t[1].mask, id) {
		return
	}
	panic("kv: internal error: entry not in its bucket")
}

func (s *Store) removeFrom(t *table, i uint64, id uint32) bool {
	var prev *entry
	for cur := t.head(i); cur != 0; {
		ce := &s.ents.segs[cur>>segShift][cur&segMask]
		if cur == id {
			if prev == nil {
				t.setHead(i, ce.next)
			} else {
				prev.next = ce.next
			}
			t.used--
			return true
		}
		prev, cur = ce, ce.next
	}
	return false
}

// stepSize is how many buckets a mutating call moves during a resize.
func (s *Store) stepSize() int {
	if uint64(s.count) > s.t[1].size() {
		return rehashHurry
	}
	return rehashStepBuckets
}

// beforeInsert moves a step of a resize in progress, or starts growing
// the table when it is full (load factor 1).
func (s *Store) beforeInsert() {
	if s.rehashing {
		s.rehashStep(s.stepSize())
	}
	if !s.rehashing && uint64(s.t[0].used) >= s.t[0].size() {
		s.startResize(s.t[0].size() * 2)
	}
}

// afterDelete moves a step of a resize in progress, or starts shrinking
// the table when it is under 1/8 full.
func (s *Store) afterDelete() {
	if s.rehashing {
		s.rehashStep(s.stepSize())
		return
	}
	s.maybeShrink()
}

// maybeShrink starts shrinking a table under 1/8 full to a size where it is
// between 1/4 and 1/2 full (never below minBuckets).
func (s *Store) maybeShrink() {
	size, used := s.t[0].size(), uint64(s.t[0].used)
	if size <= minBuckets || used*8 >= size {
		return
	}
	target := uint64(minBuckets)
	if used > 0 {
		target = max(target, 2<<bits.Len64(used-1))
	}
	if target < size {
		s.startResize(target)
	}
}

func (s *Store) startResize(size uint64) {
	s.t[1] = newTable(size)
	s.rehashing = true
	s.rehashIdx = 0
}

// Rehash is the store's idle-time housekeeping, for the loop's cron. It
// moves up to maxBuckets buckets of a resize in progress (skipping at most
// 10*maxBuckets empty ones); when no resize is in progress, it first starts
// one if the table is too full or under 1/8 full (as Redis's cron does) and
// releases the pages of size classes left with no record (kept by the
// allocating calls so that they do not thrash). It returns true while a
// resize is in progress. O(maxBuckets) plus the entries moved; may allocate
// the chunk list of a new table.
func (s *Store) Rehash(maxBuckets int) bool {
	if !s.rehashing {
		s.slab.trim()
		if uint64(s.t[0].used) >= s.t[0].size() {
			s.startResize(s.t[0].size() * 2)
		} else {
			s.maybeShrink()
		}
	}
	if s.rehashing && maxBuckets > 0 {
		s.rehashStep(maxBuckets)
	}
	return s.rehashing
}

// rehashStep moves up to n non-empty buckets from t[0] to t[1], visiting at
// most 10*n empty buckets (a chunk of the old table that was never written
// counts as one), and finishes the resize when t[0] is exhausted.
func (s *Store) rehashStep(n int) {
	t0, t1 := &s.t[0], &s.t[1]
	size0 := t0.size()
	empty := n * 10
	for n > 0 && empty > 0 && s.rehashIdx < size0 {
		c := t0.chunks[s.rehashIdx>>t0.shift]
		if isZeroChunk(c) {
			s.rehashIdx = (s.rehashIdx | t0.cmask) + 1
			empty--
			continue
		}
		i := s.rehashIdx & t0.cmask
		id := c[i]
		if id == 0 {
			empty--
		} else {
			for id != 0 {
				e := &s.ents.segs[id>>segShift][id&segMask]
				next := e.next
				j := e.hash & t1.mask
				e.next = t1.head(j)
				t1.setHead(j, id)
				id = next
				t0.used--
				t1.used++
			}
			c[i] = 0
			n--
		}
		s.rehashIdx++
		if s.rehashIdx&t0.cmask == 0 && len(t0.chunks) > 1 {
			// The chunk just passed is empty for good: release it.
			t0.chunks[(s.rehashIdx-1)>>t0.shift] = zeroChunk[:]
			t0.real--
		}
	}
	if s.rehashIdx >= size0 {
		if invariants && t0.used != 0 {
			panic("kv: internal error: rehash left entries behind")
		}
		s.t[0], s.t[1] = *t1, table{}
		s.rehashing = false
		s.rehashIdx = 0
	}
}
