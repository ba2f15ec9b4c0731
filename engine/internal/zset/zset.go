package zset

import (
	"bytes"
	"math/bits"
	"sync/atomic"
	"unsafe"
)

// Ref names one element of a Set: the id of its node. It stays valid, and
// keeps naming the same member, until the next call that deletes any
// element (Delete, DeleteRef, DeleteRange, DeleteLex, DeleteRanks, PopMin,
// PopMax) or Tidy: those may move elements to lower ids to give memory
// back after the set shrinks. Inserts and Update do not change Refs. Nil
// names none.
type Ref uint32

// Nil is the Ref of no element.
const Nil Ref = 0

// node is one element (or, as node 0, the skiplist header): 40 bytes, no
// pointers.
type node struct {
	score float64
	hash  uint32 // hashMember(member)
	hnext uint32 // next node of the bucket chain; next free node when free
	next  uint32 // level-0 forward link, 0 at the end
	back  uint32 // previous node, 0 for the first
	tower uint32 // height and levels 1.. (tower.go)
	mlen  uint32 // member length; freeMark when the node is free
	mpage uint32 // member record's page
	moff  uint32 // member's offset in the page
}

const (
	nodeShift = 12
	nodeSeg   = 1 << nodeShift // 160 KiB segments
	nodeMask  = nodeSeg - 1
	nodeSize  = int(unsafe.Sizeof(node{}))
	freeMark  = ^uint32(0)
	firstSeg  = 8 // nodes of the first segment at first
)

// Set is a sorted set. The zero value is not usable: call New. See the
// package doc for ownership rules.
type Set struct {
	nodes   [][]node  // segments; all full but the last
	segs    []segMeta // per node segment: free list and live count
	lowFree int       // node segments below it have no free id
	vacate  uint32    // next id to examine when emptying the last segment
	carved  uint32    // node ids handed out at least once, header included
	tail    uint32
	length  int
	level   int // levels in use, 1..maxLevel
	pools   [numPools]pool
	ar      arena
	d       dict
	rng     uint64

	nodeBytes  int64
	towerBytes int64
	dictBytes  int64
}

var seeds atomic.Uint64

// New returns an empty set. O(1); it allocates about 1.2 KiB.
func New() *Set {
	s := &Set{level: 1}
	s.rng = mix(seeds.Add(0x9e3779b97f4a7c15))
	s.nodes = [][]node{make([]node, 1, firstSeg)}
	s.segs = []segMeta{{live: 1}}
	s.nodeBytes = firstSeg * int64(nodeSize)
	s.carved = 1
	s.n(0).tower = s.allocTower(maxLevel)
	s.ar.init()
	s.d.t[0] = newBTable(minBuckets)
	s.dictBytes = s.d.t[0].bytes()
	return s
}

func mix(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	if x == 0 {
		x = 1
	}
	return x
}

// n returns node id. The pointer is valid until the next node allocation.
func (s *Set) n(id uint32) *node { return &s.nodes[id>>nodeShift][id&nodeMask] }

// Len is the number of elements. O(1).
func (s *Set) Len() int { return s.length }

// Bytes is the memory the set holds: nodes, towers, member pages and the
// index, capacity included (for MEMORY USAGE). O(1).
func (s *Set) Bytes() int64 {
	return int64(unsafe.Sizeof(*s)) + s.nodeBytes + s.towerBytes + s.ar.bytes + s.dictBytes +
		int64(cap(s.nodes))*24 + int64(cap(s.segs))*8 + int64(cap(s.ar.pages))*24 + int64(cap(s.ar.info))*12 + int64(cap(s.ar.freePages))*4
}

func (s *Set) randomHeight() int {
	x := s.rng
	x ^= x << 13
	x ^= x >> 7
	x ^= x << 17
	s.rng = x
	// Each pair of low zero bits is one more level: P = 1/4 per level, as
	// Redis's ZSKIPLIST_P.
	return min(1+bits.TrailingZeros64(x)/2, maxLevel)
}

// check panics on a Ref that names no live element (invariants builds).
func (s *Set) checkRef(r Ref) {
	if invariants && (r == Nil || uint32(r) >= s.carved || s.n(uint32(r)).mlen == freeMark) {
		panic("zset: stale or invalid Ref")
	}
}

// Find returns the element whose member is m, Nil if none. O(len(m)).
func (s *Set) Find(m []byte) Ref { return Ref(s.find(hashMember(m), m)) }

// Score returns member m's score. O(len(m)).
func (s *Set) Score(m []byte) (float64, bool) {
	id := s.find(hashMember(m), m)
	if id == 0 {
		return 0, false
	}
	return s.n(id).score, true
}

// Member returns element r's member, aliasing the set (see the package
// doc). O(1).
func (s *Set) Member(r Ref) []byte {
	s.checkRef(r)
	return s.member(s.n(uint32(r)))
}

// ScoreOf returns element r's score. O(1).
func (s *Set) ScoreOf(r Ref) float64 {
	s.checkRef(r)
	return s.n(uint32(r)).score
}

