package engine

import (
	"math"

	"shoal/engine/internal/kv"
)

// HyperLogLog values in Redis 7.0's exact format (hyperloglog.c), so that
// a value moves between Shoal and redis-server with GET and SET and
// PFCOUNT answers the same numbers for the same elements.
//
// A value is a string: a 16-byte header ("HYLL", the encoding byte, three
// unused bytes, the cached cardinality as 8 little-endian bytes whose top
// bit marks it stale) followed by 16384 six-bit registers, either dense
// (12288 bytes, register i at bit 6i, least significant bits first) or
// sparse, as a run-length code of three opcodes:
//
//	00xxxxxx           ZERO:  1..64 registers set to 0
//	01xxxxxx yyyyyyyy  XZERO: 1..16384 registers set to 0
//	1vvvvvxx           VAL:   1..4 registers set to 1..32
//
// A sparse value turns dense when a register needs a value above 32 or
// when it would grow beyond hll-sparse-max-bytes; it never turns back.
//
// The functions here work on a value's bytes in place: they neither keep
// nor allocate memory; hllValue grows and shrinks the value through the
// key space's ResizeString.

const (
	hllP             = 14
	hllQ             = 64 - hllP
	hllRegisters     = 1 << hllP
	hllPMask         = hllRegisters - 1
	hllBits          = 6
	hllRegisterMax   = 1<<hllBits - 1
	hllHdrSize       = 16
	hllDenseSize     = hllHdrSize + (hllRegisters*hllBits+7)/8
	hllDense         = 0
	hllSparse        = 1
	hllMaxEncoding   = 1
	hllSparseValMax  = 32                      // largest register value a VAL opcode holds
	hllSparseValLen  = 4                       // longest run of a VAL opcode
	hllSparseZeroLen = 64                      // longest run of a ZERO opcode
	hllSparseXZeroLn = 16384                   // longest run of an XZERO opcode
	hllAlphaInf      = 0.721347520444481703680 // 0.5/ln(2)
	hllHashSeed      = 0xadc83b19
)

// hllEmpty is a new HLL: sparse, one XZERO covering every register, a
// cached cardinality of 0.
var hllEmpty = [hllHdrSize + 2]byte{'H', 'Y', 'L', 'L', hllSparse,
	hllHdrSize: 0x40 | (hllRegisters-1)>>8, hllHdrSize + 1: (hllRegisters - 1) & 0xff}

// Sparse opcodes.
func hllIsZero(op byte) bool  { return op&0xc0 == 0 }
func hllIsXZero(op byte) bool { return op&0xc0 == 0x40 }
func hllIsVal(op byte) bool   { return op&0x80 != 0 }
func hllZeroLen(op byte) int  { return int(op&0x3f) + 1 }
func hllXZeroLen(op, next byte) int {
	return int(op&0x3f)<<8 | int(next) + 1
}
func hllValValue(op byte) uint8    { return (op>>2)&0x1f + 1 }
func hllValLen(op byte) int        { return int(op&3) + 1 }
func hllVal(val uint8, n int) byte { return byte(val-1)<<2 | byte(n-1) | 0x80 }
func hllZero(n int) byte           { return byte(n - 1) }
func hllXZero(n int) (byte, byte)  { return byte((n-1)>>8) | 0x40, byte((n - 1) & 0xff) }
func byteAt(b []byte, i int) byte {
	// A two-byte opcode cut short reads a zero, as Redis reads the
	// string's terminator.
	if i < len(b) {
		return b[i]
	}
	return 0
}

// murmurHash64A is Austin Appleby's MurmurHash64A as Redis computes it:
// eight-byte blocks read little-endian on every platform.
func murmurHash64A(key []byte, seed uint64) uint64 {
	const m = 0xc6a4a7935bd1e995
	const r = 47
	h := seed ^ uint64(len(key))*m
	for len(key) >= 8 {
		k := uint64(key[0]) | uint64(key[1])<<8 | uint64(key[2])<<16 | uint64(key[3])<<24 |
			uint64(key[4])<<32 | uint64(key[5])<<40 | uint64(key[6])<<48 | uint64(key[7])<<56
		k *= m
		k ^= k >> r
		k *= m
		h ^= k
		h *= m
		key = key[8:]
	}
	switch len(key) {
	case 7:
		h ^= uint64(key[6]) << 48
		fallthrough
	case 6:
		h ^= uint64(key[5]) << 40
		fallthrough
	case 5:
		h ^= uint64(key[4]) << 32
		fallthrough
	case 4:
		h ^= uint64(key[3]) << 24
		fallthrough
	case 3:
		h ^= uint64(key[2]) << 16
		fallthrough
	case 2:
		h ^= uint64(key[1]) << 8
		fallthrough
	case 1:
		h ^= uint64(key[0])
		h *= m
	}
	h ^= h >> r
	h *= m
	h ^= h >> r
	return h
}

