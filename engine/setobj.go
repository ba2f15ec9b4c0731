package engine

import (
	"strconv"

	"shoal/engine/internal/dict"
	"shoal/engine/internal/intset"
	"shoal/engine/internal/kv"
)

// setObj is the value of a set key, in one of Redis 7.0's two encodings:
// an intset (sorted integers at the narrowest width) while every member is
// a canonical 64-bit integer and there are at most set-max-intset-entries
// of them, else a hashtable (a pointer-free dict). Redis 7.0 has no
// listpack sets, so a small set of strings is a hashtable too.
//
// A set converts from intset to hashtable when a member that is not an
// integer arrives or the intset grows past the limit, and never converts
// back; only sets built anew (the *STORE results, the part SPOP keeps
// when it pops most of a set) start again as intsets, as in Redis.
//
// A setObj is kept by the key space as an object (kv.InsertObject) and,
// like everything there, belongs to the shard's loop. A key never holds an
// empty set: every command that removes members deletes the key when the
// last one goes. Member slices a setObj hands out (each, random) alias its
// memory until the next change to it.
type setObj struct {
	ints intset.Intset // the members while d is nil
	d    *dict.Dict    // the hashtable encoding; nil while an intset
}

// setElem is one member as an iteration or a random pick yields it: an
// integer of an intset (isInt, v) or the bytes of a hashtable member (m).
type setElem struct {
	m     []byte
	v     int64
	isInt bool
}

// bytes returns the member's bytes, formatting an integer into buf.
func (e *setElem) bytes(buf []byte) []byte {
	if e.isInt {
		return strconv.AppendInt(buf[:0], e.v, 10)
	}
	return e.m
}

// newSetFor makes the empty set Redis's setTypeCreate makes for a set
// whose first member is first: an intset when first is an integer.
func newSetFor(first []byte) *setObj {
	if _, ok := parseInt(first); ok {
		return &setObj{}
	}
	return &setObj{d: dict.NewSet(0)}
}

// enc is the encoding OBJECT ENCODING names.
func (so *setObj) enc() uint8 {
	if so.d != nil {
		return encHashtable
	}
	return encIntset
}

// size is the number of members. O(1).
func (so *setObj) size() int {
	if so.d != nil {
		return so.d.Len()
	}
	return so.ints.Len()
}

// has reports whether m is a member. O(1) for a hashtable, O(log n) for an
// intset; no allocation.
func (so *setObj) has(m []byte) bool {
	if so.d != nil {
		return so.d.Exists(m)
	}
	v, ok := parseInt(m)
	return ok && so.ints.Contains(v)
}

// hasElem is has for a member from an iteration, comparing integers
// without formatting them when both sides are intsets.
func (so *setObj) hasElem(e *setElem) bool {
	if !e.isInt {
		return so.has(e.m)
	}
	if so.d == nil {
		return so.ints.Contains(e.v)
	}
	var nb [20]byte
	return so.d.Exists(strconv.AppendInt(nb[:0], e.v, 10))
}

// add inserts m and reports whether it was absent, converting an intset
// to a hashtable when m is not an integer or the intset would hold more
// than maxInts members (Redis's setTypeAdd). O(1) for a hashtable; O(n)
// for an intset (its elements move), plus O(n) for a conversion.
func (so *setObj) add(m []byte, maxInts int) bool {
	if so.d != nil {
		return so.d.Add(m, nil)
	}
	v, ok := parseInt(m)
	if !ok {
		so.toHashtable()
		return so.d.Add(m, nil)
	}
	if !so.ints.Add(v) {
		return false
	}
	if so.ints.Len() > maxInts {
		so.toHashtable()
	}
	return true
}

// addElem is add for a member from an iteration.
func (so *setObj) addElem(e *setElem, maxInts int) bool {
	if !e.isInt {
		return so.add(e.m, maxInts)
	}
	if so.d != nil {
		var nb [20]byte
		return so.d.Add(strconv.AppendInt(nb[:0], e.v, 10), nil)
	}
	if !so.ints.Add(e.v) {
		return false
	}
	if so.ints.Len() > maxInts {
		so.toHashtable()
	}
	return true
}

