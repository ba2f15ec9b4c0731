package listpack

import (
	"encoding/binary"
	"math"
	"slices"
	"strconv"
)

const (
	// HeaderSize is the size of the header: total bytes and count.
	HeaderSize = 6
	// EmptySize is the size of an empty listpack: header and end byte.
	EmptySize = HeaderSize + 1
	// IntBufSize is large enough for the decimal form of any int64.
	IntBufSize = 20
	// MaxSafeSize is the size up to which Redis lets a listpack grow
	// (LISTPACK_MAX_SAFETY_SIZE); callers check SafeToAdd before adding.
	MaxSafeSize = 1 << 30

	eof          = 0xFF
	countUnknown = math.MaxUint16
	maxInt       = 1<<63 - 1

	enc7BitUint  = 0x00
	enc6BitStr   = 0x80
	enc13BitInt  = 0xC0
	enc12BitStr  = 0xE0
	enc32BitStr  = 0xF0
	enc16BitInt  = 0xF1
	enc24BitInt  = 0xF2
	enc32BitInt  = 0xF3
	enc64BitInt  = 0xF4
	badIntOffset = 12345678900000000 // what Redis reads for an unknown encoding byte
)

// Listpack is one listpack. The zero value is an empty listpack.
type Listpack struct {
	b []byte // the whole encoding: header, entries, end byte
	n int    // exact number of entries, also when the header says "unknown"
}

// New returns an empty listpack. O(1).
func New() Listpack {
	var lp Listpack
	lp.init()
	return lp
}

func (lp *Listpack) init() {
	if lp.b == nil {
		lp.b = slices.Grow([]byte(nil), EmptySize)[:EmptySize]
		lp.b[HeaderSize] = eof
		lp.writeHeader()
	}
}

func (lp *Listpack) writeHeader() {
	binary.LittleEndian.PutUint32(lp.b, uint32(len(lp.b)))
	c := lp.n
	if c >= countUnknown {
		c = countUnknown
	}
	binary.LittleEndian.PutUint16(lp.b[4:], uint16(c))
}

// Len returns the number of entries. O(1).
func (lp *Listpack) Len() int { return lp.n }

// Size returns the encoded size in bytes (the header's total bytes). O(1).
func (lp *Listpack) Size() int {
	if lp.b == nil {
		return EmptySize
	}
	return len(lp.b)
}

// AllocSize returns the bytes held by the buffer (its capacity). O(1).
func (lp *Listpack) AllocSize() int { return cap(lp.b) }

// Bytes returns the encoding, as Redis would write it into an RDB payload.
// It aliases the listpack until the next mutation and must not be modified.
// O(1).
func (lp *Listpack) Bytes() []byte {
	lp.init()
	return lp.b
}

// Clone returns an independent copy. O(size).
func (lp *Listpack) Clone() Listpack {
	if lp.b == nil {
		return New()
	}
	c := Listpack{b: slices.Grow([]byte(nil), len(lp.b))[:len(lp.b)], n: lp.n}
	copy(c.b, lp.b)
	return c
}

// SafeToAdd reports whether add more bytes keep the listpack within
// MaxSafeSize, Redis's lpSafeToAdd. O(1).
func (lp *Listpack) SafeToAdd(add int) bool {
	return add >= 0 && lp.Size()+add <= MaxSafeSize
}

// Load takes ownership of blob, checks it entirely (Validate with deep set)
// and returns it as a listpack. The capacity is clipped to len(blob), so
// growing never writes past it, but the backing array stays referenced:
// pass a copy when blob is a small part of a larger buffer. O(size).
func Load(blob []byte) (Listpack, error) {
	n, err := validate(blob, true)
	if err != nil {
		return Listpack{}, err
	}
	return Listpack{b: blob[:len(blob):len(blob)], n: n}, nil
}

// Adopt takes ownership of blob, the bytes of a listpack of n entries this
// process built (Bytes) and kept, and returns it without checking it
// again (a quicklist node it compressed and now decompresses). O(1).
func Adopt(blob []byte, n int) Listpack {
	return Listpack{b: blob[:len(blob):len(blob)], n: n}
}

// ---- positions --------------------------------------------------------

// First returns the position of the first entry. O(1).
func (lp *Listpack) First() (int, bool) {
	if lp.n == 0 {
		return 0, false
	}
	return HeaderSize, true
}

// Last returns the position of the last entry. O(1).
func (lp *Listpack) Last() (int, bool) {
	if lp.n == 0 {
		return 0, false
	}
	return lp.Prev(len(lp.b) - 1)
}