// hllPatLen hashes ele and returns its register and the length of the
// run of zeros (plus one) in the rest of the hash: 1..hllQ+1.
func hllPatLen(ele []byte) (index int, count uint8) {
	h := murmurHash64A(ele, hllHashSeed)
	index = int(h & hllPMask)
	h >>= hllP
	h |= 1 << hllQ
	n := uint8(1)
	for bit := uint64(1); h&bit == 0; bit <<= 1 {
		n++
	}
	return index, n
}

// hllDenseGet reads register i of dense registers regs.
func hllDenseGet(regs []byte, i int) uint8 {
	b, fb := i*hllBits/8, uint(i*hllBits&7)
	v := regs[b] >> fb
	if fb > 8-hllBits {
		v |= regs[b+1] << (8 - fb)
	}
	return v & hllRegisterMax
}

// hllDenseSetReg writes v into register i of dense registers regs.
func hllDenseSetReg(regs []byte, i int, v uint8) {
	b, fb := i*hllBits/8, uint(i*hllBits&7)
	regs[b] = regs[b]&^(hllRegisterMax<<fb) | v<<fb
	if fb > 8-hllBits {
		regs[b+1] = regs[b+1]&^(hllRegisterMax>>(8-fb)) | v>>(8-fb)
	}
}

// hllDenseSet raises register i to count; it reports whether it changed.
func hllDenseSet(regs []byte, i int, count uint8) bool {
	if count > hllDenseGet(regs, i) {
		hllDenseSetReg(regs, i, count)
		return true
	}
	return false
}

// hllValid is Redis's isHLLObjectOrReply test of a string value: long
// enough for the header, the magic, a known encoding, and the exact size
// when dense. The sparse code itself is checked as it is read.
func hllValid(b []byte) bool {
	if len(b) < hllHdrSize || string(b[:4]) != "HYLL" || b[4] > hllMaxEncoding {
		return false
	}
	return b[4] != hllDense || len(b) == hllDenseSize
}

// hllCacheValid reports whether the header's cached cardinality is fresh.
func hllCacheValid(b []byte) bool { return b[15]&0x80 == 0 }

func hllInvalidateCache(b []byte) { b[15] |= 0x80 }

func hllCachedCard(b []byte) uint64 {
	var n uint64
	for i := 7; i >= 0; i-- {
		n = n<<8 | uint64(b[8+i])
	}
	return n
}

func hllSetCachedCard(b []byte, n uint64) {
	for i := range 8 {
		b[8+i] = byte(n >> (8 * i))
	}
}

// hllHisto counts the registers of value b by their value; ok is false
// when a sparse code does not cover exactly hllRegisters registers.
// O(registers) for dense, O(len(b)) for sparse.
func hllHisto(b []byte, histo *[64]int) (ok bool) {
	if b[4] == hllDense {
		regs := b[hllHdrSize:]
		// Four registers in every three bytes.
		for j := 0; j+3 <= len(regs); j += 3 {
			r0, r1, r2 := regs[j], regs[j+1], regs[j+2]
			histo[r0&63]++
			histo[(r0>>6|r1<<2)&63]++
			histo[(r1>>4|r2<<4)&63]++
			histo[r2>>2]++
		}
		return true
	}
	idx := 0
	for p, end := hllHdrSize, len(b); p < end; {
		op := b[p]
		switch {
		case hllIsZero(op):
			n := hllZeroLen(op)
			idx += n
			histo[0] += n
			p++
		case hllIsXZero(op):
			n := hllXZeroLen(op, byteAt(b, p+1))
			idx += n
			histo[0] += n
			p += 2
		default:
			n := hllValLen(op)
			idx += n
			histo[hllValValue(op)] += n
			p++
		}
	}
	return idx == hllRegisters
}

