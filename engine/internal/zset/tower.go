package zset

// A node of height h has h levels. Level 0 (the forward link) lives in the
// node itself; its span is always 1 and is not stored. Levels 1..h-1, a
// forward id and a span each, live in a tower: 2(h-1) uint32 words taken
// from the pool of the smallest power-of-two size that holds them. Pools
// are segmented word arrays with a free list each, so towers never move
// and freed towers are reused by nodes of similar height.
//
// node.tower packs the height and the tower's index in its pool:
// (h-1)<<heightShift | index. A node of height 1 has no tower.
const (
	maxLevel      = 32 // as Redis's ZSKIPLIST_MAXLEVEL
	heightShift   = 27
	towerIdxMask  = 1<<heightShift - 1
	numPools      = 7 // pool c holds towers of 1<<c words; pool 0 is unused
	poolSegShift  = 14
	poolSegWords  = 1 << poolSegShift // 64 KiB segments
	poolFirstSize = 16                // words of a pool's first segment at first
)

// poolOf[h] is the pool of a tower of a node of height h (h >= 2).
var poolOf = func() (p [maxLevel + 1]uint8) {
	for h := 2; h <= maxLevel; h++ {
		c := uint8(1)
		for 1<<c < 2*(h-1) {
			c++
		}
		p[h] = c
	}
	return p
}()

type pool struct {
	segs [][]uint32 // all full but the last; len is the words carved
	n    uint32     // towers carved
	free uint32     // first free tower + 1, 0 if none; chained through word 0
}

// tower returns the words of tower i of pool c. O(1).
func (s *Set) tower(c uint8, i uint32) []uint32 {
	p := &s.pools[c]
	shift := poolSegShift - c
	off := (i & (1<<shift - 1)) << c
	return p.segs[i>>shift][off : off+1<<c : off+1<<c]
}

// allocTower returns a zeroed tower for a node of height h, packed as
// node.tower. O(1) amortized; may allocate a segment (or grow the first).
func (s *Set) allocTower(h int) uint32 {
	if h == 1 {
		return 0
	}
	c := poolOf[h]
	p := &s.pools[c]
	var i uint32
	if p.free != 0 {
		i = p.free - 1
		w := s.tower(c, i)
		p.free = w[0]
		clear(w)
	} else {
		i = p.n
		if i > towerIdxMask {
			panic("zset: too many elements")
		}
		stride := 1 << c
		seg := int(i >> (poolSegShift - c))
		if seg == len(p.segs) {
			p.segs = append(p.segs, make([]uint32, 0, max(poolFirstSize, stride)))
			s.towerBytes += int64(cap(p.segs[seg])) * 4
		}
		w := p.segs[seg]
		if len(w)+stride > cap(w) {
			nw := make([]uint32, len(w), min(2*cap(w), poolSegWords))
			copy(nw, w)
			s.towerBytes += int64(cap(nw)-cap(w)) * 4
			w = nw
		}
		p.segs[seg] = w[:len(w)+stride]
		p.n++
	}
	return uint32(h-1)<<heightShift | i
}

// freeTower puts a node's tower on its pool's free list. O(1).
func (s *Set) freeTower(t uint32) {
	h := int(t>>heightShift) + 1
	if h == 1 {
		return
	}
	c := poolOf[h]
	i := t & towerIdxMask
	s.tower(c, i)[0] = s.pools[c].free
	s.pools[c].free = i + 1
}

func heightOf(t uint32) int { return int(t>>heightShift) + 1 }

// lv returns level l (>= 1) of node x: forward id, then span. O(1).
func (s *Set) lv(x uint32, l int) *[2]uint32 {
	t := s.n(x).tower
	c := poolOf[int(t>>heightShift)+1]
	i := t & towerIdxMask
	p := &s.pools[c]
	shift := poolSegShift - c
	off := (i&(1<<shift-1))<<c + uint32(2*(l-1))
	return (*[2]uint32)(p.segs[i>>shift][off : off+2])
}

// fwd is node x's forward link at level l. O(1).
func (s *Set) fwd(x uint32, l int) uint32 {
	if l == 0 {
		return s.n(x).next
	}
	return s.lv(x, l)[0]
}

// span is the number of level-0 steps node x's level-l link covers. O(1).
func (s *Set) span(x uint32, l int) int {
	if l == 0 {
		return 1
	}
	return int(s.lv(x, l)[1])
}