// Next returns the position of the entry after p. O(1).
func (lp *Listpack) Next(p int) (int, bool) {
	q := p + entrySize(lp.b, p)
	if lp.b[q] == eof {
		return q, false
	}
	return q, true
}

// Prev returns the position of the entry before p; p may be the end byte's
// offset (Size()-1), giving the last entry. O(1).
func (lp *Listpack) Prev(p int) (int, bool) {
	if p <= HeaderSize {
		return 0, false
	}
	l := decodeBacklen(lp.b, p-1)
	return p - l - backlenSize(l), true
}

// End returns the offset of the end byte, the position before which Insert
// appends. O(1).
func (lp *Listpack) End() int { return lp.Size() - 1 }

// Seek returns the position of the entry at index i, negative counting from
// the end (-1 is the last), walking from the nearer end: O(min(i, n-i)).
func (lp *Listpack) Seek(i int) (int, bool) {
	if i < 0 {
		i += lp.n
	}
	if i < 0 || i >= lp.n {
		return 0, false
	}
	if i <= lp.n/2 {
		p := HeaderSize
		for ; i > 0; i-- {
			p += entrySize(lp.b, p)
		}
		return p, true
	}
	p := len(lp.b) - 1
	for i = lp.n - i; i > 0; i-- {
		p, _ = lp.Prev(p)
	}
	return p, true
}

// Random returns the position of the entry at index r mod Len(), for a
// caller-supplied random r. O(n).
func (lp *Listpack) Random(r uint64) (int, bool) {
	if lp.n == 0 {
		return 0, false
	}
	return lp.Seek(int(r % uint64(lp.n)))
}

// RandomPair returns the position of the first entry of pair r mod Len()/2
// of a listpack of pairs (hash field and value, sorted set member and
// score). O(n).
func (lp *Listpack) RandomPair(r uint64) (int, bool) {
	pairs := lp.n / 2
	if pairs == 0 {
		return 0, false
	}
	return lp.Seek(2 * int(r%uint64(pairs)))
}

// ---- reading ----------------------------------------------------------

// Get returns the entry at p: either its string bytes (aliasing the
// listpack) with isInt false, or its integer value with isInt true. O(1).
func (lp *Listpack) Get(p int) (s []byte, v int64, isInt bool) {
	b := lp.b
	c := b[p]
	switch {
	case c < 0x80:
		return nil, int64(c), true
	case c&0xC0 == enc6BitStr:
		n := int(c & 0x3F)
		return b[p+1 : p+1+n], 0, false
	case c&0xE0 == enc13BitInt:
		u := int64(c&0x1F)<<8 | int64(b[p+1])
		if u >= 1<<12 {
			u -= 1 << 13
		}
		return nil, u, true
	case c&0xF0 == enc12BitStr:
		n := int(c&0x0F)<<8 | int(b[p+1])
		return b[p+2 : p+2+n], 0, false
	}
	switch c {
	case enc16BitInt:
		return nil, int64(int16(binary.LittleEndian.Uint16(b[p+1:]))), true
	case enc24BitInt:
		u := int64(b[p+1]) | int64(b[p+2])<<8 | int64(b[p+3])<<16
		if u >= 1<<23 {
			u -= 1 << 24
		}
		return nil, u, true
	case enc32BitInt:
		return nil, int64(int32(binary.LittleEndian.Uint32(b[p+1:]))), true
	case enc64BitInt:
		return nil, int64(binary.LittleEndian.Uint64(b[p+1:])), true
	case enc32BitStr:
		n := int(binary.LittleEndian.Uint32(b[p+1:]))
		return b[p+5 : p+5+n], 0, false
	}
	return nil, badIntOffset + int64(c), true
}

// GetBytes returns the entry at p as bytes: string entries alias the
// listpack, integers are rendered in decimal into buf. O(1), no allocation.
func (lp *Listpack) GetBytes(p int, buf *[IntBufSize]byte) []byte {
	s, v, isInt := lp.Get(p)
	if isInt {
		return strconv.AppendInt(buf[:0], v, 10)
	}
	return s
}

// AppendEntry appends the entry at p, as bytes, to dst. O(entry).
func (lp *Listpack) AppendEntry(dst []byte, p int) []byte {
	s, v, isInt := lp.Get(p)
	if isInt {
		return strconv.AppendInt(dst, v, 10)
	}
	return append(dst, s...)
}

// Equal reports whether the entry at p reads as s. O(len(s)).
func (lp *Listpack) Equal(p int, s []byte) bool { return lp.Value(p).Equal(s) }

