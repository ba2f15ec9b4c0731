package engine

import (
	"shoal/engine/internal/dict"
	"shoal/engine/internal/listpack"
)

// hashObj is the value of a hash key, kept in the key space as an object.
// It has Redis 7.0's two encodings: a listpack of field, value, field,
// value ... (encListpack) while the hash is small, and a dict.Dict
// (encHashtable) once it is not. A hash moves to the hashtable when a
// field or value longer than hash-max-listpack-value is written, or when
// it gets more than hash-max-listpack-entries fields; it never moves back
// (Redis converts hashes one way only). The key's Meta carries the same
// encoding, kept in step by the commands (Shard.syncHashEnc).
//
// A hashObj belongs to the shard's loop, like the rest of the key space.
// Values it returns (listpack.Value strings, dict slices) alias its memory
// and stay valid only until its next change.
type hashObj struct {
	lp listpack.Listpack // the fields and values while d is nil
	d  *dict.Dict        // the hashtable encoding; nil while a listpack
}

func newHashObj() *hashObj { return &hashObj{lp: listpack.New()} }

// len is the number of fields. O(1).
func (h *hashObj) len() int {
	if h.d != nil {
		return h.d.Len()
	}
	return h.lp.Len() / 2
}

// encoding is the OBJ_ENCODING_* number of the current representation.
func (h *hashObj) encoding() uint8 {
	if h.d != nil {
		return encHashtable
	}
	return encListpack
}

// lpFind finds field in the listpack: the positions of the field and of
// its value. O(n).
func (h *hashObj) lpFind(field []byte) (fp, vp int, ok bool) {
	p, ok := h.lp.First()
	if !ok {
		return 0, 0, false
	}
	if fp, ok = h.lp.Find(p, field, 1); !ok {
		return 0, 0, false
	}
	vp, _ = h.lp.Next(fp)
	return fp, vp, true
}

// get returns the value of field: a string (aliasing h) or, for a listpack
// entry stored as an integer, an integer. O(1) as a hashtable, O(n) as a
// listpack; no allocation.
func (h *hashObj) get(field []byte) (listpack.Value, bool) {
	if h.d != nil {
		v, ok := h.d.Get(field)
		return listpack.Value{Str: v}, ok
	}
	_, vp, ok := h.lpFind(field)
	if !ok {
		return listpack.Value{}, false
	}
	return h.lp.Value(vp), true
}

// exists reports whether field is present. O(1) / O(n), as get.
func (h *hashObj) exists(field []byte) bool {
	if h.d != nil {
		return h.d.Exists(field)
	}
	_, _, ok := h.lpFind(field)
	return ok
}

// set sets field to val and reports whether the field is new. A listpack
// that ends up with more than maxEntries fields becomes a hashtable.
// Lengths are the caller's business (Shard.hashSet). O(1) / O(n);
// allocates only to grow the listpack or the dict's pages.
func (h *hashObj) set(field, val []byte, maxEntries int) bool {
	if h.d != nil {
		return h.d.Set(field, val)
	}
	if _, vp, ok := h.lpFind(field); ok {
		h.lp.Replace(vp, val)
		return false
	}
	h.lp.Append(field)
	h.lp.Append(val)
	if h.lp.Len()/2 > maxEntries {
		h.convert()
	}
	return true
}

// del removes field and reports whether it was there. O(1) / O(n).
func (h *hashObj) del(field []byte) bool {
	if h.d != nil {
		return h.d.Delete(field)
	}
	fp, _, ok := h.lpFind(field)
	if ok {
		h.lp.DeleteN(fp, 2)
	}
	return ok
}

// hashTooLong reports whether a field or value of length n must leave the
// listpack encoding under limit maxValue (hash-max-listpack-value).
func hashTooLong(n int, maxValue int64) bool { return int64(n) > maxValue }

// convertFor makes a listpack hash a hashtable before args (fields and
// values about to be written) are added, as Redis's hashTypeTryConversion:
// when one of them is longer than maxValue, or together they would take
// the listpack past its safe size. O(len(args)), plus O(n) to convert.
func (h *hashObj) convertFor(args [][]byte, maxValue int64) {
	if h.d != nil {
		return
	}
	sum := 0
	for _, a := range args {
		if hashTooLong(len(a), maxValue) {
			h.convert()
			return
		}
		sum += len(a)
	}
	if !h.lp.SafeToAdd(sum) {
		h.convert()
	}
}

// convert moves a listpack hash to the hashtable encoding. O(n).
func (h *hashObj) convert() {
	d := dict.NewHash(h.lp.Len() / 2)
	var fb, vb [listpack.IntBufSize]byte
	for p, ok := h.lp.First(); ok; {
		vp, _ := h.lp.Next(p)
		d.Set(h.lp.GetBytes(p, &fb), h.lp.GetBytes(vp, &vb))
		p, ok = h.lp.Next(vp)
	}
	h.d = d
	h.lp = listpack.Listpack{}
}

// random returns a random field and its value (h must not be empty), with
// r the caller's random number. O(1) as a hashtable; O(n) as a listpack.
func (h *hashObj) random(r uint64) (field, val listpack.Value) {
	if h.d != nil {
		f, v, _ := h.d.Random(r)
		return listpack.Value{Str: f}, listpack.Value{Str: v}
	}
	p, _ := h.lp.RandomPair(r)
	vp, _ := h.lp.Next(p)
	return h.lp.Value(p), h.lp.Value(vp)
}

// each calls fn with every field and value, in the listpack's order or the
// dict's, until fn returns false. fn must not change h. O(n).
func (h *hashObj) each(fn func(field, val listpack.Value) bool) {
	if h.d != nil {
		for f, v := range h.d.All() {
			if !fn(listpack.Value{Str: f}, listpack.Value{Str: v}) {
				return
			}
		}
		return
	}
	for p, ok := h.lp.First(); ok; {
		vp, _ := h.lp.Next(p)
		if !fn(h.lp.Value(p), h.lp.Value(vp)) {
			return
		}
		p, ok = h.lp.Next(vp)
	}
}

// copyValue is COPY's deep copy, in the same encoding. O(n).
func (h *hashObj) copyValue() any {
	if h.d == nil {
		return &hashObj{lp: h.lp.Clone()}
	}
	d := dict.NewHash(h.d.Len())
	for f, v := range h.d.All() {
		d.Set(f, v)
	}
	return &hashObj{d: d}
}
