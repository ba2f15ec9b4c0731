package kv

import (
	"fmt"
	"unsafe"
)

// check verifies every structural invariant of s. O(size of the store);
// tests only.
func (s *Store) check() error {
	if unsafe.Sizeof(entry{}) != entrySize {
		return fmt.Errorf("entry is %d bytes, want %d", unsafe.Sizeof(entry{}), entrySize)
	}
	seen := map[uint32]bool{}
	keys := map[string]bool{}
	var volatile, objects, huge int
	var recBytes, hugeBytes int64
	pageLive := map[uint32]uint32{}
	segLive := map[int]uint32{}
	walk := func(ti int) (int, error) {
		t := &s.t[ti]
		n, real := 0, 0
		for k, c := range t.chunks {
			if !isZeroChunk(c) {
				real++
			}
			if len(t.chunks) > 1 && len(c) != chunkLen {
				return 0, fmt.Errorf("t%d chunk %d has %d heads", ti, k, len(c))
			}
		}
		if real != t.real {
			return 0, fmt.Errorf("t%d has %d real chunks, counted %d", ti, real, t.real)
		}
		for i := uint64(0); i <= t.mask; i++ {
			id := t.head(i)
			if ti == 0 && s.rehashing && i < s.rehashIdx && id != 0 {
				return 0, fmt.Errorf("t0 bucket %d below rehash index %d is not empty", i, s.rehashIdx)
			}
			for steps := 0; id != 0; steps++ {
				if steps > s.count {
					return 0, fmt.Errorf("t%d bucket %d: chain loops", ti, i)
				}
				if seen[id] {
					return 0, fmt.Errorf("entry %d linked twice", id)
				}
				seen[id] = true
				if int(id>>segShift) >= len(s.ents.segs) || s.ents.segs[id>>segShift] == nil {
					return 0, fmt.Errorf("entry %d in a released segment", id)
				}
				segLive[int(id>>segShift)]++
				e := &s.ents.segs[id>>segShift][id&segMask]
				if e.loc&locLive == 0 {
					return 0, fmt.Errorf("entry %d linked but not live", id)
				}
				if e.hash&t.mask != i {
					return 0, fmt.Errorf("entry %d in t%d bucket %d, belongs in %d", id, ti, i, e.hash&t.mask)
				}
				b := s.record(e.loc)
				klen, vlen, hl := header(b)
				rl := hl + klen + vlen
				if rl > len(b) {
					return 0, fmt.Errorf("entry %d record of %d bytes overruns its %d", id, rl, len(b))
				}
				if c := locClass(e.loc); c != classOf(rl) {
					return 0, fmt.Errorf("entry %d record of %d bytes in class %d, want %d", id, rl, c, classOf(rl))
				} else if c != hugeClass {
					pageLive[locPage(e.loc)]++
					if c != int(s.slab.meta[locPage(e.loc)].class) {
						return 0, fmt.Errorf("entry %d class %d in a page of class %d", id, c, s.slab.meta[locPage(e.loc)].class)
					}
					if locOff(e.loc)%classSize[c] != 0 {
						return 0, fmt.Errorf("entry %d at misaligned offset %d", id, locOff(e.loc))
					}
				} else {
					huge++
					hugeBytes += int64(cap(b))
					if len(b) != rl {
						return 0, fmt.Errorf("huge record %d has buffer %d, record %d", id, len(b), rl)
					}
				}
				recBytes += int64(rl)
				key := string(b[hl : hl+klen])
				if Hash([]byte(key)) != e.hash {
					return 0, fmt.Errorf("entry %d hash does not match its key", id)
				}
				if keys[key] {
					return 0, fmt.Errorf("key %q present twice", key)
				}
				keys[key] = true
				if e.expire != NoExpire {
					volatile++
				}
				if e.loc&locObject != 0 {
					objects++
					if vlen != objSlotLen {
						return 0, fmt.Errorf("object record %d has value of %d bytes", id, vlen)
					}
					if slot := objSlot(b); slot >= s.objs.n {
						return 0, fmt.Errorf("object record %d names slot %d of %d", id, slot, s.objs.n)
					}
				}
				n++
				id = e.next
			}
		}
		if n != t.used {
			return 0, fmt.Errorf("t%d holds %d entries, used says %d", ti, n, t.used)
		}
		return n, nil
	}
	n0, err := walk(0)
	if err != nil {
		return err
	}
	n1 := 0
	if s.rehashing {
		if n1, err = walk(1); err != nil {
			return err
		}
	} else if s.t[1].chunks != nil || s.t[1].used != 0 {
		return fmt.Errorf("t1 exists while not rehashing")
	}
	switch {
	case n0+n1 != s.count:
		return fmt.Errorf("tables hold %d entries, count is %d", n0+n1, s.count)
	case volatile != s.volatile:
		return fmt.Errorf("%d volatile keys, counted %d", volatile, s.volatile)
	case objects != s.objects || objects != s.objs.live:
		return fmt.Errorf("%d objects, counted %d, side table %d", objects, s.objects, s.objs.live)
	case huge != s.huge.live:
		return fmt.Errorf("%d huge records, side table has %d", huge, s.huge.live)
	case hugeBytes != s.hugeBytes:
		return fmt.Errorf("%d huge bytes, counted %d", hugeBytes, s.hugeBytes)
	case recBytes != s.recBytes:
		return fmt.Errorf("%d record bytes, counted %d", recBytes, s.recBytes)
	case !s.rehashing && s.t[0].size() > minBuckets && uint64(s.count) > 2*s.t[0].size():
		return fmt.Errorf("%d keys in %d buckets", s.count, s.t[0].size())
	}
	if err := s.checkSlab(pageLive); err != nil {
		return err
	}
	if err := s.checkEntries(segLive); err != nil {
		return err
	}
	return s.checkSlots(seen)
}

