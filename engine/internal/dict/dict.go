package dict

import (
	"math/bits"
	"math/rand/v2"
	"unsafe"

	"github.com/zeebo/xxh3"
)

// Dict is a hash table from byte-string keys to byte-string values (made
// by NewHash) or a set of byte strings (made by NewSet). The zero value is
// not usable. See the package doc for ownership rules.
type Dict struct {
	t         [2]table // t[0] main; t[1] the target of a resize in progress
	rehashIdx uint64   // t[0] buckets below it have moved to t[1]
	seed      uint64
	count     int
	iterating int    // All loops running
	yielded   uint32 // the record All yielded last (invariant checks)
	randM     uint64 // longest chain Random expects (scan.go)
	rehashing bool
	values    bool

	pages     [][]byte // by page id; [0] and free ids are nil
	meta      []pageMeta
	freeIDs   []uint32
	cur       uint32   // page records are appended to, 0 if none
	queue     []uint32 // pages waiting for the cleaner, from qHead on
	qHead     int
	cleanID   uint32 // page being cleaned, 0 if none
	cleanOff  int    // next record of cleanID to look at
	pageBytes int    // capacity of all pages
	liveBytes int    // padded length of live records in pages

	huge      [][]byte // records over hugeRecord bytes, by id
	freeHuge  []uint32
	hugeBytes int
}

// NewHash returns an empty hash, with buckets for hint elements (0 for the
// minimum). O(1): a big hint costs one chunk list, not the buckets.
func NewHash(hint int) *Dict { return newDict(true, hint) }

// NewSet returns an empty set, with buckets for hint members. Members cost
// nothing for values. O(1).
func NewSet(hint int) *Dict { return newDict(false, hint) }

func newDict(values bool, hint int) *Dict {
	d := &Dict{values: values, seed: rand.Uint64()}
	if hint > minBuckets {
		d.t[0] = newTable(1 << bits.Len64(uint64(hint-1)))
	}
	return d
}

// IsSet reports whether d is a set (made by NewSet). O(1).
func (d *Dict) IsSet() bool { return !d.values }

// Len returns the number of elements. O(1).
func (d *Dict) Len() int { return d.count }

func (d *Dict) hash(key []byte) uint64 { return xxh3.HashSeed(key, d.seed) }

// find returns the record holding key, the table and bucket where it
// sits, and the record before it in the chain (0 when it is the head);
// loc is 0 when key is absent.
func (d *Dict) find(key []byte, h uint64) (t *table, i uint64, prev, loc uint32) {
	if d.count == 0 {
		return nil, 0, 0, 0
	}
	t, i = d.bucketOf(h)
	for loc = t.head(i); loc != 0; prev, loc = loc, d.next(loc) {
		if d.keyIs(d.rec(loc), key) {
			return t, i, prev, loc
		}
	}
	return nil, 0, 0, 0
}

// Get returns the value of key (nil in a set) and whether key is present.
// The value aliases d (see the package doc). O(1); no allocation.
func (d *Dict) Get(key []byte) (val []byte, ok bool) {
	_, _, _, loc := d.find(key, d.hash(key))
	if loc == 0 {
		return nil, false
	}
	_, val, _ = d.parse(d.rec(loc))
	return val, true
}

// Exists reports whether key is present. O(1); no allocation.
func (d *Dict) Exists(key []byte) bool {
	_, _, _, loc := d.find(key, d.hash(key))
	return loc != 0
}

// Set sets key to val, inserting key if absent, and reports whether it
// inserted (false: it replaced the value). In a set, val must be empty.
// A value of the same padded record length is rewritten in place; any
// other goes to a new record and the old one becomes garbage. O(1);
// allocates only when a page or bucket array has to grow.
func (d *Dict) Set(key, val []byte) (inserted bool) {
	d.checkWrite(val)
	h := d.hash(key)
	t, i, prev, loc := d.find(key, h)
	if loc == 0 {
		d.insert(key, val, h)
		return true
	}
	d.update(t, i, prev, loc, val)
	return false
}

// Add inserts key with val if key is absent and reports whether it did;
// a present key keeps its value (SADD, HSETNX). In a set, val must be
// empty. O(1), as Set.
func (d *Dict) Add(key, val []byte) (inserted bool) {
	d.checkWrite(val)
	h := d.hash(key)
	if _, _, _, loc := d.find(key, h); loc != 0 {
		return false
	}
	d.insert(key, val, h)
	return true
}