// remove deletes m and reports whether it was present. O(1) for a
// hashtable, O(n) for an intset.
func (so *setObj) remove(m []byte) bool {
	if so.d != nil {
		return so.d.Delete(m)
	}
	v, ok := parseInt(m)
	return ok && so.ints.Remove(v)
}

// removeElem is remove for a member from an iteration or a random pick
// of another set (or of this one: the dict accepts its own memory).
func (so *setObj) removeElem(e *setElem) bool {
	if !e.isInt {
		return so.remove(e.m)
	}
	if so.d == nil {
		return so.ints.Remove(e.v)
	}
	var nb [20]byte
	return so.d.Delete(strconv.AppendInt(nb[:0], e.v, 10))
}

// toHashtable converts an intset to a hashtable sized for its members
// (Redis's setTypeConvert). O(n).
func (so *setObj) toHashtable() {
	d := dict.NewSet(so.ints.Len())
	var nb [20]byte
	for i := range so.ints.Len() {
		d.Add(strconv.AppendInt(nb[:0], so.ints.Get(i), 10), nil)
	}
	so.d, so.ints = d, intset.Intset{}
}

// each calls fn with every member, ascending for an intset and in table
// order for a hashtable, until fn returns false. fn must not change the
// set, except that it may remove the member just yielded. O(n).
func (so *setObj) each(fn func(e setElem) bool) {
	if so.d == nil {
		for i := range so.ints.Len() {
			if !fn(setElem{v: so.ints.Get(i), isInt: true}) {
				return
			}
		}
		return
	}
	for k := range so.d.All() {
		if !fn(setElem{m: k}) {
			return
		}
	}
}

// random sets e to a uniformly random member of a non-empty set, chosen
// by rnd, and returns its intset index (-1 for a hashtable). O(1).
func (so *setObj) random(rnd uint64, e *setElem) int {
	if so.d == nil {
		v, i := so.ints.Random(rnd)
		*e = setElem{v: v, isInt: true}
		return i
	}
	k, _, _ := so.d.Random(rnd)
	*e = setElem{m: k}
	return -1
}

// removeRandom removes the member random just returned, given the index
// and element it returned; after it, e.m no longer names valid memory.
// O(n - i) for an intset (the elements after it move), O(1) for a
// hashtable.
func (so *setObj) removeRandom(i int, e *setElem) {
	if i >= 0 {
		so.ints.RemoveAt(i)
		return
	}
	so.d.Delete(e.m)
}

// copyValue copies every member into a set of the same encoding (COPY).
// O(n).
func (so *setObj) copyValue() any {
	if so.d == nil {
		cp, err := intset.Load(append([]byte(nil), so.ints.Bytes()...))
		if err != nil {
			panic("engine: intset does not reload its own bytes: " + err.Error())
		}
		return &setObj{ints: cp}
	}
	cp := dict.NewSet(so.d.Len())
	for k := range so.d.All() {
		cp.Add(k, nil)
	}
	return &setObj{d: cp}
}

// setAt is the set at r, which must hold one (typeOf(r) == typeSet).
func (s *Shard) setAt(r kv.Ref) *setObj { return s.db.Obj(r).(*setObj) }

// syncSetEnc records so's encoding in the Meta of r after a change that
// may have converted it. O(1).
func (s *Shard) syncSetEnc(r kv.Ref, so *setObj) {
	m := s.db.Meta(r)
	if enc := so.enc(); metaEnc(m) != enc {
		s.db.SetMeta(r, makeMeta(typeSet, enc, metaLRU(m)))
	}
}

// storeSet files so at key (a *STORE destination): it replaces whatever
// key held, of any type, and drops its time to live, as Redis's setKey
// does. so must not be empty. O(1) here; the old value goes to the GC.
func (s *Shard) storeSet(key []byte, so *setObj) {
	m := makeMeta(typeSet, so.enc(), s.newClock)
	if r := s.lookup(key); r != kv.Nil {
		s.db.SetObject(r, so)
		s.db.SetMeta(r, s.overwriteMeta(r, m))
		s.db.SetExpire(r, kv.NoExpire)
	} else {
		s.db.InsertObject(key, so, m, kv.NoExpire)
		s.notifyNew(key)
	}
	s.dirty++
}
