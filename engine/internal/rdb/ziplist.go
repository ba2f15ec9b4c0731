package rdb

import (
	"bytes"
	"encoding/binary"
	"slices"
	"strconv"

	"shoal/engine/internal/listpack"
)

// The compact encodings of Redis before 7.0, which RDB files of older
// versions carry as raw blobs. Both are read only: each is validated as
// deeply as Redis's ziplistValidateIntegrity / zipmapValidateIntegrity do
// and converted to a listpack of the same entries (what Redis 7.0 does on
// load). None of these functions panics or reads outside its input.
//
// Ziplist:
//
//	<zlbytes u32 LE> <zltail u32 LE> <zllen u16 LE> <entry>... <0xFF>
//	entry: <prevlen: 1 byte < 254, or 0xFE + u32 LE> <encoding> <data>
//
// Encodings: 00llllll (string, 6-bit length), 01llllll llllllll (14-bit,
// big endian), 10xxxxxx + u32 BE (32-bit); 0xC0 int16, 0xD0 int32, 0xE0
// int64, 0xF0 int24, 0xFE int8 (little endian), 0xF1..0xFD the values
// 0..12.
//
// Zipmap (Redis < 2.6 hashes):
//
//	<count: 1 byte, 254 = unknown> (<len> key <len> <free: 1 byte> value <free bytes>)... <0xFF>
//	len: 1 byte < 254, or 254/255 + u32 LE

const (
	zlHeader = 10
	zlEnd    = 0xFF
	zlBig    = 0xFE
)

// zlEntry is one decoded ziplist entry.
type zlEntry struct {
	s     []byte
	v     int64
	isInt bool
}

// ziplistEach validates zl and calls fn with each entry in order (the
// string aliases zl). It returns the number of entries.
func ziplistEach(zl []byte, fn func(e zlEntry)) (int, error) {
	size := len(zl)
	if size < zlHeader+1 {
		return 0, corrupt("ziplist of %d bytes", size)
	}
	if binary.LittleEndian.Uint32(zl) != uint32(size) || uint64(size) > 1<<32-1 {
		return 0, corrupt("ziplist header says %d bytes, blob has %d", binary.LittleEndian.Uint32(zl), size)
	}
	if zl[size-1] != zlEnd {
		return 0, corrupt("ziplist has no end byte")
	}
	tail := int(binary.LittleEndian.Uint32(zl[4:]))
	if tail > size-1 {
		return 0, corrupt("ziplist tail offset %d past the end", tail)
	}
	header := int(binary.LittleEndian.Uint16(zl[8:]))
	end := size - 1
	p, count, prevSize, last := zlHeader, 0, 0, zlHeader
	for p < end && zl[p] != zlEnd {
		q := p
		// prevlen
		var prevlen int
		if zl[q] < zlBig {
			prevlen = int(zl[q])
			q++
		} else {
			if q+5 > end {
				return 0, corrupt("ziplist entry at %d runs past the end", p)
			}
			prevlen = int(binary.LittleEndian.Uint32(zl[q+1:]))
			q += 5
		}
		if prevlen != prevSize {
			return 0, corrupt("ziplist entry at %d: prevlen %d, previous entry has %d bytes", p, prevlen, prevSize)
		}
		if q >= end {
			return 0, corrupt("ziplist entry at %d runs past the end", p)
		}
		var e zlEntry
		c := zl[q]
		switch {
		case c < 0xC0:
			var n, hl int
			switch c >> 6 {
			case 0:
				n, hl = int(c&0x3f), 1
			case 1:
				if q+2 > end {
					return 0, corrupt("ziplist entry at %d runs past the end", p)
				}
				n, hl = int(c&0x3f)<<8|int(zl[q+1]), 2
			default:
				if q+5 > end {
					return 0, corrupt("ziplist entry at %d runs past the end", p)
				}
				n, hl = int(binary.BigEndian.Uint32(zl[q+1:])), 5
			}
			q += hl
			if n < 0 || n > end-q {
				return 0, corrupt("ziplist entry at %d runs past the end", p)
			}
			e.s = zl[q : q+n]
			q += n
		default:
			var k int
			switch c {
			case 0xC0:
				k = 2
			case 0xD0:
				k = 4
			case 0xE0:
				k = 8
			case 0xF0:
				k = 3
			case 0xFE:
				k = 1
			default:
				if c < 0xF1 || c > 0xFD {
					return 0, corrupt("ziplist entry at %d: encoding 0x%02x", p, c)
				}
			}
			q++
			if k > end-q {
				return 0, corrupt("ziplist entry at %d runs past the end", p)
			}
			d := zl[q : q+k]
			e.isInt = true
			switch c {
			case 0xC0:
				e.v = int64(int16(binary.LittleEndian.Uint16(d)))
			case 0xD0:
				e.v = int64(int32(binary.LittleEndian.Uint32(d)))
			case 0xE0:
				e.v = int64(binary.LittleEndian.Uint64(d))
			case 0xF0:
				e.v = int64(int32(uint32(d[0])<<8|uint32(d[1])<<16|uint32(d[2])<<24) >> 8)
			case 0xFE:
				e.v = int64(int8(d[0]))
			default:
				e.v = int64(c&0x0f) - 1
			}
			q += k
		}
		fn(e)
		last = p
		prevSize = q - p
		p = q
		count++
	}
	if p != end {
		return 0, corrupt("ziplist end byte at %d of %d", p, size)
	}
	if tail != last {
		return 0, corrupt("ziplist tail offset %d, last entry at %d", tail, last)
	}
	if header != 0xFFFF && header != count {
		return 0, corrupt("ziplist header says %d entries, found %d", header, count)
	}
	return count, nil
}

