// Package intset implements Redis's intset: a sorted array of distinct
// integers stored at the narrowest width (16, 32 or 64 bits) that holds all
// of them, the encoding Redis uses for small sets of integers and that RDB
// payloads of type RDB_TYPE_SET_INTSET carry as a raw blob:
//
//	<encoding uint32 LE: 2, 4 or 8> <length uint32 LE> <length sorted LE ints>
//
// Adding a value wider than the encoding upgrades every element; removing
// never downgrades, as in Redis, so the bytes match redis-server's for the
// same history.
//
// An Intset is a plain value with no locks: only the goroutine that owns
// its keyspace (one shard's loop) may call its methods. Bytes aliases the
// set until the next mutation. Load takes ownership of its blob. The type
// is one slice: one pointer for the GC whatever the set's size. Reads never
// allocate; Add and Remove allocate only when the buffer changes size
// class. Untrusted blobs must pass Load (or Validate with deep set) first.
package intset

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"slices"
)

const headerSize = 8

// ErrCorrupt is wrapped by every error Validate and Load return.
var ErrCorrupt = errors.New("intset: corrupt intset")

// Intset is one intset. The zero value is an empty set of 16-bit encoding.
type Intset struct {
	b []byte
}

func (s *Intset) init() {
	if s.b == nil {
		s.b = slices.Grow([]byte(nil), headerSize)[:headerSize]
		binary.LittleEndian.PutUint32(s.b, 2)
	}
}

// Encoding returns the width in bytes of every element: 2, 4 or 8. O(1).
func (s *Intset) Encoding() int {
	if s.b == nil {
		return 2
	}
	return int(binary.LittleEndian.Uint32(s.b))
}

// Len returns the number of elements. O(1).
func (s *Intset) Len() int {
	if s.b == nil {
		return 0
	}
	return int(binary.LittleEndian.Uint32(s.b[4:]))
}

// Bytes returns the encoding as redis-server writes it into an RDB payload;
// it aliases the set until the next mutation and must not be modified. O(1).
func (s *Intset) Bytes() []byte {
	s.init()
	return s.b
}

// Size returns the encoded size in bytes. O(1).
func (s *Intset) Size() int { return headerSize + s.Len()*s.Encoding() }

// AllocSize returns the bytes held by the buffer. O(1).
func (s *Intset) AllocSize() int { return cap(s.b) }

// Get returns the element at index i (0 <= i < Len()), in ascending order.
// O(1).
func (s *Intset) Get(i int) int64 { return get(s.b, s.Encoding(), i) }

func get(b []byte, enc, i int) int64 {
	o := headerSize + i*enc
	switch enc {
	case 2:
		return int64(int16(binary.LittleEndian.Uint16(b[o:])))
	case 4:
		return int64(int32(binary.LittleEndian.Uint32(b[o:])))
	}
	return int64(binary.LittleEndian.Uint64(b[o:]))
}

func put(b []byte, enc, i int, v int64) {
	o := headerSize + i*enc
	switch enc {
	case 2:
		binary.LittleEndian.PutUint16(b[o:], uint16(v))
	case 4:
		binary.LittleEndian.PutUint32(b[o:], uint32(v))
	default:
		binary.LittleEndian.PutUint64(b[o:], uint64(v))
	}
}

// encodingOf returns the narrowest width that holds v.
func encodingOf(v int64) int {
	switch {
	case v < math.MinInt32 || v > math.MaxInt32:
		return 8
	case v < math.MinInt16 || v > math.MaxInt16:
		return 4
	}
	return 2
}

// Search returns the index of v, or the index where it would be inserted
// with found false. O(log n).
func (s *Intset) Search(v int64) (int, bool) {
	n, enc := s.Len(), s.Encoding()
	if n == 0 {
		return 0, false
	}
	if v > get(s.b, enc, n-1) {
		return n, false
	}
	if v < get(s.b, enc, 0) {
		return 0, false
	}
	lo, hi := 0, n-1
	for lo <= hi {
		mid := int(uint(lo+hi) >> 1)
		switch e := get(s.b, enc, mid); {
		case e < v:
			lo = mid + 1
		case e > v:
			hi = mid - 1
		default:
			return mid, true
		}
	}
	return lo, false
}

// Contains reports whether v is in the set. O(log n).
func (s *Intset) Contains(v int64) bool {
	if encodingOf(v) > s.Encoding() {
		return false
	}
	_, ok := s.Search(v)
	return ok
}

