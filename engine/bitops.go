package engine

import (
	"encoding/binary"
	"math"
	"math/bits"

	"shoal/engine/internal/kv"
)

// The bitmap family: SETBIT, GETBIT, BITCOUNT, BITPOS, BITOP, BITFIELD and
// BITFIELD_RO on string values, with Redis 7.0's semantics, replies and
// errors (bitops.c). Bit 0 is the most significant bit of byte 0.
//
// Commands that write bits grow the value in place (kv's ResizeString,
// zero-filled) and make it raw, as Redis unshares it; an offset is
// refused when its byte would lie at or past proto-max-bulk-len, so a
// bitmap of 512 MB is possible with the default limit.

// Errors only this family replies.
const (
	errBitOffset    = "ERR bit offset is not an integer or out of range"
	errBitValue     = "ERR bit is not an integer or out of range"
	errBitArg       = "ERR The bit argument must be 1 or 0."
	errBitopNot     = "ERR BITOP NOT must be called with a single source key."
	errBitfieldType = "ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is."
	errBitfieldOver = "ERR Invalid OVERFLOW type specified"
	errBitfieldRO   = "ERR BITFIELD_RO only supports the GET subcommand"
)

// bitfieldReadOnly marks BITFIELD_RO's call of bitfieldGeneric.
const bitfieldReadOnly = true

func init() {
	register(
		&Command{Name: "setbit", Arity: 4,
			Flags: FlagWrite | FlagDenyOOM,
			ACL:   "@bitmap",
			Group: "bitmap", Since: "2.2.0",
			Summary:    "Sets or clears the bit at offset in the string value stored at key",
			Complexity: "O(1)",
			Keys:       []KeySpec{{Flags: "RW ACCESS UPDATE", Begin: 1, LastKey: 0, Step: 1}},
			Syntax:     "key offset:integer value:integer",
			Proc:       setbitCmd,
		},
		&Command{Name: "getbit", Arity: 3,
			Flags: FlagReadonly | FlagFast,
			ACL:   "@bitmap",
			Group: "bitmap", Since: "2.2.0",
			Summary:    "Returns the bit value at offset in the string value stored at key",
			Complexity: "O(1)",
			Keys:       []KeySpec{{Flags: "RO ACCESS", Begin: 1, LastKey: 0, Step: 1}},
			Syntax:     "key offset:integer",
			Proc:       getbitCmd,
		},
		&Command{Name: "bitcount", Arity: -2,
			Flags: FlagReadonly,
			ACL:   "@bitmap",
			Group: "bitmap", Since: "2.6.0",
			Summary:    "Count set bits in a string",
			Complexity: "O(N)",
			Keys:       []KeySpec{{Flags: "RO ACCESS", Begin: 1, LastKey: 0, Step: 1}},
			History:    [][2]string{{"7.0.0", "Added the `BYTE|BIT` option."}},
			Syntax:     "key index:[start:integer end:integer index_unit:[BYTE | BIT]@7.0.0]",
			Proc:       bitcountCmd,
		},
		&Command{Name: "bitpos", Arity: -3,
			Flags: FlagReadonly,
			ACL:   "@bitmap",
			Group: "bitmap", Since: "2.8.7",
			Summary:    "Find first bit set or clear in a string",
			Complexity: "O(N)",
			Keys:       []KeySpec{{Flags: "RO ACCESS", Begin: 1, LastKey: 0, Step: 1}},
			History:    [][2]string{{"7.0.0", "Added the `BYTE|BIT` option."}},
			Syntax:     "key bit:integer index:[start:integer end_index:[end:integer index_unit:[BYTE | BIT]@7.0.0]]",
			Proc:       bitposCmd,
		},
		&Command{Name: "bitop", Arity: -4,
			Flags: FlagWrite | FlagDenyOOM,
			ACL:   "@bitmap",
			Group: "bitmap", Since: "2.6.0",
			Summary:    "Perform bitwise operations between strings",
			Complexity: "O(N)",
			Keys:       []KeySpec{{Flags: "OW UPDATE", Begin: 2, LastKey: 0, Step: 1}, {Flags: "RO ACCESS", Begin: 3, LastKey: -1, Step: 1}},
			Syntax:     "operation destkey:key key...",
			Proc:       bitopCmd,
		},
		&Command{Name: "bitfield", Arity: -2,
			Flags: FlagWrite | FlagDenyOOM,
			ACL:   "@bitmap",
			Group: "bitmap", Since: "3.2.0",
			Summary:    "Perform arbitrary bitfield integer operations on strings",
			Complexity: "O(1) for each subcommand specified",
			Keys:       []KeySpec{{Flags: "RW ACCESS UPDATE VARIABLE_FLAGS", Notes: "This command allows both access and modification of the key", Begin: 1, LastKey: 0, Step: 1}},
			Syntax:     "key operation:[GET encoding_offset:(encoding offset:integer) | write:([OVERFLOW wrap_sat_fail:[WRAP | SAT | FAIL]] write_operation:(SET encoding_offset_value:(encoding offset:integer value:integer) | INCRBY encoding_offset_increment:(encoding offset:integer increment:integer)))]...",
			Proc:       bitfieldCmd,
			GetKeys:    bitfieldKeys,
		},
		&Command{Name: "bitfield_ro", Arity: -2,
			Flags: FlagReadonly | FlagFast,
			ACL:   "@bitmap",
			Group: "bitmap", Since: "6.0.0",
			Summary:    "Perform arbitrary bitfield integer operations on strings. Read-only variant of BITFIELD",
			Complexity: "O(1) for each subcommand specified",
			Keys:       []KeySpec{{Flags: "RO ACCESS", Begin: 1, LastKey: 0, Step: 1}},
			Syntax:     "key [GET encoding_offset:[encoding offset:integer]...+]",
			Proc:       bitfieldROCmd,
		},
	)
}

