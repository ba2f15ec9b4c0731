package zset

// The skiplist follows the shape of Redis's zskiplist: node 0 is the
// header with maxLevel levels, every link at level l >= 1 carries a span
// (the level-0 steps it covers) so ranks are sums of spans, level 0 is
// doubly linked (node.back) and s.tail is the last node.

// path fills update with node x's predecessor at every level in use
// (levels at or above x's height hold the node whose link passes over x).
// O(log n).
func (s *Set) path(x uint32, update *[maxLevel]uint32) {
	n := s.n(x)
	score, m := n.score, s.member(n)
	p := uint32(0)
	for i := s.level - 1; i >= 0; i-- {
		for {
			f := s.fwd(p, i)
			if f == 0 || !s.before(f, score, m) {
				break
			}
			p = f
		}
		update[i] = p
	}
	if invariants && s.fwd(update[0], 0) != x {
		panic("zset: internal error: node not found by its score and member")
	}
}

// insertNode links node x (score, member and tower set, not linked) at
// its place. O(log n).
func (s *Set) insertNode(x uint32) {
	var update [maxLevel]uint32
	var rank [maxLevel]int
	n := s.n(x)
	score, m := n.score, s.member(n)
	p := uint32(0)
	for i := s.level - 1; i >= 0; i-- {
		if i < s.level-1 {
			rank[i] = rank[i+1]
		}
		for {
			f := s.fwd(p, i)
			if f == 0 || !s.before(f, score, m) {
				break
			}
			rank[i] += s.span(p, i)
			p = f
		}
		update[i] = p
	}
	h := heightOf(s.n(x).tower)
	if h > s.level {
		for i := s.level; i < h; i++ {
			rank[i] = 0
			update[i] = 0
			s.lv(0, i)[1] = uint32(s.length)
		}
		s.level = h
	}
	// level 0
	u := s.n(update[0])
	n = s.n(x)
	n.next = u.next
	u.next = x
	for i := 1; i < h; i++ {
		ul, xl := s.lv(update[i], i), s.lv(x, i)
		d := uint32(rank[0] - rank[i])
		xl[0] = ul[0]
		ul[0] = x
		xl[1] = ul[1] - d
		ul[1] = d + 1
	}
	for i := h; i < s.level; i++ {
		s.lv(update[i], i)[1]++
	}
	n.back = update[0]
	if n.next != 0 {
		s.n(n.next).back = x
	} else {
		s.tail = x
	}
}

// unlinkNode takes node x out of the skiplist given its predecessors.
// O(level).
func (s *Set) unlinkNode(x uint32, update *[maxLevel]uint32) {
	n := s.n(x)
	s.n(update[0]).next = n.next
	h := heightOf(n.tower)
	for i := 1; i < s.level; i++ {
		ul := s.lv(update[i], i)
		if i < h && ul[0] == x {
			xl := s.lv(x, i)
			ul[1] += xl[1] - 1
			ul[0] = xl[0]
		} else {
			ul[1]--
		}
	}
	if n.next != 0 {
		s.n(n.next).back = n.back
	} else {
		s.tail = n.back
	}
	n.next, n.back = 0, 0
	for s.level > 1 && s.lv(0, s.level-1)[0] == 0 {
		s.level--
	}
}

// Rank returns member m's rank, 0-based, counted from the highest score
// when reverse (ZRANK, ZREVRANK). O(log n + len(m)).
func (s *Set) Rank(m []byte, reverse bool) (int, bool) {
	id := s.find(hashMember(m), m)
	if id == 0 {
		return 0, false
	}
	return s.RankOf(Ref(id), reverse), true
}

// RankOf returns element r's rank, 0-based, counted from the highest score
// when reverse. O(log n).
func (s *Set) RankOf(r Ref, reverse bool) int {
	s.checkRef(r)
	x := uint32(r)
	n := s.n(x)
	score, m := n.score, s.member(n)
	rank := 0
	p := uint32(0)
	for i := s.level - 1; i >= 0; i-- {
		for {
			f := s.fwd(p, i)
			if f == 0 || !s.notAfter(f, score, m) {
				break
			}
			rank += s.span(p, i)
			p = f
		}
		if p == x {
			break
		}
	}
	if p != x {
		panic("zset: internal error: node not reached by its rank walk")
	}
	if reverse {
		return s.length - rank
	}
	return rank - 1
}

// ByRank returns the element of 0-based ascending rank, Nil when rank is
// out of [0, Len()). O(log n).
func (s *Set) ByRank(rank int) Ref {
	if rank < 0 || rank >= s.length {
		return Nil
	}
	return Ref(s.nodeAt(rank + 1))
}

// nodeAt returns the node of 1-based rank (1 <= rank <= length). O(log n).
func (s *Set) nodeAt(rank int) uint32 {
	traversed := 0
	p := uint32(0)
	for i := s.level - 1; i >= 0; i-- {
		for {
			f := s.fwd(p, i)
			if f == 0 {
				break
			}
			sp := s.span(p, i)
			if traversed+sp > rank {
				break
			}
			traversed += sp
			p = f
		}
		if traversed == rank {
			return p
		}
	}
	panic("zset: internal error: rank not reached")
}
