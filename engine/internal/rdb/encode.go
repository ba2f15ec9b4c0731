package rdb

import (
	"encoding/binary"
	"math"
	"strconv"
)

// AppendLen appends n in RDB's length encoding: 1 byte below 64, 2 below
// 16384, 5 up to 2^32-1, else 9. O(1).
func AppendLen(dst []byte, n uint64) []byte {
	switch {
	case n < 1<<6:
		return append(dst, byte(n))
	case n < 1<<14:
		return append(dst, byte(n>>8)|len14<<6, byte(n))
	case n <= math.MaxUint32:
		dst = append(dst, len32)
		return binary.BigEndian.AppendUint32(dst, uint32(n))
	default:
		dst = append(dst, len64)
		return binary.BigEndian.AppendUint64(dst, n)
	}
}

// appendIntEncoded appends v as an integer-encoded string when it fits in
// 32 bits (Redis's rdbEncodeInteger) and reports whether it did.
func appendIntEncoded(dst []byte, v int64) ([]byte, bool) {
	switch {
	case v >= math.MinInt8 && v <= math.MaxInt8:
		return append(dst, encV<<6|encInt8, byte(v)), true
	case v >= math.MinInt16 && v <= math.MaxInt16:
		return append(dst, encV<<6|encInt16, byte(v), byte(v>>8)), true
	case v >= math.MinInt32 && v <= math.MaxInt32:
		return append(dst, encV<<6|encInt32, byte(v), byte(v>>8), byte(v>>16), byte(v>>24)), true
	}
	return dst, false
}

// AppendString appends s as Redis's rdbSaveRawString writes it: an
// integer encoding when s (at most 11 bytes) is the canonical decimal form
// of a 32-bit integer; else, with compress and s longer than 20 bytes, LZF
// when that saves at least 4 bytes; else the length and the bytes. O(len(s));
// no allocation beyond dst's growth.
func AppendString(dst, s []byte, compress bool) []byte {
	if len(s) <= 11 {
		if v, ok := parseCanonical(s); ok {
			if out, ok := appendIntEncoded(dst, v); ok {
				return out
			}
		}
	}
	if compress && len(s) > 20 {
		if out, ok := appendLZF(dst, s); ok {
			return out
		}
	}
	dst = AppendLen(dst, uint64(len(s)))
	return append(dst, s...)
}

// appendLZF appends s LZF-compressed (encoding byte, compressed length,
// original length, data) if that saves at least 4 bytes. The data is
// compressed into dst past room for the largest header, then moved down
// behind the real one.
func appendLZF(dst, s []byte) ([]byte, bool) {
	const room = 1 + 9 + 9
	start := len(dst)
	maxOut := len(s) - 4
	if cap(dst)-start < room+maxOut {
		grown := make([]byte, start, start+room+maxOut+len(s)/8)
		copy(grown, dst)
		dst = grown
	}
	out, ok := LZFCompress(dst[:start+room], s, maxOut)
	if !ok {
		return dst[:start], false
	}
	clen := len(out) - start - room
	hdr := append(dst[:start], encV<<6|encLZF)
	hdr = AppendLen(hdr, uint64(clen))
	hdr = AppendLen(hdr, uint64(len(s)))
	n := copy(out[len(hdr):], out[start+room:start+room+clen])
	return out[:len(hdr)+n], true
}

// AppendInt appends v as a string (Redis's rdbSaveLongLongAsStringObject):
// integer-encoded when it fits in 32 bits, else its decimal form. O(1).
func AppendInt(dst []byte, v int64) []byte {
	if out, ok := appendIntEncoded(dst, v); ok {
		return out
	}
	var b [20]byte
	d := strconv.AppendInt(b[:0], v, 10)
	dst = AppendLen(dst, uint64(len(d)))
	return append(dst, d...)
}

// AppendBinaryDouble appends f as 8 bytes of IEEE 754, little endian (the
// scores of TypeZset2). O(1).
func AppendBinaryDouble(dst []byte, f float64) []byte {
	return binary.LittleEndian.AppendUint64(dst, math.Float64bits(f))
}

// AppendDouble appends f in the old string form of TypeZset scores: a
// length byte and the text (%.17g, or an integer in full), or 253, 254,
// 255 alone for NaN, +inf, -inf. O(1).
func AppendDouble(dst []byte, f float64) []byte {
	switch {
	case math.IsNaN(f):
		return append(dst, 253)
	case math.IsInf(f, 1):
		return append(dst, 254)
	case math.IsInf(f, -1):
		return append(dst, 255)
	}
	var b [32]byte
	var d []byte
	if f > -4503599627370495 && f < 4503599627370496 && f == math.Trunc(f) { // Redis's bounds
		d = strconv.AppendInt(b[:0], int64(f), 10)
	} else {
		d = strconv.AppendFloat(b[:0], f, 'g', 17, 64)
	}
	dst = append(dst, byte(len(d)))
	return append(dst, d...)
}