// bitOffset parses a bit offset: a non-negative integer whose byte lies
// below proto-max-bulk-len. With hash (BITFIELD), "#N" means N*bits.
func (s *Shard) bitOffset(c *Client, arg []byte, hash bool, width int) (uint64, bool) {
	useHash := hash && width > 0 && len(arg) > 0 && arg[0] == '#'
	if useHash {
		arg = arg[1:]
	}
	n, ok := parseInt(arg)
	if ok && useHash {
		n *= int64(width) // wraps like Redis's; a negative result is refused below
	}
	if !ok || n < 0 || n>>3 >= s.Config.ProtoMaxBulkLen {
		c.Error(errBitOffset)
		return 0, false
	}
	return uint64(n), true
}

// bitString is Redis's lookupStringForBitCommand: the string at key made
// raw and grown (zero-filled) to hold bit maxbit, created when absent.
// grown reports a new key or a longer value. WRONGTYPE is replied for
// another type (ok false). O(1) plus the bytes added.
func (s *Shard) bitString(c *Client, key []byte, maxbit uint64) (r kv.Ref, b []byte, grown, ok bool) {
	n := int(maxbit>>3) + 1
	r, ok = s.lookupWriteString(c, key)
	if !ok {
		return kv.Nil, nil, false, false
	}
	if r == kv.Nil {
		r = s.db.InsertString(key, nil, makeMeta(typeString, encRaw, s.newClock), kv.NoExpire)
		s.notifyNew(key)
		return r, s.db.ResizeString(r, n), true, true
	}
	old := len(s.db.Str(r))
	if m := s.db.Meta(r); metaEnc(m) != encRaw {
		s.db.SetMeta(r, makeMeta(typeString, encRaw, metaLRU(m)))
	}
	return r, s.db.ResizeString(r, max(old, n)), n > old, true
}

// setbitCmd: O(1), plus the bytes added when the value grows.
func setbitCmd(s *Shard, c *Client, argv [][]byte) {
	off, ok := s.bitOffset(c, argv[2], false, 0)
	if !ok {
		return
	}
	on, ok := parseInt(argv[3])
	if !ok || on&^1 != 0 {
		c.Error(errBitValue)
		return
	}
	_, b, grown, ok := s.bitString(c, argv[1], off)
	if !ok {
		return
	}
	i, mask := off>>3, byte(1)<<(7-off&7)
	old := b[i]&mask != 0
	if grown || old != (on == 1) {
		if on == 1 {
			b[i] |= mask
		} else {
			b[i] &^= mask
		}
		s.dirty++
		s.notify(notifyString, "setbit", argv[1])
	}
	if old {
		c.Int(1)
	} else {
		c.Int(0)
	}
}

