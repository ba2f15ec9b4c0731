package zset

import (
	"bytes"
	"math/bits"

	"github.com/zeebo/xxh3"
)

// The member index is a chained hash table: bucket heads are node ids in
// uint32 arrays, and a bucket's chain runs through node.hnext. A node keeps
// the low 32 bits of its member's xxh3 hash, so chains are filtered and
// buckets rehashed without touching member bytes (32 bits address up to
// 2^32 buckets).
//
// Bucket arrays bigger than one chunk (64 KiB) are made of chunks
// allocated on first write, so starting a resize costs a small allocation.
// Resizes are incremental, as in Redis's dict: while two tables exist,
// every insert and delete moves a couple of buckets from the old table to
// the new one (lookups check both), and the old table's chunks are dropped
// as the move passes them.
const (
	minBuckets       = 4
	bucketChunkShift = 14
	bucketChunkLen   = 1 << bucketChunkShift
	rehashBuckets    = 2  // non-empty buckets moved per step
	rehashEmptyVisit = 10 // empty buckets skipped per moved bucket, at most
)

func hashMember(m []byte) uint32 { return uint32(xxh3.Hash(m)) }

type btable struct {
	chunks [][]uint32 // nil chunk: all heads 0
	mask   uint32     // buckets - 1
	shift  uint8      // bucket i is in chunks[i>>shift]
	cmask  uint32     // at index i&cmask
	used   int        // nodes linked in this table
}

func newBTable(size uint32) btable {
	t := btable{mask: size - 1}
	if size <= bucketChunkLen {
		t.chunks = [][]uint32{make([]uint32, size)}
		t.shift = uint8(bits.TrailingZeros32(size))
		t.cmask = size - 1
		return t
	}
	t.chunks = make([][]uint32, size>>bucketChunkShift)
	t.shift = bucketChunkShift
	t.cmask = bucketChunkLen - 1
	return t
}

func (t *btable) size() uint32 { return t.mask + 1 }

func (t *btable) head(i uint32) uint32 {
	c := t.chunks[i>>t.shift]
	if c == nil {
		return 0
	}
	return c[i&t.cmask]
}

// setHead sets bucket i's head; it returns the bytes it allocated.
func (t *btable) setHead(i, id uint32) int64 {
	c := t.chunks[i>>t.shift]
	if c == nil {
		if id == 0 {
			return 0
		}
		c = make([]uint32, bucketChunkLen)
		t.chunks[i>>t.shift] = c
		c[i&t.cmask] = id
		return bucketChunkLen * 4
	}
	c[i&t.cmask] = id
	return 0
}

// bytes is the memory the table's chunks and chunk list hold.
func (t *btable) bytes() int64 {
	var b int64
	for _, c := range t.chunks {
		b += int64(cap(c))*4 + 24
	}
	return b
}

type dict struct {
	t         [2]btable // t[1] is the target of a resize in progress
	rehashing bool
	rehashIdx uint32 // t[0] buckets below it are empty (moved to t[1])
}

// find returns the node holding member m (hash h), 0 if none. O(1).
func (s *Set) find(h uint32, m []byte) uint32 {
	d := &s.d
	i := h & d.t[0].mask
	if !d.rehashing || i >= d.rehashIdx {
		if id := s.findIn(&d.t[0], i, h, m); id != 0 || !d.rehashing {
			return id
		}
	}
	return s.findIn(&d.t[1], h&d.t[1].mask, h, m)
}

func (s *Set) findIn(t *btable, i, h uint32, m []byte) uint32 {
	for id := t.head(i); id != 0; {
		n := s.n(id)
		if n.hash == h && int(n.mlen) == len(m) && bytes.Equal(s.member(n), m) {
			return id
		}
		id = n.hnext
	}
	return 0
}

// link files node id in the index. O(1).
func (s *Set) link(id uint32) {
	d := &s.d
	t := &d.t[0]
	if d.rehashing {
		t = &d.t[1]
	}
	n := s.n(id)
	i := n.hash & t.mask
	n.hnext = t.head(i)
	s.dictBytes += t.setHead(i, id)
	t.used++
}

// unlink takes node id out of the index. O(chain length).
func (s *Set) unlink(id uint32) {
	d := &s.d
	h := s.n(id).hash
	if i := h & d.t[0].mask; !d.rehashing || i >= d.rehashIdx {
		if s.unlinkFrom(&d.t[0], i, id) {
			return
		}
	}
	if d.rehashing && s.unlinkFrom(&d.t[1], h&d.t[1].mask, id) {
		return
	}
	panic("zset: internal error: node not in its bucket")
}

func (s *Set) unlinkFrom(t *btable, i, id uint32) bool {
	var prev uint32
	for cur := t.head(i); cur != 0; {
		cn := s.n(cur)
		if cur == id {
			if prev == 0 {
				t.setHead(i, cn.hnext)
			} else {
				s.n(prev).hnext = cn.hnext
			}
			cn.hnext = 0
			t.used--
			return true
		}
		prev, cur = cur, cn.hnext
	}
	return false
}

// resizeIfDue starts a resize when the index is over full (more nodes than
// buckets) or under an eighth full. O(1) plus a small allocation.
func (s *Set) resizeIfDue() {
	d := &s.d
	if d.rehashing {
		return
	}
	size := d.t[0].size()
	switch {
	case s.length > int(size):
		s.startResize(size * 2)
	case size > minBuckets && s.length < int(size/8):
		s.startResize(max(minBuckets, uint32(1)<<bits.Len32(uint32(s.length))))
	}
}

func (s *Set) startResize(size uint32) {
	d := &s.d
	d.t[1] = newBTable(size)
	s.dictBytes += d.t[1].bytes()
	d.rehashing = true
	d.rehashIdx = 0
}

// rehashStep moves up to rehashBuckets non-empty buckets of a resize in
// progress, skipping at most rehashEmptyVisit empty ones per bucket, and
// finishes the resize when the old table is empty. O(1).
func (s *Set) rehashStep() {
	d := &s.d
	if !d.rehashing {
		return
	}
	t0, t1 := &d.t[0], &d.t[1]
	empty := rehashBuckets * rehashEmptyVisit
	for moved := 0; moved < rehashBuckets && t0.used > 0; {
		i := d.rehashIdx
		id := t0.head(i)
		if id == 0 {
			d.rehashIdx++
			s.dropPassedChunk(i)
			if empty--; empty == 0 {
				return
			}
			continue
		}
		for id != 0 {
			n := s.n(id)
			next := n.hnext
			j := n.hash & t1.mask
			n.hnext = t1.head(j)
			s.dictBytes += t1.setHead(j, id)
			t0.used--
			t1.used++
			id = next
		}
		t0.setHead(i, 0)
		d.rehashIdx++
		s.dropPassedChunk(i)
		moved++
	}
	if t0.used == 0 {
		s.dictBytes -= t0.bytes()
		d.t[0] = d.t[1]
		d.t[1] = btable{}
		d.rehashing = false
		d.rehashIdx = 0
	}
}

// dropPassedChunk releases t[0]'s chunk holding bucket i once the move has
// passed its last bucket.
func (s *Set) dropPassedChunk(i uint32) {
	t0 := &s.d.t[0]
	if len(t0.chunks) == 1 || i&t0.cmask != t0.cmask {
		return
	}
	if c := t0.chunks[i>>t0.shift]; c != nil {
		s.dictBytes -= int64(cap(c)) * 4
		t0.chunks[i>>t0.shift] = nil
	}
}
