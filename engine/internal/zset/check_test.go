package zset

import (
	"bytes"
	"encoding/binary"
	"fmt"
)

// checkInvariants verifies every structural invariant of s: the level-0
// order and links, the spans of every level, the index, the member pages'
// accounting and the free lists. O(n log n); tests only.
func (s *Set) checkInvariants() error {
	// Level 0: order, back links, tail, length; ranks of every node.
	rank := map[uint32]int{0: 0}
	heights := map[uint32]int{}
	prev, count := uint32(0), 0
	for x := s.n(0).next; x != 0; x = s.n(x).next {
		n := s.n(x)
		if n.mlen == freeMark {
			return fmt.Errorf("free node %d linked", x)
		}
		if n.back != prev {
			return fmt.Errorf("node %d: back %d, want %d", x, n.back, prev)
		}
		if prev != 0 && !s.before(prev, n.score, s.member(n)) {
			return fmt.Errorf("node %d out of order after %d", x, prev)
		}
		count++
		rank[x] = count
		heights[x] = heightOf(n.tower)
		if heights[x] > s.level {
			return fmt.Errorf("node %d height %d above level %d", x, heights[x], s.level)
		}
		if count > s.length {
			return fmt.Errorf("more nodes than length %d", s.length)
		}
		prev = x
	}
	if count != s.length || s.tail != prev {
		return fmt.Errorf("count %d length %d tail %d last %d", count, s.length, s.tail, prev)
	}
	if s.level > 1 && s.lv(0, s.level-1)[0] == 0 {
		return fmt.Errorf("top level %d empty", s.level)
	}
	// Higher levels: every node of height > l, in order, with exact spans.
	for l := 1; l < s.level; l++ {
		p, seen := uint32(0), 0
		for f := s.fwd(0, l); f != 0; f = s.fwd(p, l) {
			r, ok := rank[f]
			if !ok || heights[f] <= l {
				return fmt.Errorf("level %d links node %d (height %d)", l, f, heights[f])
			}
			if sp := s.span(p, l); sp != r-rank[p] {
				return fmt.Errorf("level %d span %d->%d is %d, want %d", l, p, f, sp, r-rank[p])
			}
			seen++
			p = f
		}
		want := 0
		for _, h := range heights {
			if h > l {
				want++
			}
		}
		if seen != want {
			return fmt.Errorf("level %d links %d nodes, want %d", l, seen, want)
		}
	}
	// Index.
	if s.d.t[0].used+s.d.t[1].used != s.length {
		return fmt.Errorf("index holds %d+%d, length %d", s.d.t[0].used, s.d.t[1].used, s.length)
	}
	for x := range rank {
		if x == 0 {
			continue
		}
		n := s.n(x)
		m := s.member(n)
		if n.hash != hashMember(m) {
			return fmt.Errorf("node %d hash", x)
		}
		if got := s.find(n.hash, m); got != x {
			return fmt.Errorf("find(%q) = %d, want %d", m, got, x)
		}
	}
	// Pages: records match their nodes; live and dead bytes add up.
	a := &s.ar
	liveRecs := 0
	for p, buf := range a.pages {
		if buf == nil {
			if a.info[p] != (pageInfo{}) {
				return fmt.Errorf("free page %d has info %+v", p, a.info[p])
			}
			continue
		}
		var live, dead uint32
		for off := 0; off < len(buf); {
			id := binary.LittleEndian.Uint32(buf[off:])
			l, k := binary.Uvarint(buf[off+4:])
			end := off + 4 + k + int(l)
			if id != 0 {
				n := s.n(id)
				if _, ok := rank[id]; !ok || n.mpage != uint32(p) || int(n.moff) != off+4+k || int(n.mlen) != int(l) {
					return fmt.Errorf("page %d record at %d names node %d that is elsewhere", p, off, id)
				}
				if !bytes.Equal(s.member(n), buf[off+4+k:end]) {
					return fmt.Errorf("page %d record at %d", p, off)
				}
				live += uint32(end - off)
				liveRecs++
			} else {
				dead += uint32(end - off)
			}
			off = end
		}
		if live != a.info[p].live || dead != a.info[p].dead {
			return fmt.Errorf("page %d: live %d dead %d, info %+v", p, live, dead, a.info[p])
		}
		if uint32(p) != a.cur && !a.info[p].big && (live == 0 || int(dead) >= cap(buf)/2) {
			return fmt.Errorf("page %d should have been settled: live %d dead %d cap %d", p, live, dead, cap(buf))
		}
	}
	if liveRecs != s.length {
		return fmt.Errorf("%d live records, %d elements", liveRecs, s.length)
	}
	// Node segments: free lists and live counts.
	if len(s.segs) != len(s.nodes) || int(s.carved) != (len(s.nodes)-1)*nodeSeg+len(s.nodes[len(s.nodes)-1]) {
		return fmt.Errorf("%d segments, %d metas, %d carved", len(s.nodes), len(s.segs), s.carved)
	}
	free := 0
	for seg, m := range s.segs {
		k := 0
		for x := m.free; x != 0; x = s.n(x).hnext {
			if int(x>>nodeShift) != seg || s.n(x).mlen != freeMark || k > nodeSeg {
				return fmt.Errorf("segment %d free list broken at %d", seg, x)
			}
			k++
		}
		if k+int(m.live) != len(s.nodes[seg]) {
			return fmt.Errorf("segment %d: %d free + %d live != %d carved", seg, k, m.live, len(s.nodes[seg]))
		}
		if k > 0 && seg < s.lowFree {
			return fmt.Errorf("segment %d has free ids below lowFree %d", seg, s.lowFree)
		}
		free += k
	}
	if free+s.length+1 != int(s.carved) {
		return fmt.Errorf("%d free + %d live + header != %d carved", free, s.length, s.carved)
	}
	return nil
}
