package zset

import "bytes"

// Range is a score range, Redis's zrangespec: Min and Max bounds (±Inf
// allowed, never NaN), each inclusive unless its Ex flag is set.
type Range struct {
	Min, Max     float64
	MinEx, MaxEx bool
}

// Empty reports whether no score can be in r. O(1).
func (r Range) Empty() bool {
	return r.Min > r.Max || (r.Min == r.Max && (r.MinEx || r.MaxEx))
}

// GteMin reports whether score v is at or above r's lower bound. O(1).
func (r Range) GteMin(v float64) bool {
	if r.MinEx {
		return v > r.Min
	}
	return v >= r.Min
}

// LteMax reports whether score v is at or below r's upper bound. O(1).
func (r Range) LteMax(v float64) bool {
	if r.MaxEx {
		return v < r.Max
	}
	return v <= r.Max
}

// Contains reports whether score v is in r. O(1).
func (r Range) Contains(v float64) bool { return r.GteMin(v) && r.LteMax(v) }

// BoundKind is the kind of a lex range bound.
type BoundKind uint8

const (
	Inclusive BoundKind = iota // "[value"
	Exclusive                  // "(value"
	MinusInf                   // "-": below every member
	PlusInf                    // "+": above every member
)

// LexBound is one end of a lex range. Value is used only by Inclusive and
// Exclusive bounds.
type LexBound struct {
	Value []byte
	Kind  BoundKind
}

// LexRange is a lex range, Redis's zlexrangespec.
type LexRange struct {
	Min, Max LexBound
}

// ParseLexBound parses one lex range item as ZRANGEBYLEX takes it: "-",
// "+", "[value" or "(value" (the value may be empty). ok is false for
// anything else; Redis then replies "ERR min or max not valid string range
// item". The bound's Value aliases b. O(1).
func ParseLexBound(b []byte) (bound LexBound, ok bool) {
	if len(b) == 0 {
		return LexBound{}, false
	}
	switch b[0] {
	case '-', '+':
		if len(b) != 1 {
			return LexBound{}, false
		}
		if b[0] == '-' {
			return LexBound{Kind: MinusInf}, true
		}
		return LexBound{Kind: PlusInf}, true
	case '[':
		return LexBound{Value: b[1:], Kind: Inclusive}, true
	case '(':
		return LexBound{Value: b[1:], Kind: Exclusive}, true
	}
	return LexBound{}, false
}

// ParseLexRange parses a lex range's min and max items (ParseLexBound).
// O(1).
func ParseLexRange(min, max []byte) (LexRange, bool) {
	lo, ok1 := ParseLexBound(min)
	hi, ok2 := ParseLexBound(max)
	return LexRange{Min: lo, Max: hi}, ok1 && ok2
}

// cmpBounds orders two bounds as values, the infinities outside every
// member (Redis's sdscmplex).
func cmpBounds(a, b LexBound) int {
	ai, bi := a.Kind >= MinusInf, b.Kind >= MinusInf
	switch {
	case ai && bi && a.Kind == b.Kind:
		return 0
	case a.Kind == MinusInf || b.Kind == PlusInf:
		return -1
	case a.Kind == PlusInf || b.Kind == MinusInf:
		return 1
	}
	return bytes.Compare(a.Value, b.Value)
}

// Empty reports whether no member can be in r. O(len of the bounds).
func (r LexRange) Empty() bool {
	c := cmpBounds(r.Min, r.Max)
	return c > 0 || (c == 0 && (r.Min.Kind != Inclusive || r.Max.Kind != Inclusive))
}

// GteMin reports whether member m is at or above r's lower bound. O(len(m)).
func (r LexRange) GteMin(m []byte) bool {
	switch r.Min.Kind {
	case MinusInf:
		return true
	case PlusInf:
		return false
	case Exclusive:
		return bytes.Compare(m, r.Min.Value) > 0
	}
	return bytes.Compare(m, r.Min.Value) >= 0
}

// LteMax reports whether member m is at or below r's upper bound. O(len(m)).
func (r LexRange) LteMax(m []byte) bool {
	switch r.Max.Kind {
	case PlusInf:
		return true
	case MinusInf:
		return false
	case Exclusive:
		return bytes.Compare(m, r.Max.Value) < 0
	}
	return bytes.Compare(m, r.Max.Value) <= 0
}

// Contains reports whether member m is in r. O(len(m)).
func (r LexRange) Contains(m []byte) bool { return r.GteMin(m) && r.LteMax(m) }

// inRange reports whether some element may be in r: r is not empty and
// it overlaps [first, last].
func (s *Set) inRange(r Range) bool {
	if r.Empty() || s.tail == 0 {
		return false
	}
	return r.GteMin(s.n(s.tail).score) && r.LteMax(s.n(s.n(0).next).score)
}

// FirstInRange returns the lowest element with a score in r and its
// 0-based rank; Nil and -1 if there is none. O(log n).
func (s *Set) FirstInRange(r Range) (Ref, int) {
	if !s.inRange(r) {
		return Nil, -1
	}
	p, rank := uint32(0), 0
	for i := s.level - 1; i >= 0; i-- {
		for {
			f := s.fwd(p, i)
			if f == 0 || r.GteMin(s.n(f).score) {
				break
			}
			rank += s.span(p, i)
			p = f
		}
	}
	x := s.n(p).next
	if x == 0 || !r.LteMax(s.n(x).score) {
		return Nil, -1
	}
	return Ref(x), rank
}

