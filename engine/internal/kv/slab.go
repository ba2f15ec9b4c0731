package kv

import (
	"encoding/binary"
	"math/bits"
)

// Size classes. Records of up to maxClassSize bytes live in slots of the
// smallest class that holds them: 16 bytes, then 8 classes per doubling
// (18, 20, ... 32, 36, ... 64, 72, ...), so a slot wastes under 12.5% of the
// record. Bigger records get a buffer of their own (hugeClass).
const (
	minClassSize = 16
	maxClassSize = 32 << 10
	numClasses   = 1 + 8*11 // 16, then 8 per doubling from 16 to 32 KiB
	hugeClass    = locClassMask
	minPageSize  = 64 << 10 // pages are max(minPageSize, 8 slots)
	noSlot       = ^uint32(0)
)

var (
	classSize [numClasses]uint32 // slot size of each class
	classPage [numClasses]uint32 // page size of each class
)

func init() {
	classSize[0] = minClassSize
	for c := 1; c < numClasses; c++ {
		d, i := (c-1)/8, (c-1)%8+1
		base := uint32(minClassSize) << d
		classSize[c] = base + uint32(i)*(base/8)
	}
	for c, n := range classSize {
		classPage[c] = max(minPageSize, 8*n)
	}
}

// classOf is the class of a record of n bytes, hugeClass when n exceeds the
// largest class. O(1).
func classOf(n int) int {
	if n <= minClassSize {
		return 0
	}
	if n > maxClassSize {
		return hugeClass
	}
	b := bits.Len(uint(n - 1)) // 2^(b-1) < n <= 2^b
	step := uint(b - 4)        // the classes of this doubling are 2^(b-4) apart
	base := 1 << (b - 1)
	return (b-5)*8 + (n-base+1<<step-1)>>step
}

// A page is a []byte carved into slots of one class. Slots are handed out
// from the page's free list (threaded through the first 4 bytes of each
// free slot: the next free offset, noSlot at the end) or, while the page is
// not fully carved, from its bump offset.
//
// Each class allocates from one current page; pages that are not current
// and have free slots sit on the class's partial list. A page that becomes
// empty while not current is released to the GC at once (its free list is
// its own, so that costs O(1)); the current page is never released, which
// keeps a workload hovering at a page boundary from allocating a page per
// call.
type pageMeta struct {
	free  uint32 // offset of the first free slot, noSlot if none
	bump  uint32 // bytes carved from the start of the page
	live  uint32 // slots in use
	class uint8
	state uint8
	prev  int32 // partial list links (-1 ends); next also links unused ids
	next  int32
}

const (
	pageUnused uint8 = iota
	pageCurrent
	pagePartial
	pageFull
)

type classState struct {
	cur     int32 // page allocated from, -1 if none
	partial int32 // first page of the partial list, -1 if none
}

type slab struct {
	pages     [][]byte // by page id; nil when unused
	meta      []pageMeta
	unused    int32 // first unused page id, -1 if none
	classes   [numClasses]classState
	pageCount int
	pageBytes int64
	slotBytes int64 // bytes of slots in use
	released  int64 // bytes of pages released, over the slab's life
}

func (sl *slab) init() {
	sl.unused = -1
	for c := range sl.classes {
		sl.classes[c] = classState{cur: -1, partial: -1}
	}
}

// alloc takes a slot of class c and returns its page id and offset. O(1);
// allocates only a new page (and, rarely, grows the page table).
func (sl *slab) alloc(c int) (uint32, uint32) {
	cs := &sl.classes[c]
	size := classSize[c]
	if p := cs.cur; p >= 0 {
		if off, ok := sl.take(p, size); ok {
			return uint32(p), off
		}
		sl.meta[p].state = pageFull
		cs.cur = -1
	}
	p := cs.partial
	if p >= 0 {
		sl.unlinkPartial(p)
	} else {
		p = sl.newPage(c)
	}
	sl.meta[p].state = pageCurrent
	cs.cur = p
	off, ok := sl.take(p, size)
	if !ok {
		panic("kv: internal error: fresh or partial page has no free slot")
	}
	return uint32(p), off
}

func (sl *slab) take(p int32, size uint32) (uint32, bool) {
	m := &sl.meta[p]
	var off uint32
	switch {
	case m.free != noSlot:
		off = m.free
		m.free = binary.LittleEndian.Uint32(sl.pages[p][off:])
	case m.bump+size <= uint32(len(sl.pages[p])):
		off = m.bump
		m.bump += size
	default:
		return 0, false
	}
	m.live++
	sl.slotBytes += int64(size)
	return off, true
}

func (sl *slab) newPage(c int) int32 {
	p := sl.unused
	if p >= 0 {
		sl.unused = sl.meta[p].next
	} else {
		if len(sl.pages) > locPageMask {
			panic("kv: too many pages")
		}
		p = int32(len(sl.pages))
		sl.pages = append(sl.pages, nil)
		sl.meta = append(sl.meta, pageMeta{})
	}
	n := classPage[c]
	sl.pages[p] = make([]byte, n)
	sl.meta[p] = pageMeta{free: noSlot, class: uint8(c), prev: -1, next: -1}
	sl.pageCount++
	sl.pageBytes += int64(n)
	return p
}

