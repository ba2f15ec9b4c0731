package rdb

import "encoding/binary"

// The CRC64 Redis computes over RDB files and DUMP payloads (crc64.c):
// the Jones polynomial 0xad93d23594c935a9, reflected input and output,
// initial value 0 and no final xor. CRC64(0, "123456789") is
// 0xe9c6d914c4b8d9ca.
//
// Two ways to compute it. Long inputs, where the CPU multiplies without
// carries (PCLMULQDQ on amd64, PMULL on arm64), are folded 64 bytes at a
// time (crc64_fold.go), the way Intel's white paper "Fast CRC Computation
// for Generic Polynomials Using PCLMULQDQ Instruction" describes: four
// 16-byte accumulators each multiplied forward by x^512 mod P and xored
// with the next block, then folded into one 128-bit remainder. The
// rest, and every input on other CPUs, goes through a table sixteen bytes
// at a time (slicing by 16): tab[k][b] is the CRC of byte b followed by k
// zero bytes, and sixteen independent lookups per step keep the
// dependency chain through crc short. A rewrite's RDB base and a load's
// checksum spend their CRC time here (BenchmarkCRC64 in crc64_test.go).

// jonesReflected is the Jones polynomial with its bits reversed.
const jonesReflected = 0x95ac9329ac4bc9b5

var crcTab = makeCRCTable()

func makeCRCTable() *[16][256]uint64 {
	t := new([16][256]uint64)
	for i := range 256 {
		c := uint64(i)
		for range 8 {
			if c&1 != 0 {
				c = c>>1 ^ jonesReflected
			} else {
				c >>= 1
			}
		}
		t[0][i] = c
	}
	for k := 1; k < 16; k++ {
		for i := range 256 {
			c := t[k-1][i]
			t[k][i] = c>>8 ^ t[0][c&0xff]
		}
	}
	return t
}

// CRC64 returns crc updated with p: CRC64(CRC64(0, a), b) is the CRC64 of
// a followed by b, so a writer can keep a running CRC over a file written
// in pieces. O(len(p)), no allocation; safe for concurrent use.
func CRC64(crc uint64, p []byte) uint64 {
	crc, p = foldBulk(crc, p)
	return crcTable(crc, p)
}

// crcTable is CRC64 through the sliced table alone.
func crcTable(crc uint64, p []byte) uint64 {
	for len(p) >= 16 {
		crc = crcStep16(crc^binary.LittleEndian.Uint64(p), binary.LittleEndian.Uint64(p[8:]))
		p = p[16:]
	}
	t := crcTab
	for len(p) >= 8 {
		crc ^= binary.LittleEndian.Uint64(p)
		crc = t[7][crc&0xff] ^ t[6][crc>>8&0xff] ^ t[5][crc>>16&0xff] ^ t[4][crc>>24&0xff] ^
			t[3][crc>>32&0xff] ^ t[2][crc>>40&0xff] ^ t[1][crc>>48&0xff] ^ t[0][crc>>56]
		p = p[8:]
	}
	for _, b := range p {
		crc = t[0][byte(crc)^b] ^ crc>>8
	}
	return crc
}

// crcStep16 is the CRC, from 0, of the 16 bytes whose little-endian
// halves are lo and hi (the running crc already xored into lo).
func crcStep16(lo, hi uint64) uint64 {
	t := crcTab
	return t[15][lo&0xff] ^ t[14][lo>>8&0xff] ^ t[13][lo>>16&0xff] ^ t[12][lo>>24&0xff] ^
		t[11][lo>>32&0xff] ^ t[10][lo>>40&0xff] ^ t[9][lo>>48&0xff] ^ t[8][lo>>56] ^
		t[7][hi&0xff] ^ t[6][hi>>8&0xff] ^ t[5][hi>>16&0xff] ^ t[4][hi>>24&0xff] ^
		t[3][hi>>32&0xff] ^ t[2][hi>>40&0xff] ^ t[1][hi>>48&0xff] ^ t[0][hi>>56]
}

// crcByte is CRC64 of one byte.
func crcByte(crc uint64, b byte) uint64 { return crcTab[0][byte(crc)^b] ^ crc>>8 }
