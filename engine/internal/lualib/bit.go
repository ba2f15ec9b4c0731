package lualib

import (
	"math"

	lua "github.com/yuin/gopher-lua"
)

// OpenBit installs LuaBitOp 1.0.2's "bit" module as a global and returns it.
// Every operation works on 32-bit integers and returns a signed 32-bit result.
func OpenBit(L *lua.LState) *lua.LTable {
	return newLib(L, "bit", map[string]lua.LGFunction{
		"tobit":   bitToBit,
		"bnot":    bitNot,
		"band":    bitReduce(func(a, b uint32) uint32 { return a & b }),
		"bor":     bitReduce(func(a, b uint32) uint32 { return a | b }),
		"bxor":    bitReduce(func(a, b uint32) uint32 { return a ^ b }),
		"lshift":  bitShift(func(b, n uint32) uint32 { return b << n }),
		"rshift":  bitShift(func(b, n uint32) uint32 { return b >> n }),
		"arshift": bitShift(func(b, n uint32) uint32 { return uint32(int32(b) >> n) }),
		"rol":     bitShift(func(b, n uint32) uint32 { return b<<n | b>>((32-n)&31) }),
		"ror":     bitShift(func(b, n uint32) uint32 { return b>>n | b<<((32-n)&31) }),
		"bswap":   bitSwap,
		"tohex":   bitToHex,
	})
}

// bitArg converts argument idx to 32 bits the way LuaBitOp does on a double
// Lua: add 2^52+2^51 and keep the low word of the sum's bit pattern, which
// rounds to the nearest integer and wraps modulo 2^32. A NaN comes through
// the addition unchanged (bar its quiet bit), so its own low word is used.
// Anything lua_tonumber rejects is an error.
func bitArg(L *lua.LState, idx int) uint32 {
	n, ok := toNumber(L.Get(idx))
	var b uint32
	if math.IsNaN(n) {
		b = uint32(math.Float64bits(n))
	} else {
		b = uint32(math.Float64bits(n + 6755399441055744.0))
	}
	if b == 0 && !ok {
		typeError(L, idx, "number")
	}
	return b
}

func bitReturn(L *lua.LState, b uint32) int {
	L.Push(lua.LNumber(int32(b)))
	return 1
}

func bitToBit(L *lua.LState) int { return bitReturn(L, bitArg(L, 1)) }

func bitNot(L *lua.LState) int { return bitReturn(L, ^bitArg(L, 1)) }

// bitReduce folds op over all arguments; like LuaBitOp it reads the first
// argument, then the rest from the last one down.
func bitReduce(op func(a, b uint32) uint32) lua.LGFunction {
	return func(L *lua.LState) int {
		b := bitArg(L, 1)
		for i := L.GetTop(); i > 1; i-- {
			b = op(b, bitArg(L, i))
		}
		return bitReturn(L, b)
	}
}

// bitShift applies op with the count taken modulo 32.
func bitShift(op func(b, n uint32) uint32) lua.LGFunction {
	return func(L *lua.LState) int {
		b := bitArg(L, 1)
		n := bitArg(L, 2) & 31
		return bitReturn(L, op(b, n))
	}
}

func bitSwap(L *lua.LState) int {
	b := bitArg(L, 1)
	return bitReturn(L, b>>24|(b>>8)&0xff00|(b&0xff00)<<8|b<<24)
}

// bitToHex formats the low n hex digits of its first argument; a negative n
// asks for upper case, and at most 8 digits are given.
func bitToHex(L *lua.LState) int {
	b := bitArg(L, 1)
	n := int32(8)
	if L.GetTop() >= 2 {
		n = int32(bitArg(L, 2))
	}
	digits := "0123456789abcdef"
	switch {
	case n == math.MinInt32:
		// Negating it overflows; Redis's build ends up with 8 lower-case
		// digits.
		n = 8
	case n < 0:
		n = -n
		digits = "0123456789ABCDEF"
	}
	if n > 8 {
		n = 8
	}
	buf := make([]byte, n)
	for i := n - 1; i >= 0; i-- {
		buf[i] = digits[b&15]
		b >>= 4
	}
	L.Push(lua.LString(buf))
	return 1
}