// AppendExpireMs appends an EXPIRETIME_MS opcode with ms, the unix time in
// milliseconds the next key expires at. O(1).
func AppendExpireMs(dst []byte, ms int64) []byte {
	dst = append(dst, OpExpireTimeMs)
	return binary.LittleEndian.AppendUint64(dst, uint64(ms))
}

// Aux is one aux field of a file header.
type Aux struct{ Key, Val string }

// StandardAux returns the aux fields Redis 7.0 writes at the start of a
// file, in its order: redis-ver, redis-bits, ctime (unix seconds),
// used-mem (bytes) and aof-base (1 when the file is the base of an AOF).
func StandardAux(redisVer string, ctime, usedMem int64, aofBase bool) []Aux {
	base := "0"
	if aofBase {
		base = "1"
	}
	return []Aux{
		{"redis-ver", redisVer},
		{"redis-bits", strconv.Itoa(strconv.IntSize)},
		{"ctime", strconv.FormatInt(ctime, 10)},
		{"used-mem", strconv.FormatInt(usedMem, 10)},
		{"aof-base", base},
	}
}

// AppendHeader appends the signature of Version ("REDIS0010") and the aux
// fields, in order. O(size of the fields).
func AppendHeader(dst []byte, aux []Aux) []byte {
	dst = append(dst, "REDIS00"...)
	dst = strconv.AppendInt(dst, Version, 10)
	for _, a := range aux {
		dst = AppendAux(dst, a.Key, a.Val)
	}
	return dst
}

// AppendAux appends one AUX opcode with its key and value. O(size).
func AppendAux(dst []byte, key, val string) []byte {
	dst = append(dst, OpAux)
	dst = AppendString(dst, []byte(key), false)
	return AppendString(dst, []byte(val), false)
}

// AppendSelectDB appends a SELECTDB opcode for database db. O(1).
func AppendSelectDB(dst []byte, db int) []byte {
	return AppendLen(append(dst, OpSelectDB), uint64(db))
}

// AppendResizeDB appends a RESIZEDB opcode: the number of keys of the
// database and how many of them have an expire time. O(1).
func AppendResizeDB(dst []byte, keys, expires int) []byte {
	dst = AppendLen(append(dst, OpResizeDB), uint64(keys))
	return AppendLen(dst, uint64(expires))
}

// AppendEOF appends the EOF opcode and the file's checksum. crc is the
// running CRC64 of every byte of the file before the EOF opcode; the
// opcode is folded in here, so the 8 bytes written are the CRC64 of
// everything before them, as Redis writes it. O(1).
func AppendEOF(dst []byte, crc uint64) []byte {
	crc = crcByte(crc, OpEOF)
	dst = append(dst, OpEOF)
	return binary.LittleEndian.AppendUint64(dst, crc)
}

// AppendDumpFooter appends a DUMP payload's footer to dst, whose bytes
// from start on are the payload so far (the value type and value): the
// RDB version (2 bytes, little endian) and the CRC64 of the payload and
// version. O(len(dst)-start).
func AppendDumpFooter(dst []byte, start int) []byte {
	dst = binary.LittleEndian.AppendUint16(dst, Version)
	crc := CRC64(0, dst[start:])
	return binary.LittleEndian.AppendUint64(dst, crc)
}

// CheckDumpPayload checks a DUMP payload's footer as Redis's
// verifyDumpPayload does, and returns the payload without it and its RDB
// version. ok is false when the payload is shorter than a footer, its
// version is newer than Version (what Redis 7.0 refuses too: a payload of
// Redis 7.2 or later may hold types it does not know) or its checksum is
// wrong. O(len(p)).
func CheckDumpPayload(p []byte) (body []byte, version int, ok bool) {
	if len(p) < 10 {
		return nil, 0, false
	}
	footer := p[len(p)-10:]
	version = int(binary.LittleEndian.Uint16(footer))
	if version > Version {
		return nil, version, false
	}
	if CRC64(0, p[:len(p)-8]) != binary.LittleEndian.Uint64(footer[2:]) {
		return nil, version, false
	}
	return p[:len(p)-10], version, true
}

// parseCanonical reads s as Redis's string2ll: the canonical decimal form
// of an int64 (no '+', no leading zeros, no "-0", no spaces).
func parseCanonical(s []byte) (int64, bool) {
	n := len(s)
	if n == 0 || n > 20 {
		return 0, false
	}
	if n == 1 && s[0] == '0' {
		return 0, true
	}
	i, neg := 0, false
	if s[0] == '-' {
		neg, i = true, 1
		if n == 1 {
			return 0, false
		}
	}
	if s[i] < '1' || s[i] > '9' {
		return 0, false
	}
	var u uint64
	for ; i < n; i++ {
		d := uint64(s[i]) - '0'
		if d > 9 || u > (math.MaxUint64-d)/10 {
			return 0, false
		}
		u = u*10 + d
	}
	if neg {
		if u > 1<<63 {
			return 0, false
		}
		return int64(-u), true
	}
	if u > math.MaxInt64 {
		return 0, false
	}
	return int64(u), true
}
