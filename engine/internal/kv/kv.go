// Package kv is one shard's key space: a hash table from keys to values that
// the Go garbage collector does not have to scan key by key.
//
// # Shape
//
// Keys and string values live together in records carved from pointer-free
// pages (size-classed slabs, slab.go); the table's index (bucket heads and
// entries) is made of pointer-free arrays too (table.go, entries.go). So ten
// million string keys cost the GC a few thousand pointers (one per page or
// segment), not ten million. Values that are not strings (hashes, lists,
// ...) are Go objects kept in a side table; the record then holds only the
// key and the object's slot number.
//
// Buckets chain entries by index. The table grows and shrinks incrementally,
// the way Redis's dict does: while two bucket arrays exist, every mutating
// call and Rehash move a bounded number of buckets, so no single call pays
// for the whole resize. Bucket arrays are themselves made of 64 KiB chunks
// allocated on first write, so starting a resize costs no more than a small
// allocation either.
//
// Key, expire time, Meta and value of one key are reached through a Ref,
// the id of its entry, which never moves: the engine finds a key once and
// then reads and updates it through the Ref.
//
// # Costs
//
// Every method's comment states its cost. "O(1)" means expected constant
// time with no dependence on the number of keys; calls that may allocate
// say so. No call does work proportional to the number of keys: resizes
// are incremental, scans and sampling are bounded per call (Scan,
// ScanBuckets, ScanVolatile, Sample, SampleVolatile, Random), and Clear drops everything
// in O(1), leaving the memory to the GC. Rehash is the idle-time hook: it
// advances a resize, starts a shrink the deletes made due, and releases
// empty pages.
//
// # Files
//
// kv.go the Store and its per-key API; table.go buckets and incremental
// rehashing; entries.go the entry segments; slab.go size classes, pages and
// record placement; record.go the record codec and locations; side.go the
// side tables of objects and huge records; scan.go scans and random
// sampling; slots.go the per-slot key lists of cluster mode (TrackSlots);
// stats.go memory accounting.
//
// # Ownership
//
// A Store is owned by one goroutine (the shard's loop) and is not safe for
// concurrent use. Slices returned by Key, Str and ResizeString alias the
// store's pages: they stay valid until the entry they came from is changed
// (SetString, SetObject, ResizeString) or deleted, or the store is cleared;
// the caller must copy what it keeps longer. Writing through them is allowed
// only for the slice ResizeString returns, and only until the next call that
// changes that entry. Slices passed in (key, val) are copied before the call
// returns; the caller may reuse them at once, and they may alias the store's
// own memory (for example a value returned by Str). Functions given to the
// scans must not change the store: collect Refs, act after the call.
//
// Objects given to InsertObject and SetObject are kept by reference: the
// store never copies or inspects them, and drops its reference when the
// entry is deleted, overwritten or cleared.
//
// A Ref passed to any method must name a live entry (returned by Find or an
// Insert and not deleted since); passing a stale Ref is a bug in the caller
// that the store does not always detect (builds with the invariants or race
// tag check it and panic).
package kv

import "github.com/zeebo/xxh3"

// Ref names one entry of a Store. It stays valid, and keeps naming the same
// key, until that entry is deleted or the store is cleared: resizing the
// table and changing the value never move it. Nil names none.
type Ref uint32

// Nil is the Ref of no entry.
const Nil Ref = 0

// Meta is 32 bits the store keeps beside each entry without interpreting
// them: the engine keeps the value's type, encoding and access clock there.
type Meta uint32

// NoExpire is the expire time of a key without a time to live.
const NoExpire int64 = 0

// Hash is the hash the store files key under (64-bit xxh3). Callers that
// already computed it pass it to FindHash and InsertStringHash to save a
// second pass over the key. O(len(key)).
func Hash(key []byte) uint64 { return xxh3.Hash(key) }

// entry is one key's slot in the index: 32 bytes, no pointers.
type entry struct {
	hash   uint64 // Hash(key)
	loc    uint64 // record location and flags (see loc* constants); 0 when free
	expire int64  // unix ms, NoExpire for none
	next   uint32 // next entry in the bucket chain, or in the free list; 0 ends
	meta   Meta
}