// Add inserts v and reports whether it was absent. A value wider than the
// encoding upgrades the whole set, O(n); otherwise O(log n) to find and
// O(n) to move the larger elements, as in Redis.
func (s *Intset) Add(v int64) bool {
	s.init()
	enc, n := s.Encoding(), s.Len()
	if venc := encodingOf(v); venc > enc {
		s.upgradeAndAdd(v, venc)
		return true
	}
	i, found := s.Search(v)
	if found {
		return false
	}
	s.resize(headerSize + (n+1)*enc)
	copy(s.b[headerSize+(i+1)*enc:], s.b[headerSize+i*enc:headerSize+n*enc])
	put(s.b, enc, i, v)
	binary.LittleEndian.PutUint32(s.b[4:], uint32(n+1))
	return true
}

// upgradeAndAdd widens every element to venc and adds v, which lies
// outside the current range: first if negative, last otherwise.
func (s *Intset) upgradeAndAdd(v int64, venc int) {
	enc, n := s.Encoding(), s.Len()
	s.resize(headerSize + (n+1)*venc)
	front := 0
	if v < 0 {
		front = 1
	}
	for i := n - 1; i >= 0; i-- { // back to front: wider slots never overwrite unread ones
		put(s.b, venc, i+front, get(s.b, enc, i))
	}
	if front == 1 {
		put(s.b, venc, 0, v)
	} else {
		put(s.b, venc, n, v)
	}
	binary.LittleEndian.PutUint32(s.b, uint32(venc))
	binary.LittleEndian.PutUint32(s.b[4:], uint32(n+1))
}

// Remove deletes v and reports whether it was present. The encoding never
// narrows. O(log n) to find, O(n) to move the larger elements.
func (s *Intset) Remove(v int64) bool {
	if encodingOf(v) > s.Encoding() {
		return false
	}
	i, found := s.Search(v)
	if !found {
		return false
	}
	s.RemoveAt(i)
	return true
}

// RemoveAt deletes the element at index i (SPOP). O(n - i).
func (s *Intset) RemoveAt(i int) {
	enc, n := s.Encoding(), s.Len()
	copy(s.b[headerSize+i*enc:], s.b[headerSize+(i+1)*enc:headerSize+n*enc])
	binary.LittleEndian.PutUint32(s.b[4:], uint32(n-1))
	s.resize(headerSize + (n-1)*enc)
}

// Random returns the element at index r mod Len() for a caller-supplied
// random r, and its index; the set must not be empty. O(1).
func (s *Intset) Random(r uint64) (v int64, index int) {
	i := int(r % uint64(s.Len()))
	return s.Get(i), i
}

// Min and Max return the smallest and largest elements of a non-empty
// set. O(1).
func (s *Intset) Min() int64 { return s.Get(0) }

// Max returns the largest element of a non-empty set. O(1).
func (s *Intset) Max() int64 { return s.Get(s.Len() - 1) }

// resize sets the length to n, reallocating to the allocator's size class
// when growing past the capacity or shrinking below 3/4 of it.
func (s *Intset) resize(n int) {
	c := cap(s.b)
	if n <= c && (c <= 64 || n >= c-c/4) {
		s.b = s.b[:n]
		return
	}
	want := n
	if n > 32<<10 && n > c {
		want += n / 16
	}
	nb := slices.Grow([]byte(nil), want)[:n]
	copy(nb, s.b)
	s.b = nb
}

// Validate checks an untrusted blob as Redis's intsetValidateIntegrity:
// a known encoding, a size that matches the length exactly, a non-empty
// set, and with deep set, strictly ascending elements. It never panics.
// O(1), or O(n) with deep.
func Validate(blob []byte, deep bool) error {
	if len(blob) < headerSize {
		return fmt.Errorf("%w: %d bytes is shorter than a header", ErrCorrupt, len(blob))
	}
	enc := binary.LittleEndian.Uint32(blob)
	if enc != 2 && enc != 4 && enc != 8 {
		return fmt.Errorf("%w: encoding %d", ErrCorrupt, enc)
	}
	n := uint64(binary.LittleEndian.Uint32(blob[4:]))
	if n == 0 {
		return fmt.Errorf("%w: empty intset", ErrCorrupt)
	}
	if headerSize+n*uint64(enc) != uint64(len(blob)) {
		return fmt.Errorf("%w: %d elements of %d bytes in %d bytes", ErrCorrupt, n, enc, len(blob))
	}
	if deep {
		prev := get(blob, int(enc), 0)
		for i := 1; i < int(n); i++ {
			v := get(blob, int(enc), i)
			if v <= prev {
				return fmt.Errorf("%w: element %d (%d) not above %d", ErrCorrupt, i, v, prev)
			}
			prev = v
		}
	}
	return nil
}

// Load takes ownership of blob, checks it with Validate (deep) and returns
// it as an intset. The capacity is clipped to len(blob), so growing never
// writes past it, but the backing array stays referenced: pass a copy when
// blob is a small part of a larger buffer. O(n).
func Load(blob []byte) (Intset, error) {
	if err := Validate(blob, true); err != nil {
		return Intset{}, err
	}
	return Intset{b: blob[:len(blob):len(blob)]}, nil
}
