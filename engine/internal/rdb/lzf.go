package rdb

import (
	"math/bits"
	"sync"
)

// LZF, the compression RDB uses for strings (Redis bundles liblzf). A
// compressed stream is a sequence of runs, each introduced by a control
// byte c:
//
//	c < 32                 a literal run: the next c+1 bytes are copied
//	c >> 5 in 1..6         a back reference of (c>>5)+2 bytes
//	c >> 5 == 7            a back reference of 7+2+next byte bytes
//
// A back reference then has one more byte: the distance back from the
// output position is ((c&31)<<8 | that byte) + 1, 1..8192 bytes. The
// reference may overlap the bytes it produces (a distance shorter than the
// length repeats a pattern).
//
// The compressor here is our own greedy one: a hash of the next three
// bytes finds the last position that started with the same hash, a match
// of at least three bytes there becomes a back reference, extended as far
// as it goes (at most 264 bytes). It need not produce liblzf's bytes:
// any valid stream decompresses to the same string, and Redis checks only
// that the decompressed length is the one announced.

const (
	lzfMaxLit  = 32
	lzfMaxOff  = 1 << 13
	lzfMaxRef  = 7 + 255 + 2
	lzfMinRef  = 3
	lzfHashMax = 13 // log2 of the largest hash table
	lzfHashMin = 8
)

// lzfTable holds the hash table of one compression: the low 16 bits of
// the last position whose three bytes hashed to each slot, plus one (0 is
// empty). A position more than 65535 bytes back aliases a nearer one; the
// candidate is then checked like any other and just fails to match.
type lzfTable [1 << lzfHashMax]uint16

var lzfTables = sync.Pool{New: func() any { return new(lzfTable) }}

// LZFCompress appends the LZF compression of in to dst (as RDB strings
// and Redis's quicklist nodes are compressed). It gives up (ok false, dst
// returned unchanged in length) as soon as the output would exceed maxOut
// bytes. The output depends only on in. O(len(in)); no
// allocation beyond dst's growth (the hash table comes from a pool and
// only the part in's size needs is cleared).
func LZFCompress(dst, in []byte, maxOut int) (out []byte, ok bool) {
	n := len(in)
	if n == 0 || maxOut <= 0 {
		return dst, n == 0
	}
	start := len(dst)
	tab := lzfTables.Get().(*lzfTable)
	defer lzfTables.Put(tab)
	hlog := max(min(bits.Len(uint(n)), lzfHashMax), lzfHashMin)
	ht := tab[:1<<hlog]
	clear(ht)
	shift := 32 - hlog

	limit := start + maxOut
	lit := 0 // start of the pending literal run
	ip := 0
	for ip+lzfMinRef <= n {
		v := uint32(in[ip])<<16 | uint32(in[ip+1])<<8 | uint32(in[ip+2])
		h := (v * 2654435761) >> shift
		prev := ht[h]
		ht[h] = uint16(ip) + 1
		if prev != 0 {
			dist := int(uint16(ip)-(prev-1)) & 0xffff
			cand := ip - dist
			if dist > 0 && dist <= lzfMaxOff && cand >= 0 &&
				in[cand] == in[ip] && in[cand+1] == in[ip+1] && in[cand+2] == in[ip+2] {
				l := lzfMinRef
				maxl := min(n-ip, lzfMaxRef)
				for l < maxl && in[cand+l] == in[ip+l] {
					l++
				}
				// Literals first, then the reference (2 or 3 bytes).
				need := literalSize(ip-lit) + 2
				if l-2 >= 7 {
					need++
				}
				if len(dst)+need > limit {
					return dst[:start], false
				}
				dst = appendLiterals(dst, in[lit:ip])
				off := dist - 1
				if l-2 < 7 {
					dst = append(dst, byte((l-2)<<5|off>>8), byte(off))
				} else {
					dst = append(dst, byte(7<<5|off>>8), byte(l-2-7), byte(off))
				}
				// Index the positions inside the match too, so that a
				// repetition later finds its nearest occurrence.
				end := ip + l
				for p := ip + 1; p < end && p+lzfMinRef <= n; p++ {
					w := uint32(in[p])<<16 | uint32(in[p+1])<<8 | uint32(in[p+2])
					ht[(w*2654435761)>>shift] = uint16(p) + 1
				}
				ip = end
				lit = ip
				continue
			}
		}
		ip++
	}
	if len(dst)+literalSize(n-lit) > limit {
		return dst[:start], false
	}
	return appendLiterals(dst, in[lit:]), true
}

// literalSize is the size of k literal bytes in runs of at most 32.
func literalSize(k int) int { return k + (k+lzfMaxLit-1)/lzfMaxLit }

func appendLiterals(dst, lit []byte) []byte {
	for len(lit) > 0 {
		k := min(len(lit), lzfMaxLit)
		dst = append(dst, byte(k-1))
		dst = append(dst, lit[:k]...)
		lit = lit[k:]
	}
	return dst
}

// LZFDecompress decompresses in into out, which must be exactly the
// announced length: anything else (a stream that ends short of it, writes
// past it, or refers before its start) is corrupt. It never reads outside
// in nor writes outside out. O(len(out)); no allocation.
func LZFDecompress(out, in []byte) error {
	ip, op := 0, 0
	for ip < len(in) {
		c := int(in[ip])
		ip++
		if c < lzfMaxLit {
			k := c + 1
			if ip+k > len(in) {
				return corrupt("LZF literal run past the end of the input")
			}
			if op+k > len(out) {
				return corrupt("LZF output longer than announced")
			}
			copy(out[op:], in[ip:ip+k])
			ip += k
			op += k
			continue
		}
		l := c >> 5
		if l == 7 {
			if ip >= len(in) {
				return corrupt("LZF back reference past the end of the input")
			}
			l += int(in[ip])
			ip++
		}
		if ip >= len(in) {
			return corrupt("LZF back reference past the end of the input")
		}
		ref := op - (c&31)<<8 - int(in[ip]) - 1
		ip++
		l += 2
		if ref < 0 {
			return corrupt("LZF back reference before the start of the output")
		}
		if op+l > len(out) {
			return corrupt("LZF output longer than announced")
		}
		if op-ref >= l {
			copy(out[op:op+l], out[ref:ref+l])
			op += l
			continue
		}
		for ; l > 0; l-- { // overlapping: a repeating pattern
			out[op] = out[ref]
			op++
			ref++
		}
	}
	if op != len(out) {
		return corrupt("LZF output of %d bytes, %d announced", op, len(out))
	}
	return nil
}
