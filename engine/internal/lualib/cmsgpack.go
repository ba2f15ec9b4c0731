package lualib

import (
	"math"

	lua "github.com/yuin/gopher-lua"
)

// OpenCmsgpack installs the "cmsgpack" module (lua-cmsgpack 0.4.0 as Redis
// ships it) as a global and returns it.
func OpenCmsgpack(L *lua.LState) *lua.LTable {
	t := newLib(L, "cmsgpack", map[string]lua.LGFunction{
		"pack":         mpPack,
		"unpack":       mpUnpack,
		"unpack_one":   mpUnpackOne,
		"unpack_limit": mpUnpackLimit,
	})
	t.RawSetString("_NAME", lua.LString("cmsgpack"))
	t.RawSetString("_VERSION", lua.LString("lua-cmsgpack 0.4.0"))
	t.RawSetString("_COPYRIGHT", lua.LString("Copyright (C) 2012, Salvatore Sanfilippo"))
	t.RawSetString("_DESCRIPTION", lua.LString("MessagePack C implementation for Lua"))
	return t
}

// mpMaxNesting is how deep tables are encoded; deeper ones become nil, so
// that tables referring to themselves can be packed.
const mpMaxNesting = 16

// mpEncoder packs Lua values. top mirrors the Lua stack height the C packer
// would have, for its stack checks.
type mpEncoder struct {
	L   *lua.LState
	out []byte
}

// checkStack is luaL_checkstack at stack height top.
func checkStack(L *lua.LState, top, n int, msg string) {
	if top+n > maxCStack {
		raise(L, "stack overflow (%s)", msg)
	}
}

func mpPack(L *lua.LState) int {
	nargs := L.GetTop()
	if nargs == 0 {
		argError(L, 0, "MessagePack pack needs input.")
	}
	if 2*nargs > maxCStack {
		argError(L, 0, "Too many arguments for MessagePack pack.")
	}
	e := &mpEncoder{L: L}
	for i := 1; i <= nargs; i++ {
		top := nargs + i - 1 // the packed strings so far stay on the stack
		checkStack(L, top, 1, "in function mp_check")
		e.value(L.Get(i), 0, top+1)
	}
	L.Push(lua.LString(e.out))
	return 1
}

// value packs v, at table nesting level; top counts v itself.
func (e *mpEncoder) value(v lua.LValue, level, top int) {
	switch x := v.(type) {
	case lua.LString:
		e.str(string(x))
	case lua.LBool:
		if x {
			e.out = append(e.out, 0xc3)
		} else {
			e.out = append(e.out, 0xc2)
		}
	case lua.LNumber:
		e.number(float64(x))
	case *lua.LTable:
		if level == mpMaxNesting {
			e.out = append(e.out, 0xc0)
			return
		}
		e.table(x, level, top)
	default:
		e.out = append(e.out, 0xc0)
	}
}

// header appends a type byte and n as a big-endian integer of size bytes.
func (e *mpEncoder) header(b byte, n uint64, size int) {
	e.out = append(e.out, b)
	for i := size - 1; i >= 0; i-- {
		e.out = append(e.out, byte(n>>(8*i)))
	}
}

func (e *mpEncoder) str(s string) {
	n := uint64(len(s))
	switch {
	case n < 32:
		e.out = append(e.out, 0xa0|byte(n))
	case n <= 0xff:
		e.header(0xd9, n, 1)
	case n <= 0xffff:
		e.header(0xda, n, 2)
	default:
		e.header(0xdb, n, 4)
	}
	e.out = append(e.out, s...)
}

// number packs integral values (those an int64 holds exactly) as integers,
// then floats as float 32 when that is exact, else as float 64.
func (e *mpEncoder) number(f float64) {
	if !math.IsInf(f, 0) && float64(cvtInt64(f)) == f {
		e.integer(cvtInt64(f))
		return
	}
	if math.IsInf(f, 0) || (math.Abs(f) <= math.MaxFloat32 && float64(float32(f)) == f) {
		e.header(0xca, uint64(math.Float32bits(float32(f))), 4)
		return
	}
	e.header(0xcb, math.Float64bits(f), 8)
}

func (e *mpEncoder) integer(n int64) {
	u := uint64(n)
	switch {
	case n >= 0 && n <= 127:
		e.out = append(e.out, byte(n))
	case n >= 0 && n <= 0xff:
		e.header(0xcc, u, 1)
	case n >= 0 && n <= 0xffff:
		e.header(0xcd, u, 2)
	case n >= 0 && n <= 0xffffffff:
		e.header(0xce, u, 4)
	case n >= 0:
		e.header(0xcf, u, 8)
	case n >= -32:
		e.out = append(e.out, byte(n))
	case n >= -128:
		e.header(0xd0, u, 1)
	case n >= -32768:
		e.header(0xd1, u, 2)
	case n >= -2147483648:
		e.header(0xd2, u, 4)
	default:
		e.header(0xd3, u, 8)
	}
}