// EntrySize returns the number of bytes the entry at p takes, backlen
// included. O(1).
func (lp *Listpack) EntrySize(p int) int { return entrySize(lp.b, p) }

// Find returns the position of the first entry, from p onwards and then
// every skip+1 entries, that reads as s (skip 1 visits the fields of a
// hash or the members of a sorted set). s is parsed as an integer once, so
// integer entries are compared as integers. O(n·len(s)).
func (lp *Listpack) Find(p int, s []byte, skip int) (int, bool) {
	v, sIsInt := ParseInt(s)
	b := lp.b
	for b[p] != eof {
		es, ev, isInt := lp.Get(p)
		if isInt {
			if sIsInt && ev == v {
				return p, true
			}
		} else if string(es) == string(s) {
			return p, true
		}
		p += entrySize(b, p)
		for k := 0; k < skip && b[p] != eof; k++ {
			p += entrySize(b, p)
		}
	}
	return 0, false
}

// ---- writing ----------------------------------------------------------

// Append adds s after the last entry and returns its position.
// Amortized O(len(s)).
func (lp *Listpack) Append(s []byte) int { return lp.insert(lp.End(), s, 0, false) }

// AppendInt adds the integer v after the last entry and returns its
// position; the bytes are those Append of v's decimal form writes.
// Amortized O(1).
func (lp *Listpack) AppendInt(v int64) int { return lp.insert(lp.End(), nil, v, true) }

// Prepend adds s before the first entry and returns its position. O(size).
func (lp *Listpack) Prepend(s []byte) int { return lp.insert(HeaderSize, s, 0, false) }

// PrependInt adds the integer v before the first entry. O(size).
func (lp *Listpack) PrependInt(v int64) int { return lp.insert(HeaderSize, nil, v, true) }

// InsertBefore adds s before the entry at p (or appends if p is End()) and
// returns the new entry's position. O(size).
func (lp *Listpack) InsertBefore(p int, s []byte) int { return lp.insert(p, s, 0, false) }

// InsertAfter adds s after the entry at p and returns the new entry's
// position. O(size).
func (lp *Listpack) InsertAfter(p int, s []byte) int {
	return lp.insert(p+entrySize(lp.b, p), s, 0, false)
}

// Replace replaces the entry at p with s and returns p. O(size).
func (lp *Listpack) Replace(p int, s []byte) int { return lp.replace(p, s, 0, false) }

// ReplaceInt replaces the entry at p with the integer v and returns p.
// O(size).
func (lp *Listpack) ReplaceInt(p int, v int64) int { return lp.replace(p, nil, v, true) }

// Delete removes the entry at p and returns the position of the entry that
// followed it, with ok false if it was the last. O(size).
func (lp *Listpack) Delete(p int) (next int, ok bool) { return lp.DeleteN(p, 1) }

// DeleteN removes up to n entries starting at p (a hash field and its
// value: n=2) and returns the position of the entry that followed them.
// O(size).
func (lp *Listpack) DeleteN(p, n int) (next int, ok bool) {
	q := p
	k := 0
	for ; k < n && lp.b[q] != eof; k++ {
		q += entrySize(lp.b, q)
	}
	lp.cut(p, q, k)
	return p, lp.b[p] != eof
}

// DeleteRange removes count entries from index start (negative counting
// from the end), as Redis's lpDeleteRange; out-of-range starts delete
// nothing. O(size).
func (lp *Listpack) DeleteRange(start, count int) {
	if count <= 0 {
		return
	}
	p, ok := lp.Seek(start)
	if !ok {
		return
	}
	lp.DeleteN(p, count)
}

// Truncate removes every entry from p to the end. O(1) plus a shrink.
func (lp *Listpack) Truncate(p int) {
	k := 0
	for q := p; lp.b[q] != eof; q += entrySize(lp.b, q) {
		k++
	}
	lp.cut(p, len(lp.b)-1, k)
}

// Concat appends every entry of other after the last entry. O(size of
// both).
func (lp *Listpack) Concat(other *Listpack) {
	if other.n == 0 {
		return
	}
	lp.init()
	add := other.b[HeaderSize : len(other.b)-1]
	end := len(lp.b) - 1
	lp.resize(len(lp.b) + len(add))
	copy(lp.b[end:], add)
	lp.b[len(lp.b)-1] = eof
	lp.n += other.n
	lp.writeHeader()
}

