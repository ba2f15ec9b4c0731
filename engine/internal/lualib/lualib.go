// Package lualib provides, for gopher-lua, the four C libraries that Redis 7.0
// embeds into its Lua scripting environment: cjson (lua-cjson 2.1.0 as patched
// by Redis), cmsgpack (lua-cmsgpack 0.4.0), bit (LuaBitOp 1.0.2) and struct
// (Roberto Ierusalimschy's struct library). They are written in Go and aim to
// behave exactly as Redis 7.0.15 running on x86-64 does, down to number
// formatting, error messages and the results of out-of-range float to integer
// conversions, on every architecture Go supports.
//
// Open installs all four as globals. A *lua.LState, and therefore everything
// this package installs into it (including the cjson configuration that its
// configuration functions change), is owned by one goroutine at a time, as
// gopher-lua requires; nothing here is shared between states.
//
// Errors are raised as Lua errors with Redis's messages, including the
// "source:line:" prefix that luaL_error adds when the caller is Lua code. The
// C libraries may use up to 8000 Lua stack slots (LUAI_MAXCSTACK) and fail
// with "stack overflow (...)" beyond that; the Go versions count slots to
// fail at the same points. To return as many values as Redis does (e.g.
// struct.unpack or cmsgpack.unpack with thousands of results), a state must
// let gopher-lua's registry grow past that (lua.Options.RegistryMaxSize).
package lualib

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	lua "github.com/yuin/gopher-lua"
)

// Open installs cjson, struct, cmsgpack and bit as globals of L, in the order
// Redis loads them.
func Open(L *lua.LState) {
	OpenCjson(L)
	OpenStruct(L)
	OpenCmsgpack(L)
	OpenBit(L)
}

// maxCStack is Lua 5.1's LUAI_MAXCSTACK: the most stack slots a C function may
// use. The C libraries fail with "stack overflow (...)" when they would need
// more, and the Go versions count slots to fail at the same point.
const maxCStack = 8000

// newLib builds a module table from funcs and sets it as the global name.
func newLib(L *lua.LState, name string, funcs map[string]lua.LGFunction) *lua.LTable {
	t := L.NewTable()
	for k, f := range funcs {
		t.RawSetString(k, L.NewFunction(f))
	}
	L.SetGlobal(name, t)
	return t
}

// where is luaL_where(L, 1): the position of the function that called the
// running Go function, or "" when that caller is not a Lua function.
func where(L *lua.LState) string {
	dbg, ok := L.GetStack(1)
	if !ok {
		return ""
	}
	if _, err := L.GetInfo("Sl", dbg, lua.LNil); err != nil {
		return ""
	}
	if dbg.What == "G" || dbg.CurrentLine <= 0 {
		return ""
	}
	return fmt.Sprintf("%s:%d: ", dbg.Source, dbg.CurrentLine)
}

// raise is luaL_error: it raises msg, prefixed with the caller's position, as
// a Lua error. It does not return.
func raise(L *lua.LState, format string, args ...any) {
	msg := format
	if len(args) > 0 {
		msg = fmt.Sprintf(format, args...)
	}
	L.Error(lua.LString(where(L)+msg), 0)
}

// raiseBare is lua_error with a string: no position is added.
func raiseBare(L *lua.LState, msg string) {
	L.Error(lua.LString(msg), 0)
}

// funcName is the name luaL_argerror reports for the running function: how
// the calling Lua code referred to it, or "?".
func funcName(L *lua.LState) string {
	dbg, ok := L.GetStack(0)
	if !ok {
		return "?"
	}
	if _, err := L.GetInfo("n", dbg, lua.LNil); err != nil {
		return "?"
	}
	switch name := dbg.Name; {
	case name == "", name == "?", name == "(anonymous)", name == "main chunk",
		name == "corountine", strings.HasPrefix(name, "<"):
		return "?"
	default:
		return name
	}
}

// argError is luaL_argerror. One difference remains: for a method call
// (lib:fn()) Lua 5.1 reports "calling 'fn' on bad self" or shifts the
// argument number down by one; gopher-lua does not record whether a call was
// a method call, so the plain form is used.
func argError(L *lua.LState, narg int, msg string) {
	raise(L, "bad argument #%d to '%s' (%s)", narg, funcName(L), msg)
}

