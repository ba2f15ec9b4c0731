package zset

import (
	"encoding/binary"
)

// Member bytes live in pages: []byte buffers with no pointers. A record is
// the owning node's id (4 bytes, little endian; 0 once the record is
// dead), the member's length as a uvarint, then the member. A node keeps
// its member's page, offset and length, so reading a member is one slice
// expression.
//
// Records are appended to the current page. The first page starts small
// and doubles up to pageMax; later pages are pageMax. A record bigger than
// bigRecord gets a page of its own, released when the record dies. Space
// is never reused inside a page: a page whose dead bytes pass half of it is
// compacted by copying its live records into the current page (or, for
// the current page, into a fresh buffer), which costs at most one page of
// copying and keeps the arena within about twice the live bytes. Because
// no buffer is ever written over, member slices handed out stay intact.
const (
	pageMax   = 64 << 10
	bigRecord = pageMax / 4
	firstPage = 64
)

type pageInfo struct {
	live uint32 // bytes of live records
	dead uint32 // bytes of dead records
	big  bool   // holds one record bigger than bigRecord
}

type arena struct {
	pages     [][]byte // nil when free
	info      []pageInfo
	freePages []uint32
	cur       uint32 // the page records are appended to
	bytes     int64  // capacity of all pages
}

func recSize(n int) int { return 4 + uvarintLen(uint64(n)) + n }

func uvarintLen(x uint64) int {
	n := 1
	for x >= 0x80 {
		x >>= 7
		n++
	}
	return n
}

func (a *arena) init() {
	a.pages = [][]byte{nil}
	a.info = []pageInfo{{}}
}

func (a *arena) newPage() uint32 {
	if n := len(a.freePages); n > 0 {
		p := a.freePages[n-1]
		a.freePages = a.freePages[:n-1]
		return p
	}
	a.pages = append(a.pages, nil)
	a.info = append(a.info, pageInfo{})
	return uint32(len(a.pages) - 1)
}

func (a *arena) releasePage(p uint32) {
	a.bytes -= int64(cap(a.pages[p]))
	a.pages[p] = nil
	a.info[p] = pageInfo{}
	a.freePages = append(a.freePages, p)
}

// member returns node n's member bytes, aliasing its page. O(1).
func (s *Set) member(n *node) []byte {
	return s.ar.pages[n.mpage][n.moff : n.moff+n.mlen : n.moff+n.mlen]
}

// putMember stores m as node id's member and records where in the node.
// O(len(m)) amortized; compacting or growing the current page on the way
// copies at most one page. May allocate.
func (s *Set) putMember(id uint32, m []byte) {
	a := &s.ar
	size := recSize(len(m))
	var p uint32
	if size > bigRecord {
		p = a.newPage()
		a.pages[p] = make([]byte, 0, size)
		a.bytes += int64(size)
		a.info[p].big = true
	} else {
		s.roomFor(size)
		p = a.cur
	}
	buf := a.pages[p]
	buf = binary.LittleEndian.AppendUint32(buf, id)
	buf = binary.AppendUvarint(buf, uint64(len(m)))
	moff := len(buf)
	a.pages[p] = append(buf, m...)
	a.info[p].live += uint32(size)
	n := s.n(id)
	n.mpage, n.moff, n.mlen = p, uint32(moff), uint32(len(m))
}

// roomFor makes the current page able to take a record of size bytes
// (size <= bigRecord): by growing or compacting it, or by starting a new
// page. O(pageMax) at worst. May allocate.
func (s *Set) roomFor(size int) {
	a := &s.ar
	buf := a.pages[a.cur]
	if cap(buf)-len(buf) >= size {
		return
	}
	inf := a.info[a.cur]
	need := int(inf.live) + size
	half := int(inf.dead) >= cap(buf)/2
	if cap(buf) < pageMax || half {
		c := max(cap(buf), firstPage)
		if !half {
			c *= 2
		}
		for c < need {
			c *= 2
		}
		if c <= pageMax {
			s.rewritePage(a.cur, c)
			return
		}
	}
	old := a.cur
	a.cur = a.newPage()
	a.pages[a.cur] = make([]byte, 0, pageMax)
	a.bytes += pageMax
	s.settle(old)
}

// rewritePage copies page p's live records into a new buffer of capacity
// c, dropping the dead ones. O(page size).
func (s *Set) rewritePage(p uint32, c int) {
	a := &s.ar
	old := a.pages[p]
	nb := make([]byte, 0, c)
	for off := 0; off < len(old); {
		id := binary.LittleEndian.Uint32(old[off:])
		l, k := binary.Uvarint(old[off+4:])
		end := off + 4 + k + int(l)
		if id != 0 {
			s.n(id).moff = uint32(len(nb) + 4 + k)
			nb = append(nb, old[off:end]...)
		}
		off = end
	}
	a.bytes += int64(c - cap(old))
	a.pages[p] = nb
	a.info[p].dead = 0
}

// freeMember marks node n's member record dead, releasing or compacting
// its page when that is due. O(1), or O(pageMax) when it compacts.
func (s *Set) freeMember(n *node) {
	a := &s.ar
	p := n.mpage
	k := 4 + uvarintLen(uint64(n.mlen))
	start := int(n.moff) - k
	binary.LittleEndian.PutUint32(a.pages[p][start:], 0)
	size := uint32(k) + n.mlen
	a.info[p].live -= size
	a.info[p].dead += size
	if p != a.cur {
		s.settle(p)
	}
}

// settle releases page p (not the current one) when it holds no live
// record, and moves its live records to the current page when half of it
// is dead. O(pageMax) at worst.
func (s *Set) settle(p uint32) {
	a := &s.ar
	inf := a.info[p]
	if inf.live == 0 {
		a.releasePage(p)
		return
	}
	if inf.big || int(inf.dead) < cap(a.pages[p])/2 {
		return
	}
	old := a.pages[p]
	for off := 0; off < len(old); {
		id := binary.LittleEndian.Uint32(old[off:])
		l, k := binary.Uvarint(old[off+4:])
		end := off + 4 + k + int(l)
		if id != 0 {
			size := end - off
			s.roomFor(size)
			buf := a.pages[a.cur]
			n := s.n(id)
			n.mpage, n.moff = a.cur, uint32(len(buf)+4+k)
			a.pages[a.cur] = append(buf, old[off:end]...)
			a.info[a.cur].live += uint32(size)
		}
		off = end
	}
	a.releasePage(p)
}