// checkSlots verifies the per-slot key lists: every live entry (live) is
// in the list of its key's slot exactly once, lists are doubly linked
// right, counts match, and link segments mirror entry segments.
func (s *Store) checkSlots(live map[uint32]bool) error {
	x := s.slots
	if x == nil {
		return nil
	}
	if unsafe.Sizeof(slotLink{}) != slotLinkSize {
		return fmt.Errorf("slotLink is %d bytes, want %d", unsafe.Sizeof(slotLink{}), slotLinkSize)
	}
	nsegs := 0
	for i := 0; i < max(len(x.links), len(s.ents.segs)); i++ {
		hasLinks := i < len(x.links) && x.links[i] != nil
		hasEnts := i < len(s.ents.segs) && s.ents.segs[i] != nil
		if hasLinks != hasEnts {
			return fmt.Errorf("segment %d: entries allocated %v, links allocated %v", i, hasEnts, hasLinks)
		}
		if hasLinks {
			nsegs++
		}
	}
	if nsegs != x.nsegs {
		return fmt.Errorf("%d link segments, counted %d", nsegs, x.nsegs)
	}
	listed := map[uint32]bool{}
	for slot := range x.head {
		n, prev := uint32(0), uint32(0)
		for id := x.head[slot]; id != 0; id = x.link(id).next {
			if !live[id] {
				return fmt.Errorf("slot %d lists entry %d, which is not live", slot, id)
			}
			if listed[id] {
				return fmt.Errorf("entry %d listed twice", id)
			}
			listed[id] = true
			if got := slotOf(s.Key(Ref(id))); int(got) != slot {
				return fmt.Errorf("entry %d of slot %d listed in slot %d", id, got, slot)
			}
			if l := x.link(id); l.prev != prev {
				return fmt.Errorf("slot %d: entry %d has prev %d, want %d", slot, id, l.prev, prev)
			}
			prev = id
			n++
		}
		if n != x.count[slot] {
			return fmt.Errorf("slot %d lists %d entries, count %d", slot, n, x.count[slot])
		}
	}
	if len(listed) != s.count {
		return fmt.Errorf("%d entries in slot lists, %d keys", len(listed), s.count)
	}
	for i, seg := range x.links {
		if seg == nil {
			continue
		}
		for j := range seg {
			id := uint32(i)<<segShift | uint32(j)
			if !live[id] && seg[j] != (slotLink{}) {
				return fmt.Errorf("free entry %d has link %+v", id, seg[j])
			}
		}
	}
	return nil
}

