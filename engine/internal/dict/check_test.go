package dict

import (
	"fmt"
	"maps"
	"slices"
	"testing"
)

// check verifies every structural invariant of d and returns its contents.
func check(tb testing.TB, d *Dict) map[string]string {
	tb.Helper()
	if err := verify(d); err != nil {
		tb.Fatal(err)
	}
	got := make(map[string]string, d.count)
	for k, v := range d.All() {
		if _, dup := got[string(k)]; dup {
			tb.Fatalf("All yielded %q twice", k)
		}
		got[string(k)] = string(v)
	}
	if len(got) != d.count {
		tb.Fatalf("All yielded %d elements, Len is %d", len(got), d.count)
	}
	return got
}

func verify(d *Dict) error {
	linked := map[uint32]bool{}
	keys := map[string]bool{}
	for ti := range 2 {
		t := &d.t[ti]
		if ti == 1 && !d.rehashing {
			if t.chunks != nil {
				return fmt.Errorf("t[1] allocated while not rehashing")
			}
			continue
		}
		if t.chunks == nil {
			if d.count != 0 {
				return fmt.Errorf("no table but %d elements", d.count)
			}
			continue
		}
		owned, used := 0, 0
		for ci, c := range t.chunks {
			if !isZeroChunk(c) || len(t.chunks) == 1 {
				owned++
			}
			for j, loc := range c {
				b := uint64(ci)<<t.shift | uint64(j)
				if ti == 0 && d.rehashing && b < d.rehashIdx && loc != 0 {
					return fmt.Errorf("t[0] bucket %d below rehashIdx %d not empty", b, d.rehashIdx)
				}
				for steps := 0; loc != 0; steps++ {
					if steps > d.count {
						return fmt.Errorf("chain of bucket %d loops", b)
					}
					if linked[loc] {
						return fmt.Errorf("loc %#x linked twice", loc)
					}
					linked[loc] = true
					r := d.rec(loc)
					if recNext(r) == deadNext {
						return fmt.Errorf("dead record %#x linked", loc)
					}
					k, _, _ := d.parse(r)
					if d.hash(k)&t.mask != b {
						return fmt.Errorf("key %q in bucket %d of t[%d], hash says %d", k, b, ti, d.hash(k)&t.mask)
					}
					if keys[string(k)] {
						return fmt.Errorf("key %q present twice", k)
					}
					keys[string(k)] = true
					used++
					loc = recNext(r)
				}
			}
		}
		if used != t.used {
			return fmt.Errorf("t[%d].used %d, counted %d", ti, t.used, used)
		}
		if owned != t.owned {
			return fmt.Errorf("t[%d].owned %d, counted %d", ti, t.owned, owned)
		}
	}
	if len(keys) != d.count {
		return fmt.Errorf("count %d, linked %d", d.count, len(keys))
	}
	// Pages: garbage and live bytes add up, every live record is linked.
	live, capSum, seen := 0, 0, 0
	queued := map[uint32]bool{}
	for _, id := range d.queue[d.qHead:] {
		queued[id] = true
	}
	if d.cleanID != 0 {
		queued[d.cleanID] = true
	}
	for id, p := range d.pages {
		m := d.meta[id]
		if p == nil {
			if m.state != pageFree || m.garbage != 0 {
				return fmt.Errorf("released page %d has meta %+v", id, m)
			}
			continue
		}
		capSum += cap(p)
		if cap(p) > maxPage {
			return fmt.Errorf("page %d has capacity %d", id, cap(p))
		}
		switch {
		case uint32(id) == d.cur:
			if m.state != pageCurrent {
				return fmt.Errorf("current page %d in state %d", id, m.state)
			}
		case queued[uint32(id)]:
			if m.state != pageQueued {
				return fmt.Errorf("queued page %d in state %d", id, m.state)
			}
		case m.state != pageSealed:
			return fmt.Errorf("page %d in state %d, not current or queued", id, m.state)
		}
		garbage := 0
		for off := 0; off < len(p); {
			r := p[off:]
			_, _, n := d.parse(r)
			loc := pageLoc(uint32(id), off)
			if recNext(r) == deadNext {
				garbage += pad(n)
			} else {
				if !linked[loc] && (uint32(id) != d.cleanID || off >= d.cleanOff) {
					return fmt.Errorf("live record %#x not linked", loc)
				}
				if linked[loc] {
					live += pad(n)
					seen++
				}
			}
			off += pad(n)
		}
		if garbage != int(m.garbage) {
			return fmt.Errorf("page %d garbage %d, counted %d", id, m.garbage, garbage)
		}
		if m.state == pageSealed && garbage*4 > len(p) {
			return fmt.Errorf("sealed page %d is %d/%d garbage", id, garbage, len(p))
		}
	}
	if live != d.liveBytes {
		return fmt.Errorf("liveBytes %d, counted %d", d.liveBytes, live)
	}
	if capSum != d.pageBytes {
		return fmt.Errorf("pageBytes %d, counted %d", d.pageBytes, capSum)
	}
	hugeCap := 0
	for id, b := range d.huge {
		if b == nil {
			continue
		}
		hugeCap += cap(b)
		if !linked[hugeBit|uint32(id)] {
			return fmt.Errorf("huge record %d not linked", id)
		}
		seen++
	}
	if hugeCap != d.hugeBytes {
		return fmt.Errorf("hugeBytes %d, counted %d", d.hugeBytes, hugeCap)
	}
	if seen != d.count {
		return fmt.Errorf("%d live records in pages and buffers, count %d", seen, d.count)
	}
	return nil
}

// sameContents fails unless d holds exactly model.
func sameContents(tb testing.TB, d *Dict, model map[string]string) {
	tb.Helper()
	got := check(tb, d)
	if !maps.Equal(got, model) {
		var diff []string
		for k, v := range model {
			if g, ok := got[k]; !ok || g != v {
				diff = append(diff, fmt.Sprintf("%q: want %q have %q (present %v)", k, v, g, ok))
			}
		}
		for k := range got {
			if _, ok := model[k]; !ok {
				diff = append(diff, fmt.Sprintf("%q: extra", k))
			}
		}
		slices.Sort(diff)
		tb.Fatalf("contents differ (%d):\n%v", len(diff), diff[:min(len(diff), 10)])
	}
	for k, v := range model {
		got, ok := d.Get([]byte(k))
		if !ok || string(got) != v {
			tb.Fatalf("Get(%q) = %q, %v; want %q", k, got, ok, v)
		}
	}
}