// Store is one shard's key space. The zero value is not usable: call New.
// See the package doc for ownership rules.
type Store struct {
	t         [2]table // t[0] main table; t[1] the target of a resize in progress
	rehashing bool
	rehashIdx uint64 // t[0] buckets below it are empty (moved to t[1])

	count    int // live keys
	volatile int // live keys with an expire time
	objects  int // live keys whose value is an object

	ents entryAlloc // entry ids and the segments holding them
	slab slab       // pages holding records
	huge side[[]byte]
	objs side[any]

	hugeBytes int64 // capacity of huge record buffers
	recBytes  int64 // length of live records

	slots *slotIndex // per-slot key lists (slots.go); nil unless TrackSlots
	mark  *marks     // a rewrite's marks (mark.go); nil unless BeginMark

	released int64     // bytes of pages and huge buffers let go of, over the store's life
	onDrop   func(any) // OnDrop's function; nil for none
}

// New returns an empty store. O(1); it allocates under 2 KiB.
func New() *Store {
	s := &Store{}
	s.reset()
	return s
}

func (s *Store) reset() {
	*s = Store{}
	s.t[0] = newTable(minBuckets)
	s.ents.init()
	s.slab.init()
}

// Len is the number of keys. O(1).
func (s *Store) Len() int { return s.count }

// Volatile is the number of keys with an expire time. O(1).
func (s *Store) Volatile() int { return s.volatile }

// Clear drops every key and releases all memory to the GC (the store keeps
// nothing but a minimal table, and the slot heads when it tracks slots).
// Every Ref becomes invalid. O(1) work here (O(slots) when it tracks
// slots); the GC reclaims the memory later.
func (s *Store) Clear() {
	slots, mark, onDrop := s.slots, s.mark, s.onDrop
	released := s.Released() + s.Stats().TotalBytes
	s.reset()
	s.released, s.onDrop = released, onDrop
	if mark != nil {
		mark.done = true // no key of a rewrite's cut is left
		s.mark = mark
	}
	if slots != nil {
		slots.reset()
		s.slots = slots
	}
}

// entryAt returns the entry with id r, live or not.
func (s *Store) entryAt(r Ref) *entry { return &s.ents.segs[r>>segShift][r&segMask] }

// ent returns the entry of r. r must be a live Ref.
func (s *Store) ent(r Ref) *entry {
	e := s.entryAt(r)
	if invariants && (r == Nil || e.loc&locLive == 0) {
		panic("kv: use of a Ref that names no live entry")
	}
	return e
}

// Key is the key of r, aliasing store memory (see the package doc). O(1),
// no allocation.
func (s *Store) Key(r Ref) []byte {
	b := s.record(s.ent(r).loc)
	klen, _, h := header(b)
	return b[h : h+klen : h+klen]
}

// Str is the string value of r, aliasing store memory (see the package doc);
// nil if r holds an object. O(1), no allocation.
func (s *Store) Str(r Ref) []byte {
	loc := s.ent(r).loc
	if loc&locObject != 0 {
		return nil
	}
	b := s.record(loc)
	klen, vlen, h := header(b)
	p := h + klen
	return b[p : p+vlen : p+vlen]
}

// String is the key, string value and expire time of r in one look at its
// entry and record (for loops over many keys, such as a rewrite); ok is
// false, and the rest zero, if r holds an object. Aliasing as Key and
// Str. O(1), no allocation.
func (s *Store) String(r Ref) (key, val []byte, expire int64, ok bool) {
	e := s.ent(r)
	if e.loc&locObject != 0 {
		return nil, nil, 0, false
	}
	b := s.record(e.loc)
	klen, vlen, h := header(b)
	return b[h : h+klen : h+klen], b[h+klen : h+klen+vlen : h+klen+vlen], e.expire, true
}

// IsObject reports whether r holds an object rather than a string. O(1).
func (s *Store) IsObject(r Ref) bool { return s.ent(r).loc&locObject != 0 }

// Obj is the object r holds; nil if r holds a string. O(1), no allocation.
func (s *Store) Obj(r Ref) any {
	loc := s.ent(r).loc
	if loc&locObject == 0 {
		return nil
	}
	return *s.objs.at(objSlot(s.record(loc)))
}

// Meta is the Meta of r. O(1).
func (s *Store) Meta(r Ref) Meta { return s.ent(r).meta }