// SplitAt moves the entries from p to the end into a new listpack and
// returns it. O(size).
func (lp *Listpack) SplitAt(p int) Listpack {
	tail := New()
	k := 0
	for q := p; lp.b[q] != eof; q += entrySize(lp.b, q) {
		k++
	}
	tail.resize(EmptySize + len(lp.b) - 1 - p)
	copy(tail.b[HeaderSize:], lp.b[p:])
	tail.n = k
	tail.writeHeader()
	lp.cut(p, len(lp.b)-1, k)
	return tail
}

// Reset empties the listpack, keeping a small buffer. O(1).
func (lp *Listpack) Reset() {
	lp.n = 0
	lp.b = nil
	lp.init()
}

func (lp *Listpack) insert(p int, s []byte, v int64, isInt bool) int {
	lp.init()
	if !isInt {
		v, isInt = ParseInt(s)
	}
	enc := encodedSize(len(s), v, isInt)
	sz := enc + backlenSize(enc)
	old := len(lp.b)
	if uint64(old)+uint64(sz) > math.MaxUint32 {
		panic("listpack: entry makes the listpack larger than 4 GB")
	}
	lp.resize(old + sz)
	copy(lp.b[p+sz:], lp.b[p:old])
	putEntry(lp.b[p:], s, v, isInt, enc)
	lp.n++
	lp.writeHeader()
	return p
}

func (lp *Listpack) replace(p int, s []byte, v int64, isInt bool) int {
	if !isInt {
		v, isInt = ParseInt(s)
	}
	enc := encodedSize(len(s), v, isInt)
	sz := enc + backlenSize(enc)
	osz := entrySize(lp.b, p)
	old := len(lp.b)
	if uint64(old)+uint64(sz)-uint64(osz) > math.MaxUint32 {
		panic("listpack: entry makes the listpack larger than 4 GB")
	}
	if sz > osz {
		lp.resize(old + sz - osz)
		copy(lp.b[p+sz:], lp.b[p+osz:old])
	} else if sz < osz {
		copy(lp.b[p+sz:], lp.b[p+osz:])
		lp.resize(old + sz - osz)
	}
	putEntry(lp.b[p:], s, v, isInt, enc)
	lp.writeHeader()
	return p
}

// cut removes bytes [p, q) holding k entries.
func (lp *Listpack) cut(p, q, k int) {
	if k == 0 {
		return
	}
	copy(lp.b[p:], lp.b[q:])
	lp.n -= k
	lp.resize(len(lp.b) - (q - p))
	lp.writeHeader()
}

// resize sets the length to n. Growing past the capacity reallocates to
// the allocator's size class of n (plus 1/16 above 32 KB, where classes
// are whole pages), so that appends cost amortized O(1) per byte while the
// slack stays at a size class's rounding, as with Redis's realloc under
// jemalloc. Shrinking below 3/4 of the capacity reallocates too, so that
// deletions give memory back.
func (lp *Listpack) resize(n int) {
	c := cap(lp.b)
	if n <= c && (c <= 64 || n >= c-c/4) {
		lp.b = lp.b[:n]
		return
	}
	want := n
	if n > 32<<10 && n > c {
		want += n / 16
	}
	nb := slices.Grow([]byte(nil), want)[:n]
	copy(nb, lp.b)
	lp.b = nb
}

// ---- encoding ---------------------------------------------------------

// ParseInt reports whether s is the canonical decimal form of an int64
// (Redis's lpStringToInt64: no sign but '-', no leading zeros, no "-0", no
// spaces) and returns its value. O(len(s)).
func ParseInt(s []byte) (int64, bool) {
	n := len(s)
	if n == 0 || n > 20 {
		return 0, false
	}
	i := 0
	if s[0] == '-' {
		i = 1
		if n == 1 {
			return 0, false
		}
	}
	if s[i] == '0' {
		return 0, n == 1
	}
	var u uint64
	for ; i < n; i++ {
		d := uint64(s[i]) - '0'
		if d > 9 {
			return 0, false
		}
		if u > (math.MaxUint64-d)/10 {
			return 0, false
		}
		u = u*10 + d
	}
	if s[0] == '-' {
		if u > 1<<63 {
			return 0, false
		}
		return int64(-u), true
	}
	if u > maxInt {
		return 0, false
	}
	return int64(u), true
}

