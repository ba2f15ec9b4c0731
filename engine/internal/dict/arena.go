package dict

// Pages. Records are appended to the current page; it grows by
// reallocation (by half, then by a quarter) until it reaches maxPage, and
// is then sealed and a new current page taken. Once the dict holds a full
// page, new pages start at maxPage. Reallocating the current page keeps
// every record's page and offset, so no location changes; it copies at
// most maxPage bytes, amortized O(1) per byte appended.
//
// A deleted record keeps its bytes (so a page can be walked record by
// record) with deadNext in its next field, and counts as garbage of its
// page. A page whose garbage passes a quarter of its length is queued; the
// cleaner walks queued pages in order, moves every live record to the
// current page (relinking it where its chain referred to it) and releases
// the page. A page all garbage is released, or reset when it is the
// current one, at once.
type pageMeta struct {
	garbage uint32 // bytes of dead records, padded
	state   uint8
}

const (
	pageFree    uint8 = iota
	pageCurrent       // records are appended to it
	pageSealed        // full, under a quarter garbage
	pageQueued        // waiting for the cleaner or being cleaned

	// minQueueGarbage is the garbage the current page may keep whatever
	// its length, so tiny dicts that churn do not retire a page per call.
	minQueueGarbage = 128
	minPageCap      = 64
	// cleanRecordCost is charged against the cleaner's byte budget per
	// record it looks at, on top of the bytes of the record it copies.
	cleanRecordCost = 16
	cleanBase       = 256
	cleanFactor     = 8
)

// growCap is the capacity a page of capacity old grows to when it needs
// need bytes: half as much again while small, then a quarter, so a small
// dict wastes little beyond its records.
func growCap(old, need int) int {
	c := old + old/4
	if old < 8192 {
		c = old + old/2
	}
	return min(max(c, need, minPageCap), maxPage)
}

// makePage returns an empty page of capacity at least c (at most maxPage),
// rounded up to the allocator's size class so no byte is hidden.
func makePage(c int) []byte {
	b := append([]byte(nil), make([]byte, c)...)
	return b[:0:min(cap(b), maxPage)]
}

// alloc makes room for a record of n bytes and returns its location and
// its n bytes (in a page, with capacity up to the padded length). It may
// reallocate the current page (records keep their locations; slices into
// the old array keep their old contents) or take a new one. Records over
// hugeRecord bytes, and every record once page ids run out, get a buffer
// of their own. O(1) amortized; copies at most maxPage bytes.
func (d *Dict) alloc(n int) (uint32, []byte) {
	if n > hugeRecord {
		return d.allocHuge(n)
	}
	s := pad(n)
	if d.cur != 0 {
		p := d.pages[d.cur]
		if len(p)+s > cap(p) && cap(p) < maxPage && len(p)+s <= maxPage {
			p = d.growPage(d.cur, len(p)+s)
		}
		if len(p)+s <= cap(p) {
			return d.take(d.cur, p, n, s)
		}
		d.retire(d.cur)
	}
	id := d.newPage(s)
	if id == 0 {
		return d.allocHuge(n)
	}
	return d.take(id, d.pages[id], n, s)
}

func (d *Dict) take(id uint32, p []byte, n, s int) (uint32, []byte) {
	off := len(p)
	d.pages[id] = p[:off+s]
	d.liveBytes += s
	return pageLoc(id, off), p[off : off+n : off+s]
}

// growPage reallocates page id with room for need bytes and returns it.
func (d *Dict) growPage(id uint32, need int) []byte {
	p := d.pages[id]
	b := makePage(growCap(cap(p), need))[:len(p)]
	copy(b, p)
	d.pageBytes += cap(b) - cap(p)
	d.pages[id] = b
	return b
}

// newPage makes a current page with room for at least s bytes and returns
// its id, 0 when all page ids are taken.
func (d *Dict) newPage(s int) uint32 {
	var id uint32
	if k := len(d.freeIDs); k > 0 {
		id = d.freeIDs[k-1]
		d.freeIDs = d.freeIDs[:k-1]
	} else {
		if len(d.pages) == 0 {
			d.pages = append(d.pages, nil) // id 0 names no page
			d.meta = append(d.meta, pageMeta{})
		}
		if len(d.pages) > maxPageID {
			return 0
		}
		id = uint32(len(d.pages))
		d.pages = append(d.pages, nil)
		d.meta = append(d.meta, pageMeta{})
	}
	c := maxPage
	if d.pageBytes < maxPage {
		c = growCap(0, s)
	}
	d.pages[id] = makePage(c)
	d.pageBytes += cap(d.pages[id])
	d.meta[id] = pageMeta{state: pageCurrent}
	d.cur = id
	return id
}

