package kv

import (
	"encoding/binary"
	"math/bits"
)

// A record is [uvarint klen][uvarint vlen][key][value], stored in a slot of
// a size class (slab.go) or, when bigger than the largest class, in a buffer
// of its own. An object's record holds its key and, as value, the 4-byte
// little-endian number of its slot in the object side table.

// objSlotLen is the value length of an object's record.
const objSlotLen = 4

// uvarintLen is the length of x's uvarint encoding.
func uvarintLen(x uint64) int { return (bits.Len64(x|1) + 6) / 7 }

// recordLen is the length of a record with a klen-byte key and a vlen-byte
// value.
func recordLen(klen, vlen int) int {
	return uvarintLen(uint64(klen)) + uvarintLen(uint64(vlen)) + klen + vlen
}

// headerLen is the length of a record header.
func headerLen(klen, vlen int) int { return uvarintLen(uint64(klen)) + uvarintLen(uint64(vlen)) }

// putHeader writes the header of a record into b and returns its length.
func putHeader(b []byte, klen, vlen int) int {
	n := binary.PutUvarint(b, uint64(klen))
	return n + binary.PutUvarint(b[n:], uint64(vlen))
}

// getUvarint decodes a uvarint the store wrote; short encodings inline.
func getUvarint(b []byte) (uint64, int) {
	if b[0] < 0x80 {
		return uint64(b[0]), 1
	}
	if b[1] < 0x80 {
		return uint64(b[0]&0x7f) | uint64(b[1])<<7, 2
	}
	return binary.Uvarint(b)
}

// header decodes the header at the start of b: key length, value length and
// header length. b must start with a record the store wrote.
func header(b []byte) (klen, vlen, hl int) {
	k, n1 := getUvarint(b)
	v, n2 := getUvarint(b[n1:])
	return int(k), int(v), n1 + n2
}

func putObjSlot(b []byte, slot uint32) { binary.LittleEndian.PutUint32(b, slot) }

// objSlot is the object slot number held by an object's record b.
func objSlot(b []byte) uint32 {
	klen, _, hl := header(b)
	return binary.LittleEndian.Uint32(b[hl+klen:])
}

// A record location (entry.loc) packs where the record is and two flags:
//
//	bits  0..23  offset of the slot in its page (0 for a huge record)
//	bits 24..54  page id, or huge buffer id
//	bits 55..61  size class, hugeClass for a huge record
//	bit  62      live: the entry is in use (a free entry has loc 0)
//	bit  63      object: the value is an object
const (
	locOffBits   = 24
	locOffMask   = 1<<locOffBits - 1
	locPageShift = locOffBits
	locPageBits  = 31
	locPageMask  = 1<<locPageBits - 1
	locClassShft = locPageShift + locPageBits
	locClassMask = 0x7f
	locLive      = 1 << 62
	locObject    = 1 << 63
)

func makeLoc(class int, page uint32, off uint32) uint64 {
	return uint64(class)<<locClassShft | uint64(page)<<locPageShift | uint64(off)
}

func locClass(loc uint64) int   { return int(loc >> locClassShft & locClassMask) }
func locPage(loc uint64) uint32 { return uint32(loc >> locPageShift & locPageMask) }
func locOff(loc uint64) uint32  { return uint32(loc & locOffMask) }

// record returns the bytes from the start of the record at loc: to the end
// of its page for a slab record (the header says where the record ends), or
// the whole buffer of a huge record.
func (s *Store) record(loc uint64) []byte {
	if locClass(loc) == hugeClass {
		return *s.huge.at(locPage(loc))
	}
	return s.slab.pages[locPage(loc)][locOff(loc):]
}