// hllRawHisto counts the registers of max (one byte per register).
func hllRawHisto(max *[hllRegisters]uint8, histo *[64]int) {
	for _, v := range max {
		histo[v&63]++
	}
}

// hllCountHisto is the estimator of Redis 7.0 (Otmar Ertl, "New
// cardinality estimation algorithms for HyperLogLog sketches",
// arXiv:1702.01284) over a register histogram.
func hllCountHisto(histo *[64]int) uint64 {
	const m = float64(hllRegisters)
	z := m * hllTau((m-float64(histo[hllQ+1]))/m)
	for j := hllQ; j >= 1; j-- {
		z += float64(histo[j])
		z *= 0.5
	}
	z += float64(m * hllSigma(float64(histo[0])/m))
	e := math.Round(hllAlphaInf * m * m / z)
	return uint64(int64(e))
}

func hllSigma(x float64) float64 {
	if x == 1 {
		return math.Inf(1)
	}
	y, z := 1.0, x
	for {
		x *= x
		zPrime := z
		z += float64(x * y) // no fused multiply-add: the sums must be Redis's
		y += y
		if zPrime == z {
			return z
		}
	}
}

func hllTau(x float64) float64 {
	if x == 0 || x == 1 {
		return 0
	}
	y, z := 1.0, 1-x
	for {
		x = math.Sqrt(x)
		zPrime := z
		y *= 0.5
		z -= float64((1 - x) * (1 - x) * y)
		if zPrime == z {
			return z / 3
		}
	}
}

// hllMerge raises max[i] to every register i of value b; false when a
// sparse code is corrupt. O(registers) or O(len(b)).
func hllMerge(max *[hllRegisters]uint8, b []byte) bool {
	if b[4] == hllDense {
		regs := b[hllHdrSize:]
		for i := range max {
			if v := hllDenseGet(regs, i); v > max[i] {
				max[i] = v
			}
		}
		return true
	}
	i := 0
	for p, end := hllHdrSize, len(b); p < end; {
		op := b[p]
		switch {
		case hllIsZero(op):
			i += hllZeroLen(op)
			p++
		case hllIsXZero(op):
			i += hllXZeroLen(op, byteAt(b, p+1))
			p += 2
		default:
			n, v := hllValLen(op), hllValValue(op)
			if i+n > hllRegisters {
				return false
			}
			for ; n > 0; n-- {
				if v > max[i] {
					max[i] = v
				}
				i++
			}
			p++
		}
	}
	return i == hllRegisters
}

// hllValue is an HLL value being changed in the key space: b is the
// value's bytes, as ResizeString returned them, valid until the next
// resize. Owned by the shard's loop for the length of one command.
type hllValue struct {
	db        *kv.Store
	r         kv.Ref
	b         []byte
	maxSparse int64 // hll-sparse-max-bytes
}

func (h *hllValue) resize(n int) { h.b = h.db.ResizeString(h.r, n) }

// add adds ele: 1 when a register changed, 0 when not, -1 when the value
// is corrupt. O(1) dense, O(len) sparse.
func (h *hllValue) add(ele []byte) int {
	index, count := hllPatLen(ele)
	return h.set(index, count)
}

// set raises register index to count: 1 when it changed, 0 when not, -1
// when the value is corrupt (or of an unknown encoding).
func (h *hllValue) set(index int, count uint8) int {
	switch h.b[4] {
	case hllDense:
		if hllDenseSet(h.b[hllHdrSize:], index, count) {
			return 1
		}
		return 0
	case hllSparse:
		return h.sparseSet(index, count)
	}
	return -1
}

// toDense turns a sparse value dense, keeping its header (magic and
// cached cardinality); false when the sparse code is corrupt, the value
// then unchanged. O(registers).
func (h *hllValue) toDense() bool {
	if h.b[4] == hllDense {
		return true
	}
	var regs [hllRegisters]uint8
	if !hllMerge(&regs, h.b) {
		return false
	}
	h.resize(hllDenseSize)
	h.b[4] = hllDense
	dense := h.b[hllHdrSize:]
	clear(dense)
	for i, v := range regs {
		if v != 0 {
			hllDenseSetReg(dense, i, v)
		}
	}
	return true
}