// getbitCmd: O(1).
func getbitCmd(s *Shard, c *Client, argv [][]byte) {
	off, ok := s.bitOffset(c, argv[2], false, 0)
	if !ok {
		return
	}
	r, ok := s.lookupString(c, argv[1])
	if !ok {
		return
	}
	if r == kv.Nil {
		c.Int(0)
		return
	}
	b := s.db.Str(r)
	if i := off >> 3; i < uint64(len(b)) && b[i]&(1<<(7-off&7)) != 0 {
		c.Int(1)
		return
	}
	c.Int(0)
}

// bitRange turns the start and end of BITCOUNT/BITPOS (bytes, or bits
// when isBit) into an inclusive range of bit indexes of a value of n
// bytes, as Redis does: negative indexes count from the end, both are
// clamped into the value. empty is true when nothing is left.
func bitRange(start, end int64, n int64, isBit bool) (lo, hi int64, empty bool) {
	total := n
	if isBit {
		total <<= 3
	}
	if start < 0 {
		start += total
	}
	if end < 0 {
		end += total
	}
	start, end = max(start, 0), max(end, 0)
	if end >= total {
		end = total - 1
	}
	if start > end {
		return 0, 0, true
	}
	if isBit {
		return start, end, false
	}
	return start << 3, end<<3 | 7, false
}

// parseBitUnit reads BYTE or BIT.
func parseBitUnit(arg []byte) (isBit, ok bool) {
	switch {
	case eqFold(arg, "bit"):
		return true, true
	case eqFold(arg, "byte"):
		return false, true
	}
	return false, false
}

// bitcountCmd: O(N) in the bytes counted.
func bitcountCmd(s *Shard, c *Client, argv [][]byte) {
	r, ok := s.lookupString(c, argv[1])
	if !ok {
		return
	}
	if r == kv.Nil {
		c.Int(0)
		return
	}
	b := s.db.Str(r)
	n := int64(len(b))
	lo, hi := int64(0), n*8-1
	switch len(argv) {
	case 2:
		if n == 0 {
			c.Int(0)
			return
		}
	case 4, 5:
		start, ok1 := parseInt(argv[2])
		if !ok1 {
			c.Error(errNotInt)
			return
		}
		end, ok2 := parseInt(argv[3])
		if !ok2 {
			c.Error(errNotInt)
			return
		}
		isBit := false
		if len(argv) == 5 {
			if isBit, ok = parseBitUnit(argv[4]); !ok {
				c.Error(errSyntax)
				return
			}
		}
		if start < 0 && end < 0 && start > end {
			c.Int(0)
			return
		}
		var empty bool
		if lo, hi, empty = bitRange(start, end, n, isBit); empty {
			c.Int(0)
			return
		}
	default:
		c.Error(errSyntax)
		return
	}
	c.Int(countBits(b, lo, hi))
}

// countBits counts the set bits of b from bit lo to bit hi (inclusive,
// both within b). O(hi-lo), eight bytes at a time.
func countBits(b []byte, lo, hi int64) int64 {
	first, last := lo>>3, hi>>3
	headMask := byte(0xff) >> (lo & 7)
	tailMask := byte(0xff) << (7 - hi&7)
	if first == last {
		return int64(bits.OnesCount8(b[first] & headMask & tailMask))
	}
	n := bits.OnesCount8(b[first]&headMask) + bits.OnesCount8(b[last]&tailMask)
	mid := b[first+1 : last]
	for len(mid) >= 32 {
		n += bits.OnesCount64(binary.LittleEndian.Uint64(mid)) +
			bits.OnesCount64(binary.LittleEndian.Uint64(mid[8:])) +
			bits.OnesCount64(binary.LittleEndian.Uint64(mid[16:])) +
			bits.OnesCount64(binary.LittleEndian.Uint64(mid[24:]))
		mid = mid[32:]
	}
	for len(mid) >= 8 {
		n += bits.OnesCount64(binary.LittleEndian.Uint64(mid))
		mid = mid[8:]
	}
	for _, x := range mid {
		n += bits.OnesCount8(x)
	}
	return int64(n)
}