// SetMeta replaces the Meta of r. O(1).
func (s *Store) SetMeta(r Ref, m Meta) { s.ent(r).meta = m }

// Expire is the expire time of r in unix milliseconds, NoExpire if none. O(1).
func (s *Store) Expire(r Ref) int64 { return s.ent(r).expire }

// SetExpire sets the expire time of r (NoExpire removes it; any other
// value, even in the past, makes the key volatile), keeping Volatile right.
// The store only records the time: expiring is the caller's business. O(1).
func (s *Store) SetExpire(r Ref, ms int64) {
	e := s.ent(r)
	switch {
	case e.expire == NoExpire && ms != NoExpire:
		s.volatile++
	case e.expire != NoExpire && ms == NoExpire:
		s.volatile--
	}
	e.expire = ms
}

// Find returns the entry of key, Nil if absent. O(1) expected (one bucket
// chain per table), no allocation; it never changes the store.
func (s *Store) Find(key []byte) Ref { return s.FindHash(key, Hash(key)) }

// FindHash is Find with h = Hash(key) already computed. Same cost.
func (s *Store) FindHash(key []byte, h uint64) Ref {
	t := &s.t[0]
	if i := h & t.mask; !s.rehashing || i >= s.rehashIdx {
		if r := s.chainFind(t.head(i), key, h); r != Nil {
			return r
		}
	}
	if s.rehashing {
		t = &s.t[1]
		return s.chainFind(t.head(h&t.mask), key, h)
	}
	return Nil
}

func (s *Store) chainFind(id uint32, key []byte, h uint64) Ref {
	for id != 0 {
		e := &s.ents.segs[id>>segShift][id&segMask]
		if e.hash == h {
			b := s.record(e.loc)
			klen, _, hl := header(b)
			if klen == len(key) && string(b[hl:hl+klen]) == string(key) {
				return Ref(id)
			}
		}
		id = e.next
	}
	return Nil
}

// InsertString adds key with a string value. key must be absent (Find
// returned Nil and nothing inserted it since). O(1) amortized (plus
// hashing the key for its slot when the store tracks slots); allocates
// only when a page, an entry segment (and its slot links) or a bucket
// chunk must be added, or a resize starts (a small chunk table).
func (s *Store) InsertString(key, val []byte, m Meta, expire int64) Ref {
	return s.InsertStringHash(key, Hash(key), val, m, expire)
}

// InsertStringHash is InsertString with h = Hash(key) already computed.
// Same cost.
func (s *Store) InsertStringHash(key []byte, h uint64, val []byte, m Meta, expire int64) Ref {
	id := s.insertEntry(key, h, m, expire)
	b := s.newRecord(s.entryAt(id), len(key), len(val))
	hl := putHeader(b, len(key), len(val))
	copy(b[hl:], key)
	copy(b[hl+len(key):], val)
	return id
}

// InsertObject adds key holding obj. key must be absent. Costs as
// InsertString.
func (s *Store) InsertObject(key []byte, obj any, m Meta, expire int64) Ref {
	return s.InsertObjectHash(key, Hash(key), obj, m, expire)
}

// InsertObjectHash is InsertObject with h = Hash(key) already computed.
// Same cost.
func (s *Store) InsertObjectHash(key []byte, h uint64, obj any, m Meta, expire int64) Ref {
	id := s.insertEntry(key, h, m, expire)
	e := s.entryAt(id)
	b := s.newRecord(e, len(key), objSlotLen)
	hl := putHeader(b, len(key), objSlotLen)
	copy(b[hl:], key)
	putObjSlot(b[hl+len(key):], s.objs.put(obj))
	e.loc |= locObject
	s.objects++
	return id
}

// insertEntry takes an entry id for key, fills it and links it into the
// table. The caller then gives it a record.
func (s *Store) insertEntry(key []byte, h uint64, m Meta, expire int64) Ref {
	if invariants && s.FindHash(key, h) != Nil {
		panic("kv: insert of a key that is present")
	}
	if invariants && h != Hash(key) {
		panic("kv: insert with a wrong hash")
	}
	s.beforeInsert()
	id := s.ents.alloc()
	e := &s.ents.segs[id>>segShift][id&segMask]
	*e = entry{hash: h, expire: expire, meta: m}
	s.link(id, e)
	if s.slots != nil {
		s.slots.add(id, key)
	}
	if s.mark != nil {
		s.Mark(Ref(id))
	}
	s.count++
	if expire != NoExpire {
		s.volatile++
	}
	return Ref(id)
}

