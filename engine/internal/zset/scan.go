package zset

import "math/bits"

// Scan calls fn for every element of the index buckets that cursor names
// and returns the next cursor, 0 when the scan is complete: ZSCAN on a
// skiplist-encoded zset. The cursor walks buckets in reverse-binary order,
// as Redis's dictScan does, so an element present for the whole scan is
// returned at least once even when the index resizes between calls (it may
// be returned more than once). fn must not change the set. O(1) buckets
// per call (a few when a resize is in progress), each O(its chain).
func (s *Set) Scan(cursor uint64, fn func(r Ref)) uint64 {
	d := &s.d
	v := cursor
	if !d.rehashing {
		t := &d.t[0]
		m := uint64(t.mask)
		s.emit(t, uint32(v&m), fn)
		return nextCursor(v, m)
	}
	small, large := &d.t[0], &d.t[1]
	if small.mask > large.mask {
		small, large = large, small
	}
	m0, m1 := uint64(small.mask), uint64(large.mask)
	s.emit(small, uint32(v&m0), fn)
	for {
		// Visit the larger table's buckets that expand v's bucket of the
		// smaller one: the bits of m1 above m0 count up in reverse order
		// and carry into the m0 bits when they wrap, which is the next
		// cursor of the smaller table.
		s.emit(large, uint32(v&m1), fn)
		v = nextCursor(v, m1)
		if v&(m0^m1) == 0 {
			return v
		}
	}
}

// nextCursor increments v's bits under mask in reverse order.
func nextCursor(v, mask uint64) uint64 {
	v |= ^mask
	v = bits.Reverse64(v)
	v++
	return bits.Reverse64(v)
}

func (s *Set) emit(t *btable, i uint32, fn func(Ref)) {
	if s.d.rehashing && t == &s.d.t[0] && i < s.d.rehashIdx {
		return
	}
	for id := t.head(i); id != 0; {
		next := s.n(id).hnext
		fn(Ref(id))
		id = next
	}
}