// firstBit finds the first bit equal to bit in b from bit lo to bit hi
// (inclusive, both within b), or -1. O(hi-lo), eight bytes at a time.
func firstBit(b []byte, lo, hi int64, bit int64) int64 {
	var flip byte
	var skip uint64
	if bit == 0 {
		flip, skip = 0xff, math.MaxUint64
	}
	first, last := lo>>3, hi>>3
	headMask := byte(0xff) >> (lo & 7)
	tailMask := byte(0xff) << (7 - hi&7)
	for i := first; i <= last; {
		if i != first && i+8 <= last {
			if binary.BigEndian.Uint64(b[i:]) == skip {
				i += 8
				continue
			}
		}
		v := b[i] ^ flip
		if i == first {
			v &= headMask
		}
		if i == last {
			v &= tailMask
		}
		if v != 0 {
			return i<<3 + int64(bits.LeadingZeros8(v))
		}
		i++
	}
	return -1
}

// bitposCmd: O(N) in the bytes searched.
func bitposCmd(s *Shard, c *Client, argv [][]byte) {
	bit, ok := parseInt(argv[2])
	if !ok {
		c.Error(errNotInt)
		return
	}
	if bit != 0 && bit != 1 {
		c.Error(errBitArg)
		return
	}
	r, ok := s.lookupString(c, argv[1])
	if !ok {
		return
	}
	if r == kv.Nil {
		// A missing key is an endless run of clear bits.
		c.Int(-bit)
		return
	}
	b := s.db.Str(r)
	n := int64(len(b))
	lo, hi := int64(0), n*8-1
	endGiven := false
	switch len(argv) {
	case 3:
		if n == 0 {
			c.Int(-1)
			return
		}
	case 4, 5, 6:
		start, ok1 := parseInt(argv[3])
		if !ok1 {
			c.Error(errNotInt)
			return
		}
		isBit := false
		if len(argv) == 6 {
			if isBit, ok = parseBitUnit(argv[5]); !ok {
				c.Error(errSyntax)
				return
			}
		}
		end := n - 1
		if isBit {
			end = n<<3 - 1
		}
		if len(argv) >= 5 {
			var ok2 bool
			if end, ok2 = parseInt(argv[4]); !ok2 {
				c.Error(errNotInt)
				return
			}
			endGiven = true
		}
		var empty bool
		if lo, hi, empty = bitRange(start, end, n, isBit); empty {
			c.Int(-1)
			return
		}
	default:
		c.Error(errSyntax)
		return
	}
	pos := firstBit(b, lo, hi, bit)
	if pos < 0 && bit == 0 && !endGiven {
		// Without an end, the value counts as padded with clear bits:
		// the first one past the range's last byte.
		pos = (hi>>3 + 1) << 3
	}
	c.Int(pos)
}

// BITOP operations.
const (
	bitopAnd = iota
	bitopOr
	bitopXor
	bitopNot
)

// bitopCmd: O(N) in the longest source; the result is computed apart and
// then stored, as sources may include the destination.
func bitopCmd(s *Shard, c *Client, argv [][]byte) {
	var op int
	switch name := argv[1]; {
	case eqFold(name, "and"):
		op = bitopAnd
	case eqFold(name, "or"):
		op = bitopOr
	case eqFold(name, "xor"):
		op = bitopXor
	case eqFold(name, "not"):
		op = bitopNot
	default:
		c.Error(errSyntax)
		return
	}
	if op == bitopNot && len(argv) != 4 {
		c.Error(errBitopNot)
		return
	}
	keys := argv[3:]
	srcs := make([][]byte, len(keys))
	maxLen, minLen := 0, 0
	for j, key := range keys {
		r, ok := s.lookupString(c, key)
		if !ok {
			return
		}
		if r == kv.Nil {
			minLen = 0
			continue
		}
		srcs[j] = s.db.Str(r)
		l := len(srcs[j])
		maxLen = max(maxLen, l)
		if j == 0 || l < minLen {
			minLen = l
		}
	}
	dst := argv[2]
	if maxLen == 0 {
		if s.deleteKey(dst) { // the result is empty: no key
			s.notify(notifyGeneric, "del", dst)
		}
		c.Int(0)
		return
	}
	res := make([]byte, maxLen)
	bitopApply(op, res, srcs, minLen)
	s.setString(dst, res, encRaw, kv.NoExpire, false)
	s.notify(notifyString, "set", dst)
	c.Int(int64(maxLen))
}

