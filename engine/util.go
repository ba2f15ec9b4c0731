package engine

import "bytes"

// parseInt reads a signed 64-bit decimal integer exactly as Redis's
// string2ll: no spaces, no '+', no leading zeros (except "0" itself), no
// "-0", nothing after the digits, and no overflow.
func parseInt(b []byte) (int64, bool) {
	n := len(b)
	if n == 0 || n >= 21 {
		return 0, false
	}
	if n == 1 && b[0] == '0' {
		return 0, true
	}
	i, neg := 0, false
	if b[0] == '-' {
		neg = true
		i++
		if i == n {
			return 0, false
		}
	}
	if b[i] < '1' || b[i] > '9' {
		return 0, false
	}
	var v uint64
	for ; i < n; i++ {
		d := b[i] - '0'
		if d > 9 {
			return 0, false
		}
		if v > (1<<64-1)/10 {
			return 0, false
		}
		v *= 10
		if v > 1<<64-1-uint64(d) {
			return 0, false
		}
		v += uint64(d)
	}
	if neg {
		if v > 1<<63 {
			return 0, false
		}
		return -int64(v), true
	}
	if v > 1<<63-1 {
		return 0, false
	}
	return int64(v), true
}

// eqFold reports whether b equals the lowercase ASCII word s, ignoring
// ASCII case. Used to match option names without allocating.
func eqFold(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := 0; i < len(b); i++ {
		c := b[i]
		if 'A' <= c && c <= 'Z' {
			c += 32
		}
		if c != s[i] {
			return false
		}
	}
	return true
}

// stringEncoding is the encoding Redis gives a string value stored by
// SET and its kin (tryObjectEncoding): "int" for a canonical 64-bit
// integer of at most 20 characters, "embstr" up to 44 bytes, "raw" above.
func stringEncoding(val []byte) uint8 {
	if len(val) <= 20 {
		if _, ok := parseInt(val); ok {
			return encInt
		}
	}
	if len(val) <= 44 {
		return encEmbstr
	}
	return encRaw
}

// cString is b up to its first NUL byte: what Redis sees of an argument it
// reads as a C string (option names in error messages, SCAN's TYPE).
func cString(b []byte) []byte {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		return b[:i]
	}
	return b
}