// typeName is luaL_typename: the Lua 5.1 type name of argument idx.
func typeName(L *lua.LState, idx int) string {
	if idx > L.GetTop() {
		return "no value"
	}
	return valueTypeName(L.Get(idx))
}

// typeError is luaL_typerror.
func typeError(L *lua.LState, narg int, tname string) {
	argError(L, narg, tname+" expected, got "+typeName(L, narg))
}

// toNumber is lua_tonumber: numbers, and strings that read as numbers.
func toNumber(v lua.LValue) (float64, bool) {
	switch x := v.(type) {
	case lua.LNumber:
		return float64(x), true
	case lua.LString:
		return str2number(string(x))
	}
	return 0, false
}

// str2number is Lua 5.1's luaO_str2d: strtod, and only white space may
// follow. The string ends at its first NUL, as in C.
func str2number(s string) (float64, bool) {
	if i := strings.IndexByte(s, 0); i >= 0 {
		s = s[:i]
	}
	v, n := strtod(s)
	if n == 0 {
		return 0, false
	}
	// Where strtod stops at an 'x', Lua retries with strtoul(s, 16), which
	// stops at the same 'x' (glibc's strtod already reads hexadecimal), so
	// the string is rejected either way.
	for n < len(s) && isSpace(s[n]) {
		n++
	}
	if n != len(s) {
		return 0, false
	}
	return v, true
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

func hexVal(c byte) int {
	switch {
	case '0' <= c && c <= '9':
		return int(c - '0')
	case 'a' <= c|0x20 && c|0x20 <= 'f':
		return int(c|0x20-'a') + 10
	}
	return -1
}

// glibcNaN is the NaN glibc's strtod returns for "nan": the quiet NaN with no
// payload.
const glibcNaN = 0x7ff8000000000000

// strtod reads the longest prefix of s that C's strtod accepts (glibc flavour:
// decimal, hexadecimal, inf/infinity, nan/nan(...)) and returns its value and
// length; length 0 means no number was read.
func strtod(s string) (float64, int) {
	i := 0
	for i < len(s) && isSpace(s[i]) {
		i++
	}
	neg := false
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		neg = s[i] == '-'
		i++
	}
	signed := func(f float64) float64 {
		if neg {
			return -f
		}
		return f
	}
	rest := s[i:]
	switch {
	case hasPrefixFold(rest, "inf"):
		n := i + 3
		if hasPrefixFold(rest, "infinity") {
			n = i + 8
		}
		return signed(math.Inf(1)), n
	case hasPrefixFold(rest, "nan"):
		n := i + 3
		if n < len(s) && s[n] == '(' {
			j := n + 1
			for j < len(s) && (isDigit(s[j]) || ('a' <= s[j]|0x20 && s[j]|0x20 <= 'z') || s[j] == '_') {
				j++
			}
			if j < len(s) && s[j] == ')' {
				n = j + 1
			}
		}
		bits := uint64(glibcNaN)
		if neg {
			bits |= 1 << 63
		}
		return math.Float64frombits(bits), n
	}
	if len(rest) >= 2 && rest[0] == '0' && rest[1]|0x20 == 'x' {
		if f, n, ok := strtodHex(rest[2:]); ok {
			return signed(f), i + 2 + n
		}
	}
	j := i
	digits := 0
	for j < len(s) && isDigit(s[j]) {
		j++
		digits++
	}
	if j < len(s) && s[j] == '.' {
		j++
		for j < len(s) && isDigit(s[j]) {
			j++
			digits++
		}
	}
	if digits == 0 {
		return 0, 0
	}
	if j < len(s) && s[j]|0x20 == 'e' {
		k := j + 1
		if k < len(s) && (s[k] == '+' || s[k] == '-') {
			k++
		}
		if k < len(s) && isDigit(s[k]) {
			for k < len(s) && isDigit(s[k]) {
				k++
			}
			j = k
		}
	}
	f, err := strconv.ParseFloat(s[i:j], 64)
	if err != nil && !isRangeErr(err) {
		return 0, 0
	}
	return signed(f), j
}