// bitopApply writes into res (as long as the longest source) the result
// of op over srcs, a missing or shorter source counting as zero bytes;
// minLen is the shortest source's length (0 if one is missing).
func bitopApply(op int, res []byte, srcs [][]byte, minLen int) {
	switch op {
	case bitopNot:
		src := srcs[0]
		i := 0
		for ; i+8 <= len(src); i += 8 {
			binary.LittleEndian.PutUint64(res[i:], ^binary.LittleEndian.Uint64(src[i:]))
		}
		for ; i < len(src); i++ {
			res[i] = ^src[i]
		}
	case bitopAnd:
		// Past the shortest source every byte is zero.
		copy(res[:minLen], srcs[0])
		for _, src := range srcs[1:] {
			i := 0
			for ; i+8 <= minLen; i += 8 {
				binary.LittleEndian.PutUint64(res[i:], binary.LittleEndian.Uint64(res[i:])&binary.LittleEndian.Uint64(src[i:]))
			}
			for ; i < minLen; i++ {
				res[i] &= src[i]
			}
		}
	default:
		for _, src := range srcs {
			i := 0
			if op == bitopOr {
				for ; i+8 <= len(src); i += 8 {
					binary.LittleEndian.PutUint64(res[i:], binary.LittleEndian.Uint64(res[i:])|binary.LittleEndian.Uint64(src[i:]))
				}
				for ; i < len(src); i++ {
					res[i] |= src[i]
				}
			} else {
				for ; i+8 <= len(src); i += 8 {
					binary.LittleEndian.PutUint64(res[i:], binary.LittleEndian.Uint64(res[i:])^binary.LittleEndian.Uint64(src[i:]))
				}
				for ; i < len(src); i++ {
					res[i] ^= src[i]
				}
			}
		}
	}
}

// BITFIELD subcommands and overflow policies.
const (
	bfGet = iota
	bfSet
	bfIncrBy
	bfOverflow
)

const (
	bfWrap = iota
	bfSat
	bfFail
)

// bfOp is one parsed BITFIELD subcommand.
type bfOp struct {
	code   int
	ow     int // overflow policy in force (the new one for OVERFLOW)
	signed bool
	width  int
	offset uint64
	value  int64
}

// parseBitfieldOp parses the subcommand at argv[j] with the overflow
// policy ow in force, replying the error (ok false) as Redis does: the
// name and argument count, then the type, the offset and the value.
// next is the index of the following subcommand.
func (s *Shard) parseBitfieldOp(c *Client, argv [][]byte, j, ow int) (op bfOp, next int, ok bool) {
	rem := len(argv) - j - 1
	name := argv[j]
	op.ow = ow
	switch {
	case eqFold(name, "get") && rem >= 2:
		op.code = bfGet
	case eqFold(name, "set") && rem >= 3:
		op.code = bfSet
	case eqFold(name, "incrby") && rem >= 3:
		op.code = bfIncrBy
	case eqFold(name, "overflow") && rem >= 1:
		op.code = bfOverflow
		switch t := argv[j+1]; {
		case eqFold(t, "wrap"):
			op.ow = bfWrap
		case eqFold(t, "sat"):
			op.ow = bfSat
		case eqFold(t, "fail"):
			op.ow = bfFail
		default:
			c.Error(errBitfieldOver)
			return op, 0, false
		}
		return op, j + 2, true
	default:
		c.Error(errSyntax)
		return op, 0, false
	}
	var okType bool
	if op.signed, op.width, okType = parseBitfieldType(argv[j+1]); !okType {
		c.Error(errBitfieldType)
		return op, 0, false
	}
	if op.offset, ok = s.bitOffset(c, argv[j+2], true, op.width); !ok {
		return op, 0, false
	}
	if op.code == bfGet {
		return op, j + 3, true
	}
	if op.value, ok = parseInt(argv[j+3]); !ok {
		c.Error(errNotInt)
		return op, 0, false
	}
	return op, j + 4, true
}

