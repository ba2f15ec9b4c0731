package kv

// Entries live in segments of segLen entries (512 KiB, no pointers), so
// adding keys never copies existing entries and a Ref (the entry id:
// segment<<segShift | index) never moves. Id 0 is reserved for Nil.
//
// Each segment has its own free list (threaded through entry.next) and bump
// index. New entries go to the lowest segment with room, so live entries
// gather in low segments and high ones drain as keys are deleted; a segment
// left with no live entry is released to the GC, except one empty segment
// kept as a spare so that inserting and deleting at a segment boundary does
// not allocate each time.
const (
	segShift  = 14
	segLen    = 1 << segShift
	segMask   = segLen - 1
	maxSegs   = 1 << (32 - segShift)
	entrySize = 32 // unsafe.Sizeof(entry{}), checked by a test
)

type segMeta struct {
	free uint32 // first free id of the segment, 0 if none
	bump uint32 // entries of the segment handed out at least once
	live uint32 // entries in use
}

type entryAlloc struct {
	segs    []*[segLen]entry // nil when released
	meta    []segMeta
	lowFree int // every segment below it is allocated and full
	spare   int // an empty segment kept allocated, -1 if none
	count   int // allocated segments
}

func (a *entryAlloc) init() {
	a.spare = -1
}

func (a *entryAlloc) full(i int) bool {
	m := &a.meta[i]
	return a.segs[i] != nil && m.free == 0 && m.bump == segLen
}

// alloc takes a free entry id. O(1) amortized: the search for the lowest
// segment with room moves a hint forward (it moves back only to a segment
// where an entry was freed). Allocates only a new segment.
func (a *entryAlloc) alloc() uint32 {
	for a.lowFree < len(a.segs) && a.full(a.lowFree) {
		a.lowFree++
	}
	i := a.lowFree
	if i == len(a.segs) {
		if i == maxSegs {
			panic("kv: too many keys")
		}
		a.segs = append(a.segs, nil)
		a.meta = append(a.meta, segMeta{})
	}
	if a.segs[i] == nil {
		a.segs[i] = new([segLen]entry)
		a.meta[i] = segMeta{}
		if i == 0 {
			a.meta[i].bump = 1 // id 0 is Nil
		}
		a.count++
	}
	m := &a.meta[i]
	var id uint32
	if m.free != 0 {
		id = m.free
		m.free = a.segs[i][id&segMask].next
	} else {
		id = uint32(i)<<segShift | m.bump
		m.bump++
	}
	m.live++
	if a.spare == i {
		a.spare = -1
	}
	return id
}

// free returns id (whose entry is e) to its segment, and returns the
// index of the segment it released as a result, -1 if none. O(1)
// amortized.
func (a *entryAlloc) free(id uint32, e *entry) int {
	i := int(id >> segShift)
	m := &a.meta[i]
	*e = entry{next: m.free}
	m.free = id
	m.live--
	if i < a.lowFree {
		a.lowFree = i
	}
	if m.live != 0 {
		return -1
	}
	switch {
	case a.spare < 0:
		a.spare = i
		return -1
	case a.spare > i:
		old := a.spare
		a.release(old)
		a.spare = i
		return old
	default:
		a.release(i)
		return i
	}
}

func (a *entryAlloc) release(i int) {
	a.segs[i] = nil
	a.meta[i] = segMeta{}
	a.count--
	n := len(a.segs)
	for n > 0 && a.segs[n-1] == nil {
		n--
	}
	clear(a.segs[n:]) // already nil; keeps the GC from seeing stale pointers
	a.segs, a.meta = a.segs[:n], a.meta[:n]
	a.lowFree = min(a.lowFree, n)
}