// sparseSet is Redis's hllSparseSet: it finds the opcode covering index,
// splits it around the new VAL, merges equal neighbouring VALs, and turns
// the value dense when the value needs more than a VAL holds or the code
// would grow past hll-sparse-max-bytes. O(len(b)).
func (h *hllValue) sparseSet(index int, count uint8) int {
	if count > hllSparseValMax {
		return h.promote(index, count)
	}
	b := h.b
	end := len(b)
	// Step 1: the opcode covering index.
	p, prev := hllHdrSize, -1
	first, span := 0, 0
	for p < end {
		op, oplen := b[p], 1
		switch {
		case hllIsZero(op):
			span = hllZeroLen(op)
		case hllIsVal(op):
			span = hllValLen(op)
		default:
			span = hllXZeroLen(op, byteAt(b, p+1))
			oplen = 2
		}
		if index <= first+span-1 {
			break
		}
		prev = p
		p += oplen
		first += span
	}
	if span == 0 || p >= end {
		return -1
	}
	op := b[p]
	isZero, isXZero, isVal := hllIsZero(op), hllIsXZero(op), hllIsVal(op)
	var runlen int
	switch {
	case isZero:
		runlen = hllZeroLen(op)
	case isXZero:
		runlen = hllXZeroLen(op, byteAt(b, p+1))
	default:
		runlen = hllValLen(op)
	}

	// Step 2: the trivial updates in place.
	updated := false
	if isVal {
		if hllValValue(op) >= count {
			return 0
		}
		if runlen == 1 {
			b[p] = hllVal(count, 1)
			updated = true
		}
	}
	if isZero && runlen == 1 {
		b[p] = hllVal(count, 1)
		updated = true
	}

	if !updated {
		// The general case: split the opcode into up to three.
		var seq [5]byte
		n := 0
		last := first + span - 1
		zeros := func(l int) {
			if l > hllSparseZeroLen {
				seq[n], seq[n+1] = hllXZero(l)
				n += 2
			} else {
				seq[n] = hllZero(l)
				n++
			}
		}
		if isZero || isXZero {
			if index != first {
				zeros(index - first)
			}
			seq[n] = hllVal(count, 1)
			n++
			if index != last {
				zeros(last - index)
			}
		} else {
			cur := hllValValue(op)
			if index != first {
				seq[n] = hllVal(cur, index-first)
				n++
			}
			seq[n] = hllVal(count, 1)
			n++
			if index != last {
				seq[n] = hllVal(cur, last-index)
				n++
			}
		}

		// Step 3: put the new sequence in place of the old opcode.
		oldlen := 1
		if isXZero {
			oldlen = 2
		}
		delta := n - oldlen
		if delta > 0 && int64(len(b)+delta) > h.maxSparse {
			return h.promote(index, count)
		}
		if delta > 0 {
			h.resize(end + delta)
			b = h.b
		}
		if delta != 0 && p+oldlen < end {
			copy(b[p+oldlen+delta:], b[p+oldlen:end])
		}
		copy(b[p:], seq[:n])
		end += delta
	}

	// Step 4: merge neighbouring VAL opcodes of one value, scanning up
	// to five opcodes from the one before the change.
	p = hllHdrSize
	if prev >= 0 {
		p = prev
	}
	for scan := 5; p < end && scan > 0; {
		scan--
		op := b[p]
		if hllIsXZero(op) {
			p += 2
			continue
		}
		if hllIsZero(op) {
			p++
			continue
		}
		if p+1 < end && hllIsVal(b[p+1]) {
			v1, v2 := hllValValue(op), hllValValue(b[p+1])
			if v1 == v2 {
				if l := hllValLen(op) + hllValLen(b[p+1]); l <= hllSparseValLen {
					b[p+1] = hllVal(v1, l)
					copy(b[p:], b[p+1:end])
					end--
					continue
				}
			}
		}
		p++
	}
	if end != len(b) {
		h.resize(end)
	}
	hllInvalidateCache(h.b)
	return 1
}

// promote turns the value dense and sets the register there; the change
// is certain (the sparse form could not hold it).
func (h *hllValue) promote(index int, count uint8) int {
	if !h.toDense() {
		return -1
	}
	hllDenseSet(h.b[hllHdrSize:], index, count)
	return 1
}