// parseBitfieldType reads i1..i64 or u1..u63.
func parseBitfieldType(t []byte) (signed bool, width int, ok bool) {
	if len(t) == 0 || t[0] != 'i' && t[0] != 'u' {
		return false, 0, false
	}
	signed = t[0] == 'i'
	// Redis reads the digits as a C string: a NUL ends them.
	digits := t[1:]
	for k, ch := range digits {
		if ch == 0 {
			digits = digits[:k]
			break
		}
	}
	n, ok := parseInt(digits)
	if !ok || n < 1 || signed && n > 64 || !signed && n > 63 {
		return false, 0, false
	}
	return signed, int(n), true
}

// bitfieldKeys gives BITFIELD's key with the flags its subcommands imply,
// as Redis's bitfieldGetKeys: read-only when only GET and OVERFLOW
// appear (and parse), read-write otherwise.
func bitfieldKeys(argv [][]byte) []keyPos {
	for i := 2; i < len(argv); i++ {
		rem := len(argv) - i - 1
		switch a := argv[i]; {
		case eqFold(a, "get") && rem >= 2:
			i += 2
		case eqFold(a, "overflow") && rem >= 1:
			i++
		default:
			return []keyPos{{pos: 1, flags: "RW ACCESS UPDATE"}}
		}
	}
	return []keyPos{{pos: 1, flags: "RO ACCESS"}}
}

func bitfieldCmd(s *Shard, c *Client, argv [][]byte) {
	s.bitfieldGeneric(c, argv, !bitfieldReadOnly)
}

func bitfieldROCmd(s *Shard, c *Client, argv [][]byte) {
	s.bitfieldGeneric(c, argv, bitfieldReadOnly)
}

// bitfieldGeneric runs BITFIELD (O(1) per subcommand, plus the bytes
// added when the value grows). All subcommands are parsed (and every
// error replied) before any runs; they are parsed again as they run, so
// no list of them is kept.
func (s *Shard) bitfieldGeneric(c *Client, argv [][]byte, readonlyCmd bool) {
	numOps, readonly := 0, true
	var highest uint64
	ow := bfWrap
	for j := 2; j < len(argv); {
		op, next, ok := s.parseBitfieldOp(c, argv, j, ow)
		if !ok {
			return
		}
		j, ow = next, op.ow
		if op.code == bfOverflow {
			continue
		}
		numOps++
		if op.code != bfGet {
			readonly = false
			highest = max(highest, op.offset+uint64(op.width)-1)
		}
	}
	var r kv.Ref
	var b []byte
	var grown bool // the key was created or lengthened: every write is a change
	if readonly {
		var ok bool
		if r, ok = s.lookupString(c, argv[1]); !ok {
			return
		}
		if r != kv.Nil {
			b = s.db.Str(r)
		}
	} else {
		if readonlyCmd {
			c.Error(errBitfieldRO)
			return
		}
		var ok bool
		if r, b, grown, ok = s.bitString(c, argv[1], highest); !ok {
			return
		}
	}
	c.ArrayLen(numOps)
	ow = bfWrap
	changes := int64(0)
	for j := 2; j < len(argv); {
		op, next, _ := s.parseBitfieldOp(c, argv, j, ow)
		j, ow = next, op.ow
		switch op.code {
		case bfOverflow:
		case bfGet:
			v := getBitfield(b, op.offset, op.width)
			if op.signed {
				c.Int(signExtend(v, op.width))
			} else {
				c.Int(int64(v))
			}
		default:
			var ret, oldVal, newVal uint64
			var overflow bool
			if op.signed {
				old := signExtend(getBitfield(b, op.offset, op.width), op.width)
				var nv, r int64
				if op.code == bfIncrBy {
					wrapped, of := signedOverflow(old, op.value, op.width, op.ow)
					nv, overflow = old+op.value, of
					if of {
						nv = wrapped
					}
					r = nv
				} else {
					wrapped, of := signedOverflow(op.value, 0, op.width, op.ow)
					nv, overflow = op.value, of
					if of {
						nv = wrapped
					}
					r = old
				}
				ret, oldVal, newVal = uint64(r), uint64(old), uint64(nv)
			} else {
				old := getBitfield(b, op.offset, op.width)
				oldVal = old
				if op.code == bfIncrBy {
					wrapped, of := unsignedOverflow(old, op.value, op.width, op.ow)
					newVal, overflow = old+uint64(op.value), of
					if of {
						newVal = wrapped
					}
					ret = newVal
				} else {
					wrapped, of := unsignedOverflow(uint64(op.value), 0, op.width, op.ow)
					newVal, overflow = uint64(op.value), of
					if of {
						newVal = wrapped
					}
					ret = old
				}
			}
			if overflow && op.ow == bfFail {
				c.Null() // nothing written, no change counted
				continue
			}
			if grown || oldVal != newVal { // writing the value it holds changes nothing
				changes++
			}
			c.Int(int64(ret))
			setBitfield(b, op.offset, op.width, newVal)
		}
	}
	if changes > 0 {
		s.dirty += changes
		s.notify(notifyString, "setbit", argv[1])
	}
}