func (d *Dict) checkWrite(val []byte) {
	d.checkNotIterating()
	if !d.values && len(val) != 0 {
		panic("dict: value given to a set")
	}
}

func (d *Dict) checkNotIterating() {
	if invariants && d.iterating > 0 {
		panic("dict: changed during All")
	}
}

func (d *Dict) insert(key, val []byte, h uint64) {
	if d.rehashing {
		d.rehashStep(d.stepSize())
	}
	d.growIfFull()
	loc, r := d.alloc(d.recordLen(len(key), len(val)))
	t, i := d.bucketOf(h)
	d.putRecord(r, t.head(i), key, val)
	t.setHead(i, loc)
	t.used++
	d.count++
	d.clean(cleanBase)
}

func (d *Dict) update(t *table, i uint64, prev, loc uint32, val []byte) {
	if !d.values {
		d.afterWrite(0)
		return
	}
	r := d.rec(loc)
	key, old, n := d.parse(r)
	newN := d.recordLen(len(key), len(val))
	if uvlen(len(old)) == uvlen(len(val)) {
		inPlace := false
		if loc&hugeBit != 0 {
			inPlace = newN <= cap(r) && 2*newN >= cap(r)
		} else {
			inPlace = pad(newN) == pad(n)
		}
		if inPlace {
			v := n - len(old)
			copy(r[v:v+len(val)], val)
			putUv(r[nextLen+uvlen(len(key)):], len(val))
			if loc&hugeBit != 0 {
				d.huge[loc&^hugeBit] = r[:newN]
			}
			d.afterWrite(0)
			return
		}
	}
	// r and key stay readable: growing the current page leaves the old
	// array intact, and the old record is freed only after the copy.
	nl, nr := d.alloc(newN)
	d.putRecord(nr, recNext(r), key, val)
	if prev == 0 {
		t.setHead(i, nl)
	} else {
		d.setNext(prev, nl)
	}
	d.free(loc, n)
	d.afterWrite(pad(n))
}

// stepSize is how many buckets a mutating call moves during a resize.
func (d *Dict) stepSize() int {
	if uint64(d.count) > d.t[1].size() {
		return hurryBuckets
	}
	return stepBuckets
}

// afterWrite is the bounded housekeeping of a mutating call that made
// garbage bytes of garbage: a resize step (or starting a shrink) and
// evacuation of queued pages. Nothing runs inside All.
func (d *Dict) afterWrite(garbage int) {
	if d.iterating > 0 {
		return
	}
	if d.rehashing {
		d.rehashStep(d.stepSize())
	} else {
		d.shrinkIfSparse()
	}
	if d.cleaning() {
		d.clean(cleanFactor*garbage + cleanBase)
	}
}

// Delete removes key and reports whether it was present. key may alias
// d's memory (a key from Random, say). Inside All it may delete only the
// element just yielded, and then does no housekeeping. O(1).
func (d *Dict) Delete(key []byte) bool {
	t, i, prev, loc := d.find(key, d.hash(key))
	if loc == 0 {
		return false
	}
	if invariants && d.iterating > 0 && loc != d.yielded {
		panic("dict: All may delete only the element it yielded")
	}
	r := d.rec(loc)
	_, _, n := d.parse(r)
	if prev == 0 {
		t.setHead(i, recNext(r))
	} else {
		d.setNext(prev, recNext(r))
	}
	t.used--
	d.count--
	d.free(loc, n)
	d.afterWrite(pad(n))
	return true
}

// MemoryUsage returns the bytes d holds: its pages, record buffers,
// bucket arrays and bookkeeping (MEMORY USAGE). O(1).
func (d *Dict) MemoryUsage() int {
	n := int(unsafe.Sizeof(*d)) + d.t[0].bytes() + d.t[1].bytes()
	n += d.pageBytes + 24*cap(d.pages) + int(unsafe.Sizeof(pageMeta{}))*cap(d.meta)
	n += 4 * (cap(d.freeIDs) + cap(d.queue) + cap(d.freeHuge))
	n += d.hugeBytes + 24*cap(d.huge)
	return n
}