// encodedSize returns the size of an entry's encoding and data.
func encodedSize(slen int, v int64, isInt bool) int {
	if isInt {
		switch {
		case v >= 0 && v <= 127:
			return 1
		case v >= -4096 && v <= 4095:
			return 2
		case v >= math.MinInt16 && v <= math.MaxInt16:
			return 3
		case v >= -1<<23 && v < 1<<23:
			return 4
		case v >= math.MinInt32 && v <= math.MaxInt32:
			return 5
		}
		return 9
	}
	switch {
	case slen < 64:
		return 1 + slen
	case slen < 4096:
		return 2 + slen
	}
	return 5 + slen
}

// putEntry writes an entry of encoded size enc, and its backlen, at dst.
func putEntry(dst []byte, s []byte, v int64, isInt bool, enc int) {
	if isInt {
		u := uint64(v)
		switch enc {
		case 1:
			dst[0] = byte(u)
		case 2:
			u &= 1<<13 - 1
			dst[0] = byte(u>>8) | enc13BitInt
			dst[1] = byte(u)
		case 3:
			dst[0] = enc16BitInt
			binary.LittleEndian.PutUint16(dst[1:], uint16(u))
		case 4:
			dst[0] = enc24BitInt
			dst[1], dst[2], dst[3] = byte(u), byte(u>>8), byte(u>>16)
		case 5:
			dst[0] = enc32BitInt
			binary.LittleEndian.PutUint32(dst[1:], uint32(u))
		default:
			dst[0] = enc64BitInt
			binary.LittleEndian.PutUint64(dst[1:], u)
		}
	} else {
		n := len(s)
		switch {
		case n < 64:
			dst[0] = enc6BitStr | byte(n)
			copy(dst[1:], s)
		case n < 4096:
			dst[0] = enc12BitStr | byte(n>>8)
			dst[1] = byte(n)
			copy(dst[2:], s)
		default:
			dst[0] = enc32BitStr
			binary.LittleEndian.PutUint32(dst[1:], uint32(n))
			copy(dst[5:], s)
		}
	}
	putBacklen(dst[enc:], enc)
}

// backlenSize returns how many bytes the backlen of an entry of encoded
// size l takes (Redis's thresholds, including its "< 16383").
func backlenSize(l int) int {
	switch {
	case l <= 127:
		return 1
	case l < 16383:
		return 2
	case l < 2097151:
		return 3
	case l < 268435455:
		return 4
	}
	return 5
}

// putBacklen writes l in backlenSize(l) bytes: the most significant 7-bit
// group first without a continuation bit, every later group with 0x80, so
// that reading from the last byte backwards yields the low groups first.
func putBacklen(dst []byte, l int) {
	n := backlenSize(l)
	for i := n - 1; i >= 0; i-- {
		g := byte(l & 127)
		if i != 0 {
			g |= 128
		}
		dst[i] = g
		l >>= 7
	}
}

// decodeBacklen reads the backlen ending at b[p].
func decodeBacklen(b []byte, p int) int {
	v, shift := 0, 0
	for {
		c := b[p]
		v |= int(c&127) << shift
		if c&128 == 0 {
			return v
		}
		shift += 7
		p--
	}
}

// headerSizeOf returns the size of the encoding byte(s) before an entry's
// data (1, 2 or 5), or 0 for an invalid encoding byte.
func headerSizeOf(c byte) int {
	switch {
	case c < 0x80, c&0xC0 == enc6BitStr, c&0xE0 == enc13BitInt:
		return 1
	case c&0xF0 == enc12BitStr:
		return 2
	case c == enc32BitStr:
		return 5
	case c >= enc16BitInt && c <= enc64BitInt:
		return 1
	}
	return 0
}

// encodedLen returns the size of encoding and data of the entry at p,
// reading at most headerSizeOf(b[p]) bytes; 0 for an invalid encoding.
func encodedLen(b []byte, p int) uint64 {
	c := b[p]
	switch {
	case c < 0x80:
		return 1
	case c&0xC0 == enc6BitStr:
		return 1 + uint64(c&0x3F)
	case c&0xE0 == enc13BitInt:
		return 2
	case c&0xF0 == enc12BitStr:
		return 2 + (uint64(c&0x0F)<<8 | uint64(b[p+1]))
	}
	switch c {
	case enc16BitInt:
		return 3
	case enc24BitInt:
		return 4
	case enc32BitInt:
		return 5
	case enc64BitInt:
		return 9
	case enc32BitStr:
		return 5 + uint64(binary.LittleEndian.Uint32(b[p+1:]))
	}
	return 0
}

// entrySize returns the full size of the (valid) entry at p.
func entrySize(b []byte, p int) int {
	l := int(encodedLen(b, p))
	return l + backlenSize(l)
}
