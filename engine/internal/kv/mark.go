package kv

// Marking serves a rewrite of the append-only file, which writes the keys
// as they were at one instant (the cut) while the store keeps changing.
// BeginMark takes the cut: from then on every entry that is inserted or
// deleted is marked, and the caller marks each key it has written out.
// The keys still to write are the live, unmarked entries below the limit
// BeginMark returned: they are exactly the keys of the cut that are
// unchanged since, provided the caller writes out (and marks) a key before
// any change to its value. Clear ends the walk: no key of the cut is left.
//
// The marks are one bit per entry id below the limit: limit/8 bytes, the
// rewrite's only extra memory in the store. O(1) per call, except
// BeginMark (allocates the bits) and NextUnmarked (O(ids skipped)).

type marks struct {
	bits  []uint64
	limit Ref
	done  bool
}

// BeginMark starts marking and returns the limit: ids at or above it were
// never handed out before the cut.
func (s *Store) BeginMark() Ref {
	limit := Ref(len(s.ents.segs) << segShift)
	s.mark = &marks{bits: make([]uint64, (limit+63)/64), limit: limit}
	return limit
}

// EndMark stops marking and drops the bits.
func (s *Store) EndMark() { s.mark = nil }

// MarkBytes is the memory the marks take.
func (s *Store) MarkBytes() int {
	if s.mark == nil {
		return 0
	}
	return 8 * cap(s.mark.bits)
}

// Mark marks r as handled.
func (s *Store) Mark(r Ref) {
	if m := s.mark; m != nil && r < m.limit {
		m.bits[r>>6] |= 1 << (r & 63)
	}
}

// Marked reports whether r is marked (or beyond the limit, or marking is
// off): true means r is not a key of the cut still to write.
func (s *Store) Marked(r Ref) bool {
	m := s.mark
	return m == nil || m.done || r >= m.limit || m.bits[r>>6]&(1<<(r&63)) != 0
}

// NextUnmarked returns the first live unmarked entry at or after from,
// looking at no more than budget ids, and the id to continue from; r is
// Nil when none was found within the budget, and next is 0 when the walk
// is over.
func (s *Store) NextUnmarked(from Ref, budget int) (r, next Ref) {
	m := s.mark
	if m == nil || m.done {
		return Nil, 0
	}
	if from == Nil {
		from = 1
	}
	for id := from; id < m.limit; id++ {
		if budget--; budget < 0 {
			return Nil, id
		}
		if m.bits[id>>6]&(1<<(id&63)) != 0 {
			continue
		}
		seg := int(id >> segShift)
		if seg >= len(s.ents.segs) || s.ents.segs[seg] == nil {
			id |= segMask // the whole segment is free
			continue
		}
		if s.ents.segs[seg][id&segMask].loc == 0 {
			continue
		}
		return id, id + 1
	}
	return Nil, 0
}
