package dict

import "encoding/binary"

// Locations. A location (loc) names one record: 0 names none; with hugeBit
// set the rest is an index into Dict.huge; otherwise the high pageBits are
// the page id (1 or more) and the low offBits the record's byte offset in
// the page divided by 4.
const (
	offShift  = 2 // records start at multiples of 4
	offBits   = 14
	pageBits  = 31 - offBits
	maxPage   = 1 << (offBits + offShift) // 64 KiB, the largest page
	maxPageID = 1<<pageBits - 1
	offMask   = 1<<offBits - 1
	hugeBit   = 1 << 31
	maxHuge   = hugeBit - 2 // huge ids stay below this, so no loc is deadNext

	// hugeRecord is the longest record kept in a page; longer ones get a
	// buffer of their own.
	hugeRecord = 1024

	// deadNext in a record's next field marks it deleted.
	deadNext = ^uint32(0)
	nextLen  = 4
)

func pageLoc(page uint32, off int) uint32 { return page<<offBits | uint32(off)>>offShift }
func locPage(loc uint32) uint32           { return loc >> offBits }
func locOff(loc uint32) int               { return int(loc&offMask) << offShift }

// pad rounds a record length up to the 4-byte alignment of records.
func pad(n int) int { return (n + 3) &^ 3 }

// uvlen is the length of x as a uvarint.
func uvlen(x int) int {
	n := 1
	for x >= 0x80 {
		x >>= 7
		n++
	}
	return n
}

func putUv(b []byte, x int) int {
	i := 0
	for x >= 0x80 {
		b[i] = byte(x) | 0x80
		x >>= 7
		i++
	}
	b[i] = byte(x)
	return i + 1
}

// getUv decodes a uvarint written by putUv, returning it and its length.
func getUv(b []byte) (int, int) {
	if b[0] < 0x80 {
		return int(b[0]), 1
	}
	x, n := binary.Uvarint(b)
	return int(x), n
}

func recNext(r []byte) uint32       { return binary.LittleEndian.Uint32(r) }
func setRecNext(r []byte, n uint32) { binary.LittleEndian.PutUint32(r, n) }

// recordLen is the unpadded length of a record of a key of klen bytes and a
// value of vlen bytes (no value in a set).
func (d *Dict) recordLen(klen, vlen int) int {
	n := nextLen + uvlen(klen) + klen
	if d.values {
		n += uvlen(vlen) + vlen
	}
	return n
}

// headerLen is the length of a record's next field and length fields.
func (d *Dict) headerLen(klen, vlen int) int {
	n := nextLen + uvlen(klen)
	if d.values {
		n += uvlen(vlen)
	}
	return n
}

// putRecord writes a record of key and val into r (len(r) at least
// recordLen), with next field next. val may alias the dict's memory, but
// not r.
func (d *Dict) putRecord(r []byte, next uint32, key, val []byte) {
	setRecNext(r, next)
	i := nextLen + putUv(r[nextLen:], len(key))
	if d.values {
		i += putUv(r[i:], len(val))
	}
	i += copy(r[i:], key)
	copy(r[i:], val)
}

// parse splits record r into its key and value and returns the record's
// unpadded length. The slices have their capacity clipped, so appending to
// them cannot write into the page.
func (d *Dict) parse(r []byte) (key, val []byte, n int) {
	klen, i := getUv(r[nextLen:])
	i += nextLen
	vlen := 0
	if d.values {
		var m int
		vlen, m = getUv(r[i:])
		i += m
	}
	key = r[i : i+klen : i+klen]
	i += klen
	if d.values {
		val = r[i : i+vlen : i+vlen]
	}
	return key, val, i + vlen
}

// keyIs reports whether record r holds key.
func (d *Dict) keyIs(r []byte, key []byte) bool {
	klen, i := getUv(r[nextLen:])
	if klen != len(key) {
		return false
	}
	i += nextLen
	if d.values {
		_, m := getUv(r[i:])
		i += m
	}
	return string(r[i:i+klen]) == string(key)
}

// rec returns the bytes of the record at loc, from its start to the end of
// its page or buffer.
func (d *Dict) rec(loc uint32) []byte {
	if loc&hugeBit != 0 {
		return d.huge[loc&^hugeBit]
	}
	return d.pages[locPage(loc)][locOff(loc):]
}

func (d *Dict) next(loc uint32) uint32 { return recNext(d.rec(loc)) }

func (d *Dict) setNext(loc, next uint32) { setRecNext(d.rec(loc), next) }
