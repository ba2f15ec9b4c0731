package zset

// Iter walks elements in ascending or descending order. It is a value:
// making and using one does not allocate. Any change to the set
// invalidates it.
type Iter struct {
	s     *Set
	cur   uint32 // next node to return, 0 when done
	rev   bool
	bound uint8 // boundNone, boundScore (score) or boundLex (lex)
	score Range
	lex   LexRange
}

const (
	boundNone uint8 = iota
	boundScore
	boundLex
)

// IterFrom returns an iterator starting at element r (Nil: an empty
// iterator), going toward higher ranks, or lower ones when reverse. O(1).
func (s *Set) IterFrom(r Ref, reverse bool) Iter {
	if r != Nil {
		s.checkRef(r)
	}
	return Iter{s: s, cur: uint32(r), rev: reverse}
}

// IterRank returns an iterator starting at rank start (0-based, counted
// from the highest score when reverse, as ZRANGE ... REV counts), going
// in that direction to the end of the set. An out-of-range start gives an
// empty iterator. O(log n).
func (s *Set) IterRank(start int, reverse bool) Iter {
	if reverse {
		start = s.length - 1 - start
	}
	return Iter{s: s, cur: uint32(s.ByRank(start)), rev: reverse}
}

// IterRange returns an iterator over the elements with a score in r, from
// the lowest (or from the highest when reverse). O(log n) to start, then
// O(1) per element.
func (s *Set) IterRange(r Range, reverse bool) Iter {
	var first Ref
	if reverse {
		first, _ = s.LastInRange(r)
	} else {
		first, _ = s.FirstInRange(r)
	}
	return Iter{s: s, cur: uint32(first), rev: reverse, bound: boundScore, score: r}
}

// IterLex returns an iterator over the elements whose member is in r,
// from the lowest (or from the highest when reverse). O(log n) to start,
// then O(1) per element plus a comparison with the far bound.
func (s *Set) IterLex(r LexRange, reverse bool) Iter {
	var first Ref
	if reverse {
		first, _ = s.LastInLex(r)
	} else {
		first, _ = s.FirstInLex(r)
	}
	return Iter{s: s, cur: uint32(first), rev: reverse, bound: boundLex, lex: r}
}

// NextRef returns the next element, Nil when done. O(1).
func (it *Iter) NextRef() Ref {
	x := it.cur
	if x == 0 {
		return Nil
	}
	n := it.s.n(x)
	next := n.next
	if it.rev {
		next = n.back
	}
	if next != 0 && it.bound != boundNone && !it.within(next) {
		next = 0
	}
	it.cur = next
	return Ref(x)
}

// within reports whether node x is inside the iterator's far bound (the
// near one holds for every node past the first).
func (it *Iter) within(x uint32) bool {
	n := it.s.n(x)
	if it.bound == boundScore {
		if it.rev {
			return it.score.GteMin(n.score)
		}
		return it.score.LteMax(n.score)
	}
	m := it.s.member(n)
	if it.rev {
		return it.lex.GteMin(m)
	}
	return it.lex.LteMax(m)
}

// Next returns the next element's member (aliasing the set) and score; ok
// is false when done. O(1).
func (it *Iter) Next() (m []byte, score float64, ok bool) {
	x := it.NextRef()
	if x == Nil {
		return nil, 0, false
	}
	n := it.s.n(uint32(x))
	return it.s.member(n), n.score, true
}

// Skip advances past up to k elements and returns how many it passed.
// O(k); to start at an offset in O(log n), make the iterator with
// IterRank or from ByRank.
func (it *Iter) Skip(k int) int {
	i := 0
	for ; i < k && it.NextRef() != Nil; i++ {
	}
	return i
}