// retire stops appending to the current page: it is sealed, or queued if
// it already holds too much garbage.
func (d *Dict) retire(id uint32) {
	d.cur = 0
	m := &d.meta[id]
	if int(m.garbage)*4 > len(d.pages[id]) {
		d.enqueue(id)
		return
	}
	m.state = pageSealed
}

func (d *Dict) enqueue(id uint32) {
	d.meta[id].state = pageQueued
	d.queue = append(d.queue, id)
}

func (d *Dict) release(id uint32) {
	d.pageBytes -= cap(d.pages[id])
	d.pages[id] = nil
	d.meta[id] = pageMeta{}
	d.freeIDs = append(d.freeIDs, id)
}

func (d *Dict) allocHuge(n int) (uint32, []byte) {
	b := make([]byte, n)
	var id uint32
	if k := len(d.freeHuge); k > 0 {
		id = d.freeHuge[k-1]
		d.freeHuge = d.freeHuge[:k-1]
		d.huge[id] = b
	} else {
		if len(d.huge) >= maxHuge {
			panic("dict: too many elements")
		}
		id = uint32(len(d.huge))
		d.huge = append(d.huge, b)
	}
	d.hugeBytes += cap(b)
	return hugeBit | id, b
}

// free drops the record at loc, of unpadded length n, which must already
// be unlinked from its chain. O(1).
func (d *Dict) free(loc uint32, n int) {
	if loc&hugeBit != 0 {
		id := loc &^ hugeBit
		d.hugeBytes -= cap(d.huge[id])
		d.huge[id] = nil
		d.freeHuge = append(d.freeHuge, id)
		return
	}
	id := locPage(loc)
	p := d.pages[id]
	setRecNext(p[locOff(loc):], deadNext)
	s := pad(n)
	d.liveBytes -= s
	m := &d.meta[id]
	m.garbage += uint32(s)
	switch m.state {
	case pageCurrent:
		if int(m.garbage) == len(p) {
			d.pages[id] = p[:0]
			m.garbage = 0
		} else if m.garbage >= minQueueGarbage && int(m.garbage)*4 > len(p) {
			d.cur = 0
			d.enqueue(id)
		}
	case pageSealed:
		if int(m.garbage) == len(p) {
			d.release(id)
		} else if int(m.garbage)*4 > len(p) {
			d.enqueue(id)
		}
	}
}

// cleaning reports whether pages wait for the cleaner.
func (d *Dict) cleaning() bool { return d.cleanID != 0 || d.qHead < len(d.queue) }

// clean evacuates queued pages: it moves their live records until it has
// spent budget, each record costing its padded length plus
// cleanRecordCost, and releases each page it finishes. It moves at least
// one record while pages are queued. O(budget) bytes copied, each record
// moved costing one chain walk.
func (d *Dict) clean(budget int) {
	for budget > 0 {
		if d.cleanID == 0 {
			if d.qHead >= len(d.queue) {
				return
			}
			d.cleanID, d.cleanOff = d.queue[d.qHead], 0
			d.qHead++
			if d.qHead == len(d.queue) {
				d.queue, d.qHead = d.queue[:0], 0
			}
		}
		p := d.pages[d.cleanID]
		if d.cleanOff >= len(p) {
			d.release(d.cleanID)
			d.cleanID = 0
			continue
		}
		r := p[d.cleanOff:]
		_, _, n := d.parse(r)
		s := pad(n)
		if recNext(r) != deadNext {
			d.move(pageLoc(d.cleanID, d.cleanOff), r[:n])
			budget -= s
		}
		budget -= cleanRecordCost
		d.cleanOff += s
	}
}

// move copies the live record r at loc (in a queued page) to a new place,
// points its chain at the copy and marks the original dead. O(chain
// length) plus len(r).
func (d *Dict) move(loc uint32, r []byte) {
	key, _, _ := d.parse(r)
	t, i := d.bucketOf(d.hash(key))
	var prev uint32
	cur := t.head(i)
	for cur != loc {
		if cur == 0 {
			panic("dict: internal error: record not in its chain")
		}
		prev, cur = cur, d.next(cur)
	}
	nl, nr := d.alloc(len(r))
	copy(nr, r)
	if prev == 0 {
		t.setHead(i, nl)
	} else {
		d.setNext(prev, nl)
	}
	setRecNext(r, deadNext)
	s := pad(len(r))
	d.liveBytes -= s
	d.meta[locPage(loc)].garbage += uint32(s)
}
