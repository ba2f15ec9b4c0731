package zset

import "encoding/binary"

// Nodes live in segments of nodeSeg (the first one starts small and
// doubles up to nodeSeg). Each segment has its own free list (threaded
// through node.hnext) and live count, and new nodes take the lowest
// segment with a free id, so live nodes gather in low segments.
//
// When the set has shrunk so far that the segments below the last could
// hold every node twice over, the deleting calls (and Tidy) empty the last
// segment by moving its live nodes into free ids below, a bounded number
// per call (each move is O(log n): the node's predecessors, bucket chain
// and member record are repointed), and release it once it is empty. This
// is why a delete may change the Ref of another element.
const (
	moveBatch = 8  // nodes moved per deleting call, at most
	moveScan  = 64 // ids examined per deleting call, at most
)

type segMeta struct {
	free uint32 // first free id of the segment, 0 if none
	live uint32 // ids in use (the header counts in segment 0)
}

// allocNode takes a free node id, the lowest there is, else carves a new
// one. O(1) amortized; may allocate a segment (or grow the first).
func (s *Set) allocNode() uint32 {
	for s.lowFree < len(s.segs) && s.segs[s.lowFree].free == 0 {
		s.lowFree++
	}
	if i := s.lowFree; i < len(s.segs) {
		id := s.segs[i].free
		s.segs[i].free = s.n(id).hnext
		s.segs[i].live++
		return id
	}
	id := s.carved
	if id == freeMark {
		panic("zset: too many elements")
	}
	seg := int(id >> nodeShift)
	if seg == len(s.nodes) {
		s.nodes = append(s.nodes, make([]node, 0, nodeSeg))
		s.segs = append(s.segs, segMeta{})
		s.nodeBytes += nodeSeg * int64(nodeSize)
	}
	ns := s.nodes[seg]
	if len(ns) == cap(ns) {
		nn := make([]node, len(ns), min(2*cap(ns), nodeSeg))
		copy(nn, ns)
		s.nodeBytes += int64(cap(nn)-cap(ns)) * int64(nodeSize)
		ns = nn
	}
	s.nodes[seg] = ns[:len(ns)+1]
	s.segs[seg].live++
	s.carved++
	return id
}

// freeNodeID puts node id on its segment's free list. O(1).
func (s *Set) freeNodeID(id uint32) {
	seg := int(id >> nodeShift)
	*s.n(id) = node{mlen: freeMark, hnext: s.segs[seg].free}
	s.segs[seg].free = id
	s.segs[seg].live--
	s.lowFree = min(s.lowFree, seg)
}

// shrinkNodes does one bounded step of emptying the last node segment when
// the set is small enough: it reports whether more steps are due. O(log n)
// per node moved, at most moveBatch moves and moveScan ids examined.
func (s *Set) shrinkNodes() bool {
	last := len(s.nodes) - 1
	below := uint32(last) * nodeSeg
	if !s.shrinkDue() {
		return false
	}
	if s.vacate < below || s.vacate >= s.carved {
		s.vacate = s.carved - 1
	}
	for moved, scanned := 0, 0; s.segs[last].live > 0 && moved < moveBatch && scanned < moveScan; scanned++ {
		id := s.vacate
		if s.n(id).mlen != freeMark {
			s.move(id)
			moved++
		}
		if s.vacate--; s.vacate < below {
			s.vacate = s.carved - 1
		}
	}
	if s.segs[last].live > 0 {
		return true
	}
	s.nodeBytes -= int64(cap(s.nodes[last])) * int64(nodeSize)
	s.nodes[last] = nil
	s.nodes = s.nodes[:last]
	s.segs = s.segs[:last]
	s.carved = below
	s.lowFree = min(s.lowFree, last)
	return s.shrinkDue()
}

// shrinkDue reports whether the last node segment should be emptied.
func (s *Set) shrinkDue() bool {
	last := len(s.nodes) - 1
	return last > 0 && s.length+1 <= last*nodeSeg/2
}

// move gives element src a new, lower node id: its predecessors at every
// level, its successor, its bucket chain and its member record are
// repointed, and src is freed. O(log n).
func (s *Set) move(src uint32) {
	var update [maxLevel]uint32
	s.path(src, &update)
	dst := s.allocNode()
	if invariants && dst>>nodeShift >= src>>nodeShift {
		panic("zset: internal error: node moved up")
	}
	*s.n(dst) = *s.n(src)
	n := s.n(dst)
	s.n(update[0]).next = dst
	for i := 1; i < heightOf(n.tower); i++ {
		s.lv(update[i], i)[0] = dst
	}
	if n.next != 0 {
		s.n(n.next).back = dst
	} else {
		s.tail = dst
	}
	s.relink(src, dst)
	k := 4 + uvarintLen(uint64(n.mlen))
	binary.LittleEndian.PutUint32(s.ar.pages[n.mpage][int(n.moff)-k:], dst)
	s.freeNodeID(src)
}

// relink puts node dst in place of node src in src's bucket chain.
// O(chain length).
func (s *Set) relink(src, dst uint32) {
	d := &s.d
	h := s.n(dst).hash
	if i := h & d.t[0].mask; !d.rehashing || i >= d.rehashIdx {
		if s.replaceIn(&d.t[0], i, src, dst) {
			return
		}
	}
	if d.rehashing && s.replaceIn(&d.t[1], h&d.t[1].mask, src, dst) {
		return
	}
	panic("zset: internal error: node not in its bucket")
}

func (s *Set) replaceIn(t *btable, i, src, dst uint32) bool {
	if t.head(i) == src {
		t.setHead(i, dst)
		return true
	}
	for cur := t.head(i); cur != 0; cur = s.n(cur).hnext {
		if n := s.n(cur); n.hnext == src {
			n.hnext = dst
			return true
		}
	}
	return false
}

// Tidy does up to work steps of deferred upkeep, for the shard's idle
// time: moving the index's buckets while it resizes, and emptying the last
// node segment of a set that has shrunk. It reports whether upkeep
// remains. Like a delete, it may change the Ref of any element. O(work ×
// log n).
func (s *Set) Tidy(work int) bool {
	for range work {
		s.rehashStep()
		more := s.shrinkNodes()
		if !more && !s.d.rehashing {
			return false
		}
	}
	return s.d.rehashing || s.shrinkDue()
}