func (s *Store) checkSlab(pageLive map[uint32]uint32) error {
	sl := &s.slab
	var pages int
	var pageBytes, slotBytes int64
	unused := map[int32]bool{}
	for p := sl.unused; p >= 0; p = sl.meta[p].next {
		if unused[p] || sl.pages[p] != nil || sl.meta[p].state != pageUnused {
			return fmt.Errorf("page %d on the unused list is in use or listed twice", p)
		}
		unused[p] = true
	}
	partial := map[int32]bool{}
	for c := range sl.classes {
		cs := &sl.classes[c]
		if cs.cur >= 0 && (sl.meta[cs.cur].state != pageCurrent || int(sl.meta[cs.cur].class) != c) {
			return fmt.Errorf("class %d current page %d is %+v", c, cs.cur, sl.meta[cs.cur])
		}
		prev := int32(-1)
		for p := cs.partial; p >= 0; p = sl.meta[p].next {
			m := &sl.meta[p]
			if partial[p] || m.state != pagePartial || int(m.class) != c || m.prev != prev {
				return fmt.Errorf("class %d partial page %d is %+v", c, p, *m)
			}
			partial[p] = true
			prev = p
		}
	}
	for p := range sl.pages {
		m := &sl.meta[p]
		if sl.pages[p] == nil {
			if !unused[int32(p)] {
				return fmt.Errorf("page %d released but not on the unused list", p)
			}
			continue
		}
		pages++
		pageBytes += int64(len(sl.pages[p]))
		size := classSize[m.class]
		if uint32(len(sl.pages[p])) != classPage[m.class] {
			return fmt.Errorf("page %d of class %d has %d bytes", p, m.class, len(sl.pages[p]))
		}
		if m.live != pageLive[uint32(p)] {
			return fmt.Errorf("page %d: %d live records, counted %d", p, pageLive[uint32(p)], m.live)
		}
		slotBytes += int64(m.live) * int64(size)
		nfree := uint32(0)
		for off := m.free; off != noSlot; off = leUint32(sl.pages[p][off:]) {
			if off%size != 0 || off >= m.bump || nfree > m.bump/size {
				return fmt.Errorf("page %d: bad free list at %d", p, off)
			}
			nfree++
		}
		if nfree+m.live != m.bump/size {
			return fmt.Errorf("page %d: %d free + %d live != %d carved", p, nfree, m.live, m.bump/size)
		}
		full := m.free == noSlot && m.bump+size > uint32(len(sl.pages[p]))
		switch m.state {
		case pageFull:
			if !full {
				return fmt.Errorf("page %d marked full has room", p)
			}
		case pagePartial:
			if full || m.live == 0 || !partial[int32(p)] {
				return fmt.Errorf("page %d marked partial: full %v live %d listed %v", p, full, m.live, partial[int32(p)])
			}
		case pageCurrent:
			if sl.classes[m.class].cur != int32(p) {
				return fmt.Errorf("page %d marked current is not", p)
			}
		default:
			return fmt.Errorf("page %d in use has state %d", p, m.state)
		}
	}
	switch {
	case pages != sl.pageCount:
		return fmt.Errorf("%d pages, counted %d", pages, sl.pageCount)
	case pageBytes != sl.pageBytes:
		return fmt.Errorf("%d page bytes, counted %d", pageBytes, sl.pageBytes)
	case slotBytes != sl.slotBytes:
		return fmt.Errorf("%d slot bytes, counted %d", slotBytes, sl.slotBytes)
	}
	return nil
}

func (s *Store) checkEntries(segLive map[int]uint32) error {
	a := &s.ents
	count, empty := 0, 0
	for i, seg := range a.segs {
		m := &a.meta[i]
		if seg == nil {
			if m.live != 0 || m.bump != 0 || m.free != 0 {
				return fmt.Errorf("released segment %d has meta %+v", i, *m)
			}
			if i < a.lowFree {
				return fmt.Errorf("released segment %d below lowFree %d", i, a.lowFree)
			}
			continue
		}
		count++
		if m.live != segLive[i] {
			return fmt.Errorf("segment %d: %d live entries, counted %d", i, segLive[i], m.live)
		}
		if m.live == 0 {
			empty++
			if a.spare != i {
				return fmt.Errorf("empty segment %d is not the spare (%d)", i, a.spare)
			}
		}
		nfree := uint32(0)
		for id := m.free; id != 0; id = seg[id&segMask].next {
			if int(id>>segShift) != i || id&segMask >= m.bump || nfree > segLen {
				return fmt.Errorf("segment %d: bad free list at %d", i, id)
			}
			if seg[id&segMask].loc != 0 {
				return fmt.Errorf("free entry %d has loc %x", id, seg[id&segMask].loc)
			}
			nfree++
		}
		reserved := uint32(0)
		if i == 0 {
			reserved = 1
		}
		if nfree+m.live+reserved != m.bump {
			return fmt.Errorf("segment %d: %d free + %d live != %d carved", i, nfree, m.live, m.bump)
		}
		if i < a.lowFree && !a.full(i) {
			return fmt.Errorf("segment %d below lowFree %d has room", i, a.lowFree)
		}
	}
	switch {
	case count != a.count:
		return fmt.Errorf("%d segments, counted %d", count, a.count)
	case empty > 1:
		return fmt.Errorf("%d empty segments kept", empty)
	case len(a.segs) > 0 && a.segs[len(a.segs)-1] == nil:
		return fmt.Errorf("trailing released segment")
	}
	return nil
}

func leUint32(b []byte) uint32 {
	return uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16 | uint32(b[3])<<24
}