// newRecord gives e a fresh record of klen+vlen and returns it (header not
// yet written). e.loc keeps its live flag.
func (s *Store) newRecord(e *entry, klen, vlen int) []byte {
	n := recordLen(klen, vlen)
	loc, b := s.allocRecord(n, n)
	e.loc = loc | locLive
	s.recBytes += int64(n)
	return b
}

// SetString replaces the value of r with a copy of val (which may alias
// store memory); an object is dropped and r becomes a string. O(1) plus the
// copy; no allocation when the new record falls in the same size class as
// the old one (the slot is rewritten in place).
func (s *Store) SetString(r Ref, val []byte) {
	e := s.ent(r)
	if e.loc&locObject != 0 {
		s.dropObject(e)
	}
	s.reshape(e, len(val), 0, val, false)
}

// SetObject replaces the value of r with obj; a string value is dropped and
// r becomes an object. O(1); no allocation when r already holds an object,
// otherwise as SetString.
func (s *Store) SetObject(r Ref, obj any) {
	e := s.ent(r)
	if e.loc&locObject != 0 {
		*s.objs.at(objSlot(s.record(e.loc))) = obj
		return
	}
	var slot [objSlotLen]byte
	putObjSlot(slot[:], s.objs.put(obj))
	s.reshape(e, objSlotLen, 0, slot[:], false)
	e.loc |= locObject
	s.objects++
}

// ResizeString makes the string value of r n bytes long, keeping its first
// min(old, n) bytes; added bytes are zero. It returns the value, which the
// caller may write into (APPEND, SETRANGE, INCR) until its next call that
// changes r. r must hold a string. O(1) plus the bytes moved; no allocation
// when the new record stays in the same size class. Records beyond the
// largest class grow with headroom (double up to 1 MiB, then +1 MiB), so
// repeated appends cost amortized O(1) per byte.
func (s *Store) ResizeString(r Ref, n int) []byte {
	e := s.ent(r)
	if e.loc&locObject != 0 {
		panic("kv: ResizeString of an object")
	}
	_, vlen, _ := header(s.record(e.loc))
	return s.reshape(e, n, min(vlen, n), nil, true)
}

// Delete removes r and its value; r becomes invalid. O(1) expected: it
// walks r's bucket chain and moves at most a couple of buckets of a resize
// in progress (and, when the store tracks slots, hashes the key once to
// find its slot list). No allocation, except when it starts a shrink of a table
// left under 1/8 full (a small chunk table).
func (s *Store) Delete(r Ref) {
	e := s.ent(r)
	s.unlink(uint32(r), e)
	if e.loc&locObject != 0 {
		s.dropObject(e)
	}
	b := s.record(e.loc)
	klen, vlen, hl := header(b)
	if s.slots != nil {
		s.slots.remove(uint32(r), b[hl:hl+klen])
	}
	s.recBytes -= int64(hl + klen + vlen)
	s.freeRecord(e.loc)
	if e.expire != NoExpire {
		s.volatile--
	}
	s.count--
	if s.mark != nil {
		s.Mark(r)
	}
	if seg := s.ents.free(uint32(r), e); seg >= 0 && s.slots != nil {
		s.slots.released(seg, len(s.ents.segs))
	}
	s.afterDelete()
}

// dropObject releases the object slot of e (the record stays).
func (s *Store) dropObject(e *entry) {
	id := objSlot(s.record(e.loc))
	if s.onDrop != nil {
		s.onDrop(*s.objs.at(id))
	}
	s.objs.del(id)
	e.loc &^= locObject
	s.objects--
}

// Usage is an estimate of the bytes r costs the store: its record's slot,
// its entry and its share of the bucket array (objects' own memory not
// counted). O(1).
func (s *Store) Usage(r Ref) int {
	loc := s.ent(r).loc
	n := entrySize + 8
	if c := locClass(loc); c == hugeClass {
		n += cap(s.record(loc))
	} else {
		n += int(classSize[c])
	}
	return n
}
