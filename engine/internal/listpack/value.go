package listpack

import "strconv"

// Value is one entry read out of a listpack: a string aliasing the
// listpack's buffer (valid until its next mutation), or an integer.
type Value struct {
	Str   []byte
	Int   int64
	IsInt bool
}

// Value returns the entry at p. O(1).
func (lp *Listpack) Value(p int) Value {
	s, v, isInt := lp.Get(p)
	return Value{Str: s, Int: v, IsInt: isInt}
}

// Bytes returns the value as bytes, rendering an integer into buf. O(1),
// no allocation.
func (v Value) Bytes(buf *[IntBufSize]byte) []byte {
	if v.IsInt {
		return strconv.AppendInt(buf[:0], v.Int, 10)
	}
	return v.Str
}

// AppendTo appends the value, as bytes, to dst.
func (v Value) AppendTo(dst []byte) []byte {
	if v.IsInt {
		return strconv.AppendInt(dst, v.Int, 10)
	}
	return append(dst, v.Str...)
}

// Len returns the length of the value as bytes. O(1).
func (v Value) Len() int {
	if !v.IsInt {
		return len(v.Str)
	}
	n, u := 1, uint64(v.Int)
	if v.Int < 0 {
		n, u = 2, -u
	}
	for ; u >= 10; u /= 10 {
		n++
	}
	return n
}

// Equal reports whether the value reads as s. O(len(s)).
func (v Value) Equal(s []byte) bool {
	if !v.IsInt {
		return string(v.Str) == string(s)
	}
	w, ok := ParseInt(s)
	return ok && w == v.Int
}