// getBitfield reads width bits of b from bit offset, most significant
// first; bits past the end of b read as zero. O(1).
func getBitfield(b []byte, offset uint64, width int) uint64 {
	i := offset >> 3
	var w uint64
	var x byte
	n := uint64(len(b))
	if i+9 <= n {
		w, x = binary.BigEndian.Uint64(b[i:]), b[i+8]
	} else {
		for k := uint64(0); k < 8; k++ {
			if i+k < n {
				w |= uint64(b[i+k]) << (56 - 8*k)
			}
		}
		if i+8 < n {
			x = b[i+8]
		}
	}
	sh := offset & 7
	w = w<<sh | uint64(x)>>(8-sh)
	return w >> (64 - width)
}

// setBitfield writes the low width bits of v into b at bit offset; b
// must hold them. O(width).
func setBitfield(b []byte, offset uint64, width int, v uint64) {
	for k := width - 1; k >= 0; k-- {
		i, mask := offset>>3, byte(1)<<(7-offset&7)
		if v>>k&1 != 0 {
			b[i] |= mask
		} else {
			b[i] &^= mask
		}
		offset++
	}
}

// signExtend reads the low width bits of v as a signed integer.
func signExtend(v uint64, width int) int64 {
	if width < 64 && v&(1<<(width-1)) != 0 {
		v |= math.MaxUint64 << width
	}
	return int64(v)
}

// unsignedOverflow is Redis's checkUnsignedBitfieldOverflow: whether
// value+incr leaves the range of a width-bit unsigned integer, and the
// value to store then under policy ow (WRAP: modulo, SAT: the bound).
func unsignedOverflow(value uint64, incr int64, width, ow int) (limit uint64, overflow bool) {
	maxVal := uint64(1)<<width - 1
	maxIncr := int64(maxVal - value)
	minIncr := -int64(value)
	switch {
	case value > maxVal || incr > 0 && incr > maxIncr:
		limit = maxVal
	case incr < 0 && incr < minIncr:
		limit = 0
	default:
		return 0, false
	}
	if ow == bfWrap {
		limit = (value + uint64(incr)) &^ (math.MaxUint64 << width)
	}
	return limit, true
}

// signedOverflow is Redis's checkSignedBitfieldOverflow for a width-bit
// signed integer.
func signedOverflow(value, incr int64, width, ow int) (limit int64, overflow bool) {
	maxVal := int64(math.MaxInt64)
	if width < 64 {
		maxVal = int64(1)<<(width-1) - 1
	}
	minVal := -maxVal - 1
	maxIncr := int64(uint64(maxVal) - uint64(value))
	minIncr := minVal - value
	switch {
	case value > maxVal || width != 64 && incr > maxIncr || value >= 0 && incr > 0 && incr > maxIncr:
		limit = maxVal
	case value < minVal || width != 64 && incr < minIncr || value < 0 && incr < 0 && incr < minIncr:
		limit = minVal
	default:
		return 0, false
	}
	if ow == bfWrap {
		c := uint64(value) + uint64(incr)
		if width < 64 {
			mask := uint64(math.MaxUint64) << width
			if c&(1<<(width-1)) != 0 {
				c |= mask
			} else {
				c &^= mask
			}
		}
		limit = int64(c)
	}
	return limit, true
}
