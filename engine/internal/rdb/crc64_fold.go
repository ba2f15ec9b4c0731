//go:build amd64 || arm64

package rdb

import "math/bits"

// Folding, in the reflected bit order the CRC uses: bit i of a loaded
// little-endian 16-byte block stands for x^(127-i), so its low half H is
// the higher-degree half and the block is H*x^64 + L. Moving a block
// forward by d bits multiplies it by x^d; modulo P that is
// H*(x^(64+d) mod P) + L*(x^d mod P), two 64x64 carry-less products that
// fit in 128 bits. A carry-less product of two reflected 64-bit values,
// read as a reflected 128-bit value, is the product times x, so the
// constants are x^(63+d) and x^(d-1) mod P. After the fold the 128-bit
// remainder V has the same CRC as the whole input (V*x^64 mod P), which
// one table step computes.

// foldMin is the shortest input folded: one 64-byte block folds in 16 ns
// where the table takes 28 (BenchmarkCRC64 on a 2.6 GHz EPYC: 13.3 GB/s
// folded over 64 KiB, 2.0 GB/s by table).
const foldMin = 64

// foldK holds, reflected: x^(64+512-1) and x^(512-1) mod P (one
// accumulator forward over the other three, 512 bits), then x^(64+128-1)
// and x^(128-1) mod P (an accumulator into the next, 128 bits).
var foldK = [4]uint64{xPowMod(575), xPowMod(511), xPowMod(191), xPowMod(127)}

// xPowMod returns x^e mod P in the reflected form.
func xPowMod(e int) uint64 {
	const jones = 0xad93d23594c935a9 // P without its x^64 term
	r := uint64(1)
	for range e {
		carry := r >> 63
		r <<= 1
		if carry != 0 {
			r ^= jones
		}
	}
	return bits.Reverse64(r)
}

// foldCLMUL folds p, whose length is a multiple of 64 and at least 64,
// with crc xored into its first 8 bytes, and returns the 128-bit
// remainder's halves. Assembly (crc64_amd64.s, crc64_arm64.s); called
// only when hasCLMUL.
//
//go:noescape
func foldCLMUL(crc uint64, p []byte, k *[4]uint64) (lo, hi uint64)

// foldBulk takes the longest prefix of p that is a multiple of 64 bytes
// through foldCLMUL when the CPU has it, and returns the CRC so far and
// what is left for the table.
func foldBulk(crc uint64, p []byte) (uint64, []byte) {
	if !hasCLMUL || len(p) < foldMin {
		return crc, p
	}
	n := len(p) &^ 63
	lo, hi := foldCLMUL(crc, p[:n], &foldK)
	return crcStep16(lo, hi), p[n:]
}