// arrayLength returns the length of t if its keys are exactly 1..n (with n
// below 2^31), else -1.
func mpArrayLength(t *lua.LTable) int {
	var max, count int
	for k, _ := t.Next(lua.LNil); k != lua.LNil; k, _ = t.Next(k) {
		n, ok := k.(lua.LNumber)
		f := float64(n)
		if !ok || f <= 0 || math.IsInf(f, 0) || float64(cvtInt32(f)) != f {
			return -1
		}
		if int(f) > max {
			max = int(f)
		}
		count++
	}
	if max != count {
		return -1
	}
	return count
}

func (e *mpEncoder) table(t *lua.LTable, level, top int) {
	checkStack(e.L, top, 2, "in function table_is_an_array")
	if n := mpArrayLength(t); n >= 0 {
		e.collection(0x90, 0xdc, 0xdd, uint64(n))
		checkStack(e.L, top, 1, "in function mp_encode_lua_table_as_array")
		for i := 1; i <= n; i++ {
			e.value(t.RawGetInt(i), level+1, top+1)
		}
		return
	}
	checkStack(e.L, top, 3, "in function mp_encode_lua_table_as_map")
	n := 0
	for k, _ := t.Next(lua.LNil); k != lua.LNil; k, _ = t.Next(k) {
		n++
	}
	e.collection(0x80, 0xde, 0xdf, uint64(n))
	for k, v := t.Next(lua.LNil); k != lua.LNil; k, v = t.Next(k) {
		e.value(k, level+1, top+3)
		e.value(v, level+1, top+2)
	}
}

// collection appends an array or map header.
func (e *mpEncoder) collection(fix, b16, b32 byte, n uint64) {
	switch {
	case n <= 15:
		e.out = append(e.out, fix|byte(n))
	case n <= 0xffff:
		e.header(b16, n, 2)
	default:
		e.header(b32, n, 4)
	}
}

// ===== decoding =====

type mpStatus int

const (
	mpOK mpStatus = iota
	mpEOF
	mpBadFormat
)

// mpDecoder unpacks from data[pos:]. Like the C decoder, it counts the Lua
// stack slots it would use and fails where that one runs out.
type mpDecoder struct {
	L    *lua.LState
	data string
	pos  int
}

func (d *mpDecoder) left() int { return len(d.data) - d.pos }

func (d *mpDecoder) uint(at, size int) uint64 {
	var u uint64
	for i := 0; i < size; i++ {
		u = u<<8 | uint64(d.data[at+i])
	}
	return u
}

// bytes reads an n-byte string after an h-byte header.
func (d *mpDecoder) bytes(h int, n uint64) (lua.LValue, mpStatus) {
	if uint64(d.left()-h) < n {
		return nil, mpEOF
	}
	s := d.data[d.pos+h : d.pos+h+int(n)]
	d.pos += h + int(n)
	return lua.LString(s), mpOK
}

// mpFixedSize is, for the type bytes that have one, the size of the type
// byte plus the fixed-size data or length after it.
var mpFixedSize = [256]int8{
	0xcc: 2, 0xd0: 2, 0xcd: 3, 0xd1: 3, 0xce: 5, 0xd2: 5, 0xcf: 9, 0xd3: 9,
	0xca: 5, 0xcb: 9, 0xd9: 2, 0xda: 3, 0xdb: 5, 0xdc: 3, 0xdd: 5, 0xde: 3, 0xdf: 5,
}