// Insert adds member m with score, which must not be NaN; m must not be in
// the set (callers Find first; invariants builds check). O(log n +
// len(m)); may allocate.
func (s *Set) Insert(m []byte, score float64) Ref {
	h := hashMember(m)
	if invariants && s.find(h, m) != 0 {
		panic("zset: Insert of a present member")
	}
	s.rehashStep()
	id := s.allocNode()
	tw := s.allocTower(s.randomHeight())
	s.putMember(id, m)
	n := s.n(id)
	n.score, n.hash, n.tower = score, h, tw
	s.link(id)
	s.insertNode(id)
	s.length++
	s.resizeIfDue()
	return Ref(id)
}

// Add sets member m's score, inserting m if absent: ZADD without options.
// It returns m's element and whether it was added. O(log n + len(m)); may
// allocate.
func (s *Set) Add(m []byte, score float64) (r Ref, added bool) {
	if id := s.find(hashMember(m), m); id != 0 {
		s.Update(Ref(id), score)
		return Ref(id), false
	}
	return s.Insert(m, score), true
}

// Update changes element r's score; r stays valid. O(1) when the element
// keeps its place (its neighbours' scores are strictly below and above the
// new score, Redis's in-place case), else O(log n). Does not allocate.
func (s *Set) Update(r Ref, score float64) {
	s.checkRef(r)
	x := uint32(r)
	n := s.n(x)
	if (n.back == 0 || s.n(n.back).score < score) && (n.next == 0 || s.n(n.next).score > score) {
		n.score = score
		return
	}
	var update [maxLevel]uint32
	s.path(x, &update)
	s.unlinkNode(x, &update)
	s.n(x).score = score
	s.insertNode(x)
}

// Delete removes member m. O(log n + len(m)).
func (s *Set) Delete(m []byte) bool {
	id := s.find(hashMember(m), m)
	if id == 0 {
		return false
	}
	s.DeleteRef(Ref(id))
	return true
}

// DeleteRef removes element r; r becomes stale, and so may other Refs
// (see Ref). O(log n): compacting a member page on the way copies at most
// one page, and emptying a node segment moves at most a few nodes.
func (s *Set) DeleteRef(r Ref) {
	s.checkRef(r)
	var update [maxLevel]uint32
	s.path(uint32(r), &update)
	s.remove(uint32(r), &update)
	s.shrinkNodes()
}

// remove takes node x, whose predecessors are update, out of everything.
func (s *Set) remove(x uint32, update *[maxLevel]uint32) {
	s.rehashStep()
	s.unlinkNode(x, update)
	s.unlink(x)
	n := s.n(x)
	s.freeTower(n.tower)
	s.freeMember(n)
	s.freeNodeID(x)
	s.length--
	s.resizeIfDue()
}

// First returns the element of lowest rank, Nil if the set is empty. O(1).
func (s *Set) First() Ref { return Ref(s.n(0).next) }

// Last returns the element of highest rank, Nil if the set is empty. O(1).
func (s *Set) Last() Ref { return Ref(s.tail) }

// Next returns the element after r in ascending order, Nil after the
// last. O(1).
func (s *Set) Next(r Ref) Ref {
	s.checkRef(r)
	return Ref(s.n(uint32(r)).next)
}

// Prev returns the element before r in ascending order, Nil before the
// first. O(1).
func (s *Set) Prev(r Ref) Ref {
	s.checkRef(r)
	return Ref(s.n(uint32(r)).back)
}

// PopMin removes the element of lowest rank and returns its member and
// score; ok is false when the set is empty. The member aliases the set and
// stays valid until the next call that modifies the set. O(1) plus the
// element's height (expected O(1)).
func (s *Set) PopMin() (m []byte, score float64, ok bool) {
	x := s.n(0).next
	if x == 0 {
		return nil, 0, false
	}
	n := s.n(x)
	m, score = s.member(n), n.score
	var update [maxLevel]uint32 // the header precedes the first node at every level
	s.remove(x, &update)
	s.shrinkNodes()
	return m, score, true
}

// PopMax removes the element of highest rank and returns its member and
// score, like PopMin. O(log n).
func (s *Set) PopMax() (m []byte, score float64, ok bool) {
	x := s.tail
	if x == 0 {
		return nil, 0, false
	}
	n := s.n(x)
	m, score = s.member(n), n.score
	var update [maxLevel]uint32
	s.path(x, &update)
	s.remove(x, &update)
	s.shrinkNodes()
	return m, score, true
}

// Random returns an element chosen by rnd (uniform when rnd is: element
// floor(rnd*n/2^64) in rank order), Nil if the set is empty: ZRANDMEMBER.
// O(log n).
func (s *Set) Random(rnd uint64) Ref {
	if s.length == 0 {
		return Nil
	}
	hi, _ := bits.Mul64(rnd, uint64(s.length))
	return s.ByRank(int(hi))
}

// before reports whether node x orders strictly before (score, m).
func (s *Set) before(x uint32, score float64, m []byte) bool {
	n := s.n(x)
	if n.score != score {
		return n.score < score
	}
	return bytes.Compare(s.member(n), m) < 0
}

// notAfter reports whether node x orders before or at (score, m).
func (s *Set) notAfter(x uint32, score float64, m []byte) bool {
	n := s.n(x)
	if n.score != score {
		return n.score < score
	}
	return bytes.Compare(s.member(n), m) <= 0
}