// LastInRange returns the highest element with a score in r and its
// 0-based rank; Nil and -1 if there is none. O(log n).
func (s *Set) LastInRange(r Range) (Ref, int) {
	if !s.inRange(r) {
		return Nil, -1
	}
	p, rank := uint32(0), 0
	for i := s.level - 1; i >= 0; i-- {
		for {
			f := s.fwd(p, i)
			if f == 0 || !r.LteMax(s.n(f).score) {
				break
			}
			rank += s.span(p, i)
			p = f
		}
	}
	if p == 0 || !r.GteMin(s.n(p).score) {
		return Nil, -1
	}
	return Ref(p), rank - 1
}

// Count returns the number of elements with a score in r: ZCOUNT.
// O(log n).
func (s *Set) Count(r Range) int {
	_, first := s.FirstInRange(r)
	if first < 0 {
		return 0
	}
	_, last := s.LastInRange(r)
	return last - first + 1
}

// inLex reports whether some element may be in r.
func (s *Set) inLex(r LexRange) bool {
	if r.Empty() || s.tail == 0 {
		return false
	}
	return r.GteMin(s.member(s.n(s.tail))) && r.LteMax(s.member(s.n(s.n(0).next)))
}

// FirstInLex returns the lowest element whose member is in r and its
// 0-based rank; Nil and -1 if there is none. O(log n) member comparisons.
func (s *Set) FirstInLex(r LexRange) (Ref, int) {
	if !s.inLex(r) {
		return Nil, -1
	}
	p, rank := uint32(0), 0
	for i := s.level - 1; i >= 0; i-- {
		for {
			f := s.fwd(p, i)
			if f == 0 || r.GteMin(s.member(s.n(f))) {
				break
			}
			rank += s.span(p, i)
			p = f
		}
	}
	x := s.n(p).next
	if x == 0 || !r.LteMax(s.member(s.n(x))) {
		return Nil, -1
	}
	return Ref(x), rank
}

// LastInLex returns the highest element whose member is in r and its
// 0-based rank; Nil and -1 if there is none. O(log n) member comparisons.
func (s *Set) LastInLex(r LexRange) (Ref, int) {
	if !s.inLex(r) {
		return Nil, -1
	}
	p, rank := uint32(0), 0
	for i := s.level - 1; i >= 0; i-- {
		for {
			f := s.fwd(p, i)
			if f == 0 || !r.LteMax(s.member(s.n(f))) {
				break
			}
			rank += s.span(p, i)
			p = f
		}
	}
	if p == 0 || !r.GteMin(s.member(s.n(p))) {
		return Nil, -1
	}
	return Ref(p), rank - 1
}

// CountLex returns the number of elements whose member is in r:
// ZLEXCOUNT. O(log n) member comparisons.
func (s *Set) CountLex(r LexRange) int {
	_, first := s.FirstInLex(r)
	if first < 0 {
		return 0
	}
	_, last := s.LastInLex(r)
	return last - first + 1
}

// DeleteRange removes every element with a score in r and returns how
// many: ZREMRANGEBYSCORE. O(log n + m).
func (s *Set) DeleteRange(r Range) int {
	if r.Empty() {
		return 0
	}
	var update [maxLevel]uint32
	p := uint32(0)
	for i := s.level - 1; i >= 0; i-- {
		for {
			f := s.fwd(p, i)
			if f == 0 || r.GteMin(s.n(f).score) {
				break
			}
			p = f
		}
		update[i] = p
	}
	removed := 0
	for x := s.n(p).next; x != 0 && r.LteMax(s.n(x).score); {
		next := s.n(x).next
		s.remove(x, &update)
		removed++
		x = next
	}
	s.shrinkNodes()
	return removed
}

// DeleteLex removes every element whose member is in r and returns how
// many: ZREMRANGEBYLEX. O(log n + m).
func (s *Set) DeleteLex(r LexRange) int {
	if r.Empty() {
		return 0
	}
	var update [maxLevel]uint32
	p := uint32(0)
	for i := s.level - 1; i >= 0; i-- {
		for {
			f := s.fwd(p, i)
			if f == 0 || r.GteMin(s.member(s.n(f))) {
				break
			}
			p = f
		}
		update[i] = p
	}
	removed := 0
	for x := s.n(p).next; x != 0 && r.LteMax(s.member(s.n(x))); {
		next := s.n(x).next
		s.remove(x, &update)
		removed++
		x = next
	}
	s.shrinkNodes()
	return removed
}

// DeleteRanks removes the elements of 0-based ascending ranks start
// through stop inclusive, clamped to the set, and returns how many:
// ZREMRANGEBYRANK after the caller resolves negative indexes. O(log n + m).
func (s *Set) DeleteRanks(start, stop int) int {
	start = max(start, 0)
	stop = min(stop, s.length-1)
	if start > stop {
		return 0
	}
	var update [maxLevel]uint32
	p, traversed := uint32(0), 0
	for i := s.level - 1; i >= 0; i-- {
		for {
			f := s.fwd(p, i)
			if f == 0 || traversed+s.span(p, i) > start {
				break
			}
			traversed += s.span(p, i)
			p = f
		}
		update[i] = p
	}
	removed := 0
	for x := s.n(p).next; x != 0 && removed <= stop-start; {
		next := s.n(x).next
		s.remove(x, &update)
		removed++
		x = next
	}
	s.shrinkNodes()
	return removed
}