// free returns the slot at page p, offset off. O(1).
func (sl *slab) free(p, off uint32) {
	m := &sl.meta[p]
	size := classSize[m.class]
	binary.LittleEndian.PutUint32(sl.pages[p][off:], m.free)
	m.free = off
	m.live--
	sl.slotBytes -= int64(size)
	switch {
	case m.state == pageFull:
		sl.pushPartial(int32(p))
	case m.state == pagePartial && m.live == 0:
		sl.unlinkPartial(int32(p))
		sl.release(int32(p))
	}
}

func (sl *slab) pushPartial(p int32) {
	m := &sl.meta[p]
	cs := &sl.classes[m.class]
	m.state = pagePartial
	m.prev, m.next = -1, cs.partial
	if cs.partial >= 0 {
		sl.meta[cs.partial].prev = p
	}
	cs.partial = p
}

func (sl *slab) unlinkPartial(p int32) {
	m := &sl.meta[p]
	if m.prev >= 0 {
		sl.meta[m.prev].next = m.next
	} else {
		sl.classes[m.class].partial = m.next
	}
	if m.next >= 0 {
		sl.meta[m.next].prev = m.prev
	}
	m.prev, m.next = -1, -1
}

// trim releases the current page of each class that has no record in it.
// O(number of classes).
func (sl *slab) trim() {
	for c := range sl.classes {
		cs := &sl.classes[c]
		if p := cs.cur; p >= 0 && sl.meta[p].live == 0 {
			cs.cur = -1
			sl.release(p)
		}
	}
}

func (sl *slab) release(p int32) {
	sl.pageBytes -= int64(len(sl.pages[p]))
	sl.released += int64(len(sl.pages[p]))
	sl.pageCount--
	sl.pages[p] = nil
	sl.meta[p] = pageMeta{state: pageUnused, next: sl.unused}
	sl.unused = p
}

// allocRecord returns a location and the slot for a record of n bytes; a
// huge record gets a buffer of length n and capacity c (c >= n). O(1);
// allocates a page or a huge buffer when needed.
func (s *Store) allocRecord(n, c int) (uint64, []byte) {
	class := classOf(n)
	if class == hugeClass {
		b := make([]byte, n, c)
		s.hugeBytes += int64(cap(b))
		return makeLoc(hugeClass, s.huge.put(b), 0), b
	}
	p, off := s.slab.alloc(class)
	return makeLoc(class, p, off), s.slab.pages[p][off : off+classSize[class]]
}

// freeRecord releases the record at loc. O(1).
func (s *Store) freeRecord(loc uint64) {
	if locClass(loc) == hugeClass {
		id := locPage(loc)
		s.hugeBytes -= int64(cap(*s.huge.at(id)))
		s.released += int64(cap(*s.huge.at(id)))
		s.huge.del(id)
		return
	}
	s.slab.free(locPage(loc), locOff(loc))
}

// reshape gives e's record a value of n bytes and returns that value. The
// new value is src if src is not nil (len(src) == n; src may alias store
// memory, even e's own record), otherwise the first keep bytes of the old
// value followed by zeros. The record is rewritten in place when it stays in
// its size class (for a huge record: when it fits the buffer's capacity
// without wasting more than 3/4 of it); otherwise a new slot is taken, the
// record copied and the old slot freed. grow asks for headroom in a new
// huge buffer. Flags of e.loc are kept. O(1) plus the bytes copied.
func (s *Store) reshape(e *entry, n, keep int, src []byte, grow bool) []byte {
	old := s.record(e.loc)
	klen, vlen, hl := header(old)
	newLen := recordLen(klen, n)
	newHL := headerLen(klen, n)
	s.recBytes += int64(newLen - (hl + klen + vlen))
	class := locClass(e.loc)
	inPlace := classOf(newLen) == class
	if inPlace && class == hugeClass {
		inPlace = newLen <= cap(old) && newLen >= cap(old)/4
	}
	if inPlace && newHL != hl && src != nil && overlaps(src, old[:cap(old)]) {
		inPlace = false // moving the key could clobber src (the check may
		// also match a neighbouring slot of the page: relocating is safe)
	}
	if inPlace {
		b := old
		if class == hugeClass {
			b = old[:newLen]
			*s.huge.at(locPage(e.loc)) = b
		}
		if newHL != hl {
			copy(b[newHL:], b[hl:hl+klen+keep])
		}
		putHeader(b, klen, n)
		v := b[newHL+klen : newHL+klen+n : newHL+klen+n]
		if src != nil {
			copy(v, src)
		} else if keep < n {
			clear(v[keep:])
		}
		return v
	}
	c := newLen
	if grow && classOf(newLen) == hugeClass {
		c += min(newLen, 1<<20)
	}
	loc, b := s.allocRecord(newLen, c)
	putHeader(b, klen, n)
	copy(b[newHL:], old[hl:hl+klen])
	v := b[newHL+klen : newHL+klen+n : newHL+klen+n]
	if src != nil {
		copy(v, src)
	} else {
		copy(v, old[hl+klen:hl+klen+keep])
		clear(v[keep:])
	}
	s.freeRecord(e.loc)
	e.loc = e.loc&(locLive|locObject) | loc
	return v
}