// strtodHex reads the part of a hexadecimal float after "0x".
func strtodHex(s string) (float64, int, bool) {
	j := 0
	digits := 0
	for j < len(s) && hexVal(s[j]) >= 0 {
		j++
		digits++
	}
	if j < len(s) && s[j] == '.' {
		j++
		for j < len(s) && hexVal(s[j]) >= 0 {
			j++
			digits++
		}
	}
	if digits == 0 {
		return 0, 0, false
	}
	mant := s[:j]
	exp := "p0"
	if j < len(s) && s[j]|0x20 == 'p' {
		k := j + 1
		if k < len(s) && (s[k] == '+' || s[k] == '-') {
			k++
		}
		if k < len(s) && isDigit(s[k]) {
			for k < len(s) && isDigit(s[k]) {
				k++
			}
			exp = s[j:k]
			j = k
		}
	}
	f, err := strconv.ParseFloat("0x"+mant+exp, 64)
	if err != nil && !isRangeErr(err) {
		return 0, 0, false
	}
	return f, j, true
}

func isRangeErr(err error) bool {
	ne, ok := err.(*strconv.NumError)
	return ok && ne.Err == strconv.ErrRange
}

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}

// fmtNumber formats f as C's printf("%.<prec>g") does with glibc.
func fmtNumber(f float64, prec int) string {
	switch {
	case math.IsNaN(f):
		if math.Signbit(f) {
			return "-nan"
		}
		return "nan"
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	}
	return strconv.FormatFloat(f, 'g', prec, 64)
}

// toLString is lua_tolstring: strings, and numbers formatted with "%.14g".
func toLString(v lua.LValue) (string, bool) {
	switch x := v.(type) {
	case lua.LString:
		return string(x), true
	case lua.LNumber:
		return fmtNumber(float64(x), 14), true
	}
	return "", false
}

// checkLString is luaL_checklstring.
func checkLString(L *lua.LState, idx int) string {
	s, ok := toLString(L.Get(idx))
	if !ok {
		typeError(L, idx, "string")
	}
	return s
}

// checkNumber is luaL_checknumber.
func checkNumber(L *lua.LState, idx int) float64 {
	f, ok := toNumber(L.Get(idx))
	if f == 0 && !ok {
		typeError(L, idx, "number")
	}
	return f
}

// checkInteger is luaL_checkinteger on x86-64.
func checkInteger(L *lua.LState, idx int) int64 {
	f, ok := toNumber(L.Get(idx))
	d := cvtInt64(f)
	if d == 0 && !ok {
		typeError(L, idx, "number")
	}
	return d
}

// optInteger is luaL_optinteger on x86-64.
func optInteger(L *lua.LState, idx int, def int64) int64 {
	if L.Get(idx) == lua.LNil {
		return def
	}
	return checkInteger(L, idx)
}

// cvtInt64 converts f to int64 as x86-64's cvttsd2si does: truncation, and
// the "integer indefinite" value math.MinInt64 for NaN and out-of-range
// values. Go's own conversion of such values differs between architectures.
func cvtInt64(f float64) int64 {
	if f >= -0x1p63 && f < 0x1p63 {
		return int64(f)
	}
	return math.MinInt64
}

// cvtInt32 is the 32-bit cvttsd2si: out-of-range and NaN give math.MinInt32.
func cvtInt32(f float64) int32 {
	if f > -0x1p31-1 && f < 0x1p31 {
		return int32(f)
	}
	return math.MinInt32
}

// cvtUint64 converts f to uint64 as GCC's code for x86-64 does: values below
// 2^63 (and NaN) go through cvttsd2si, larger ones have 2^63 taken off first,
// so 2^64 and beyond give 0.
func cvtUint64(f float64) uint64 {
	if f >= 0x1p63 {
		return uint64(cvtInt64(f-0x1p63)) ^ (1 << 63)
	}
	return uint64(cvtInt64(f))
}

// float32From converts f to float32 as x86-64's cvtsd2ss does, NaN payloads
// included.
func float32From(f float64) float32 {
	if math.IsNaN(f) {
		b := math.Float64bits(f)
		return math.Float32frombits(uint32(b>>63)<<31 | 0x7fc00000 | uint32(b>>29)&0x3fffff)
	}
	return float32(f)
}

// float64From converts f to float64 as x86-64's cvtss2sd does, NaN payloads
// included.
func float64From(f float32) float64 {
	if f != f {
		b := math.Float32bits(f)
		return math.Float64frombits(uint64(b>>31)<<63 | 0x7ff8000000000000 | uint64(b&0x3fffff)<<29)
	}
	return float64(f)
}