// value decodes one value; top is the Lua stack height before it.
func (d *mpDecoder) value(top int) (lua.LValue, mpStatus) {
	if d.left() < 1 {
		return nil, mpEOF
	}
	checkStack(d.L, top, 1, "too many return values at once; use unpack_one or unpack_limit instead.")
	b := d.data[d.pos]
	need := int(mpFixedSize[b])
	if d.left() < need {
		return nil, mpEOF
	}
	p := d.pos
	switch b {
	case 0xcc, 0xcd, 0xce:
		d.pos += need
		return lua.LNumber(d.uint(p+1, need-1)), mpOK
	case 0xcf:
		d.pos += need
		// The C code pushes it as a signed 64-bit integer.
		return lua.LNumber(float64(int64(d.uint(p+1, 8)))), mpOK
	case 0xd0:
		d.pos += need
		return lua.LNumber(int8(d.data[p+1])), mpOK
	case 0xd1:
		d.pos += need
		return lua.LNumber(int16(d.uint(p+1, 2))), mpOK
	case 0xd2:
		d.pos += need
		return lua.LNumber(int32(d.uint(p+1, 4))), mpOK
	case 0xd3:
		d.pos += need
		return lua.LNumber(float64(int64(d.uint(p+1, 8)))), mpOK
	case 0xc0:
		d.pos++
		return lua.LNil, mpOK
	case 0xc3, 0xc2:
		d.pos++
		return lua.LBool(b == 0xc3), mpOK
	case 0xca:
		d.pos += need
		return lua.LNumber(float64From(math.Float32frombits(uint32(d.uint(p+1, 4))))), mpOK
	case 0xcb:
		d.pos += need
		return lua.LNumber(math.Float64frombits(d.uint(p+1, 8))), mpOK
	case 0xd9, 0xda:
		return d.bytes(need, d.uint(p+1, need-1))
	case 0xdb:
		n := d.uint(p+1, 4)
		d.pos += need
		return d.bytes(0, n)
	case 0xdc, 0xdd:
		d.pos += need
		return d.array(d.uint(p+1, need-1), top)
	case 0xde, 0xdf:
		d.pos += need
		return d.hash(d.uint(p+1, need-1), top)
	}
	switch {
	case b < 0x80: // positive fixint
		d.pos++
		return lua.LNumber(b), mpOK
	case b >= 0xe0: // negative fixint
		d.pos++
		return lua.LNumber(int8(b)), mpOK
	case b&0xe0 == 0xa0: // fixstr
		return d.bytes(1, uint64(b&0x1f))
	case b&0xf0 == 0x90: // fixarray
		d.pos++
		return d.array(uint64(b&0x0f), top)
	case b&0xf0 == 0x80: // fixmap
		d.pos++
		return d.hash(uint64(b&0x0f), top)
	}
	return nil, mpBadFormat
}

func (d *mpDecoder) array(n uint64, top int) (lua.LValue, mpStatus) {
	t := d.L.NewTable()
	checkStack(d.L, top+1, 1, "in function mp_decode_to_lua_array")
	for i := 1; uint64(i) <= n; i++ {
		v, st := d.value(top + 2)
		if st != mpOK {
			return nil, st
		}
		t.RawSetInt(i, v)
	}
	return t, mpOK
}

func (d *mpDecoder) hash(n uint64, top int) (lua.LValue, mpStatus) {
	t := d.L.NewTable()
	for ; n > 0; n-- {
		k, st := d.value(top + 1)
		if st != mpOK {
			return nil, st
		}
		v, st := d.value(top + 2)
		if st != mpOK {
			return nil, st
		}
		if k == lua.LNil {
			raiseBare(d.L, "table index is nil")
		}
		if f, ok := k.(lua.LNumber); ok && f != f {
			raiseBare(d.L, "table index is NaN")
		}
		t.RawSet(k, v)
	}
	return t, mpOK
}

func mpUnpack(L *lua.LState) int {
	return mpUnpackFull(L, 0, 0, L.GetTop())
}

func mpUnpackOne(L *lua.LState) int {
	offset := optInteger(L, 2, 0)
	return mpUnpackFull(L, 1, offset, 1)
}

func mpUnpackLimit(L *lua.LState) int {
	limit := checkInteger(L, 2)
	offset := optInteger(L, 3, 0)
	return mpUnpackFull(L, limit, offset, 1)
}

// mpUnpackFull decodes up to limit values from the string argument starting
// at offset; with neither given it decodes everything and returns only the
// values, else the offset of what is left (-1 for nothing) comes first.
// top is the Lua stack height the C code starts from.
func mpUnpackFull(L *lua.LState, limit, offset int64, top int) int {
	s := checkLString(L, 1)
	all := limit == 0 && offset == 0
	switch {
	case offset < 0 || limit < 0:
		raise(L, "Invalid request to unpack with offset of %d and limit of %d.", int32(offset), int32(len(s)))
	case uint64(offset) > uint64(len(s)):
		raise(L, "Start offset %d greater than input length %d.", int32(offset), int32(len(s)))
	}
	if all {
		limit = math.MaxInt32
	}
	d := &mpDecoder{L: L, data: s, pos: int(offset)}
	var vals []lua.LValue
	for int64(len(vals)) < limit && d.left() > 0 {
		v, st := d.value(top + len(vals))
		switch st {
		case mpEOF:
			raise(L, "Missing bytes in input.")
		case mpBadFormat:
			raise(L, "Bad data format in input.")
		}
		vals = append(vals, v)
	}
	if !all {
		checkStack(L, top+len(vals), 1, "in function mp_unpack_full")
		next := int64(d.pos)
		if d.left() == 0 {
			next = -1
		}
		L.Push(lua.LNumber(next))
	}
	for _, v := range vals {
		L.Push(v)
	}
	if all {
		return len(vals)
	}
	return len(vals) + 1
}