// ZiplistToListpack validates a ziplist and returns a listpack of its
// entries. O(len(zl)).
func ZiplistToListpack(zl []byte) (listpack.Listpack, error) {
	lp := listpack.New()
	_, err := ziplistEach(zl, func(e zlEntry) {
		if e.isInt {
			lp.AppendInt(e.v)
		} else {
			lp.Append(e.s)
		}
	})
	if err != nil {
		return listpack.Listpack{}, err
	}
	return lp, nil
}

// zipmapLen reads a zipmap length at p: its value and size.
func zipmapLen(zm []byte, p int) (n, size int, ok bool) {
	if p >= len(zm) {
		return 0, 0, false
	}
	if zm[p] < zlBig {
		return int(zm[p]), 1, true
	}
	if p+5 > len(zm) {
		return 0, 0, false
	}
	return int(binary.LittleEndian.Uint32(zm[p+1:])), 5, true
}

// ZipmapToListpack validates a zipmap and returns a listpack of its keys
// and values (key, value, key, value ...) and the length of its longest
// key or value. O(len(zm)).
func ZipmapToListpack(zm []byte) (lp listpack.Listpack, maxLen int, err error) {
	size := len(zm)
	if size < 2 || zm[size-1] != zlEnd {
		return listpack.Listpack{}, 0, corrupt("zipmap has no end byte")
	}
	end := size - 1
	lp = listpack.New()
	p, count := 1, 0
	for p < end && zm[p] != zlEnd {
		kl, s, ok := zipmapLen(zm, p)
		if !ok || kl > end-p-s {
			return listpack.Listpack{}, 0, corrupt("zipmap entry at %d runs past the end", p)
		}
		key := zm[p+s : p+s+kl]
		p += s + kl
		vl, s, ok := zipmapLen(zm, p)
		if !ok || p+s >= end {
			return listpack.Listpack{}, 0, corrupt("zipmap entry at %d runs past the end", p)
		}
		p += s
		free := int(zm[p])
		p++
		if vl > end-p || free > end-p-vl {
			return listpack.Listpack{}, 0, corrupt("zipmap entry at %d runs past the end", p)
		}
		val := zm[p : p+vl]
		p += vl + free
		maxLen = max(maxLen, kl, vl)
		lp.Append(key)
		lp.Append(val)
		count++
	}
	if p != end {
		return listpack.Listpack{}, 0, corrupt("zipmap end byte at %d of %d", p, size)
	}
	if zm[0] != zlBig && int(zm[0]) != count {
		return listpack.Listpack{}, 0, corrupt("zipmap header says %d entries, found %d", zm[0], count)
	}
	return lp, maxLen, nil
}

// Uniq finds repeated entries in listpacks (Redis's dup checks of
// sanitize-dump-payload): it renders the entries to check into one
// buffer and sorts them. Its buffers are reused from call to call, so a
// loader that keeps one allocates only while they grow. Not safe for
// concurrent use.
type Uniq struct {
	arena []byte
	spans [][2]int
}

// Pairs checks that lp holds an even number of entries and that the
// first of each pair (a hash field, a sorted set member) repeats none.
// O(n log n).
func (u *Uniq) Pairs(lp *listpack.Listpack) error {
	if lp.Len()%2 != 0 {
		return corrupt("listpack of pairs has %d entries", lp.Len())
	}
	return u.check(lp, 2)
}

// All checks that no entry of lp repeats (the members of a set).
func (u *Uniq) All(lp *listpack.Listpack) error { return u.check(lp, 1) }

func (u *Uniq) check(lp *listpack.Listpack, step int) error {
	if lp.Len() <= step {
		return nil
	}
	u.arena, u.spans = u.arena[:0], u.spans[:0]
	i := 0
	for p, ok := lp.First(); ok; p, ok = lp.Next(p) {
		if i%step == 0 {
			s, v, isInt := lp.Get(p)
			start := len(u.arena)
			if isInt {
				u.arena = strconv.AppendInt(u.arena, v, 10)
			} else {
				u.arena = append(u.arena, s...)
			}
			u.spans = append(u.spans, [2]int{start, len(u.arena)})
		}
		i++
	}
	a := u.arena
	slices.SortFunc(u.spans, func(x, y [2]int) int { return bytes.Compare(a[x[0]:x[1]], a[y[0]:y[1]]) })
	for j := 1; j < len(u.spans); j++ {
		x, y := u.spans[j-1], u.spans[j]
		if bytes.Equal(a[x[0]:x[1]], a[y[0]:y[1]]) {
			return corrupt("listpack repeats %q", a[y[0]:y[1]])
		}
	}
	return nil
}
