package lualib

import (
	"encoding/binary"
	"math"
	"strings"

	lua "github.com/yuin/gopher-lua"
)

// OpenStruct installs the "struct" module (struct.c 1.7 as shipped with
// Redis) as a global and returns it: pack, unpack and size over a format
// language of endianness, alignment and C-typed fields. Sizes are those of
// x86-64: short 2, int 4, long and size_t 8, and the default alignment for
// "!" is 8. The native byte order is little-endian.
func OpenStruct(L *lua.LState) *lua.LTable {
	return newLib(L, "struct", map[string]lua.LGFunction{
		"pack":   structPack,
		"unpack": structUnpack,
		"size":   structSize,
	})
}

const (
	structMaxIntSize = 32 // largest size of an 'i'/'I' field
	structMaxAlign   = 8  // what a bare '!' sets
)

// structFormat walks a format string and holds the options set so far.
type structFormat struct {
	L      *lua.LState
	fmt    string
	pos    int
	little bool
	align  uint64
}

func newStructFormat(L *lua.LState, f string) *structFormat {
	if i := strings.IndexByte(f, 0); i >= 0 {
		f = f[:i] // the C code reads the format as a C string
	}
	return &structFormat{L: L, fmt: f, little: true, align: 1}
}

func (f *structFormat) more() bool { return f.pos < len(f.fmt) }

func (f *structFormat) next() byte {
	c := f.fmt[f.pos]
	f.pos++
	return c
}

// number reads an optional decimal count after an option.
func (f *structFormat) number(def int) int {
	if !f.more() || !isDigit(f.fmt[f.pos]) {
		return def
	}
	a := 0
	for f.more() && isDigit(f.fmt[f.pos]) {
		d := int(f.fmt[f.pos] - '0')
		if a > math.MaxInt32/10 || a*10 > math.MaxInt32-d {
			raise(f.L, "integral size overflow")
		}
		a = a*10 + d
		f.pos++
	}
	return a
}

// size is the byte size of option opt (0 for options without data), reading
// the count that may follow it.
func (f *structFormat) size(opt byte) uint64 {
	switch opt {
	case 'B', 'b', 'x':
		return 1
	case 'H', 'h':
		return 2
	case 'L', 'l', 'T', 'd':
		return 8
	case 'f':
		return 4
	case 'c':
		return uint64(f.number(1))
	case 'i', 'I':
		sz := f.number(4)
		if sz > structMaxIntSize {
			raise(f.L, "integral size %d is larger than limit of %d", sz, structMaxIntSize)
		}
		return uint64(sz)
	}
	return 0
}

// padding is how many bytes must precede a field of the given size at
// offset n. It is computed as struct.c does, also for sizes that are not
// powers of two.
func (f *structFormat) padding(n uint64, opt byte, size uint64) uint64 {
	if size == 0 || opt == 'c' {
		return 0
	}
	if size > f.align {
		size = f.align
	}
	return (size - n&(size-1)) & (size - 1)
}

// control handles the options that only change the settings.
func (f *structFormat) control(opt byte) {
	switch opt {
	case ' ':
	case '>':
		f.little = false
	case '<':
		f.little = true
	case '!':
		a := f.number(structMaxAlign)
		if a <= 0 || a&(a-1) != 0 {
			raise(f.L, "alignment %d is not a power of 2", a)
		}
		f.align = uint64(a)
	default:
		argError(f.L, 1, "invalid format option '"+string([]byte{opt})+"'")
	}
}

func structPack(L *lua.LState) int {
	f := newStructFormat(L, checkLString(L, 1))
	arg := 2
	var out []byte
	var total uint64
	// Just past its arguments struct.c keeps a nil marker on the stack, so
	// the first missing argument (the only one ever reported) is "nil".
	top := L.GetTop()
	missing := func(idx int, expected string) {
		argError(L, idx, expected+" expected, got nil")
	}
	number := func() float64 {
		if arg > top {
			missing(arg, "number")
		}
		arg++
		return checkNumber(L, arg-1)
	}
	for f.more() {
		opt := f.next()
		size := f.size(opt)
		pad := f.padding(total, opt, size)
		total += pad
		for ; pad > 0; pad-- {
			out = append(out, 0)
		}
		switch opt {
		case 'b', 'B', 'h', 'H', 'l', 'L', 'T', 'i', 'I':
			n := number()
			var v uint64
			if n < 0 {
				v = uint64(cvtInt64(n))
			} else {
				v = cvtUint64(n)
			}
			out = appendUint(out, v, int(size), f.little)
		case 'x':
			out = append(out, 0)
		case 'f':
			bits := math.Float32bits(float32From(number()))
			out = appendUint(out, uint64(bits), 4, f.little)
		case 'd':
			bits := math.Float64bits(number())
			out = appendUint(out, bits, 8, f.little)
		case 'c', 's':
			if arg > top {
				missing(arg, "string")
			}
			s := checkLString(L, arg)
			arg++
			if size == 0 {
				size = uint64(len(s))
			}
			if uint64(len(s)) < size {
				// struct.c names the argument after the string.
				argError(L, arg, "string too short")
			}
			out = append(out, s[:size]...)
			if opt == 's' {
				out = append(out, 0)
				size++
			}
		default:
			f.control(opt)
		}
		total += size
	}
	L.Push(lua.LString(out))
	return 1
}

// appendUint appends the low size bytes of v (zeros beyond the eighth).
func appendUint(out []byte, v uint64, size int, little bool) []byte {
	start := len(out)
	for i := 0; i < size; i++ {
		out = append(out, 0)
	}
	b := out[start:]
	for i := 0; i < size; i++ {
		if little {
			b[i] = byte(v)
		} else {
			b[size-1-i] = byte(v)
		}
		v >>= 8
	}
	return out
}

// readInt reads a size-byte integer, keeping the low 64 bits, and
// sign-extends it as struct.c does on x86-64 (where the shift that builds
// the sign mask counts modulo 64).
func readInt(b []byte, little, signed bool) float64 {
	var l uint64
	for i := range b {
		c := b[i]
		if little {
			c = b[len(b)-1-i]
		}
		l = l<<8 | uint64(c)
	}
	if !signed {
		return float64(l)
	}
	mask := ^uint64(0) << (uint(len(b)*8-1) & 63)
	if l&mask != 0 {
		l |= mask
	}
	return float64(int64(l))
}

func structUnpack(L *lua.LState) int {
	f := newStructFormat(L, checkLString(L, 1))
	data := checkLString(L, 2)
	ld := uint64(len(data))
	pos := uint64(optInteger(L, 3, 1))
	if pos == 0 {
		argError(L, 3, "offset must be 1 or greater")
	}
	pos--
	base := L.GetTop()
	var res []lua.LValue
	for f.more() {
		opt := f.next()
		size := f.size(opt)
		pos += f.padding(pos, opt, size)
		if size > ld || pos > ld-size {
			argError(L, 2, "data string too short")
		}
		if base+len(res)+2 > maxCStack {
			raise(L, "stack overflow (too many results)")
		}
		switch opt {
		case 'b', 'B', 'h', 'H', 'l', 'L', 'T', 'i', 'I':
			signed := 'a' <= opt && opt <= 'z'
			res = append(res, lua.LNumber(readInt([]byte(data[pos:pos+size]), f.little, signed)))
		case 'x':
		case 'f':
			var bits uint32
			if f.little {
				bits = binary.LittleEndian.Uint32([]byte(data[pos : pos+4]))
			} else {
				bits = binary.BigEndian.Uint32([]byte(data[pos : pos+4]))
			}
			res = append(res, lua.LNumber(float64From(math.Float32frombits(bits))))
		case 'd':
			var bits uint64
			if f.little {
				bits = binary.LittleEndian.Uint64([]byte(data[pos : pos+8]))
			} else {
				bits = binary.BigEndian.Uint64([]byte(data[pos : pos+8]))
			}
			res = append(res, lua.LNumber(math.Float64frombits(bits)))
		case 'c':
			if size == 0 {
				var n float64
				ok := false
				if len(res) > 0 {
					n, ok = toNumber(res[len(res)-1])
				}
				if !ok {
					raise(L, "format 'c0' needs a previous size")
				}
				size = cvtUint64(n)
				res = res[:len(res)-1]
				if size > ld || pos > ld-size {
					argError(L, 2, "data string too short")
				}
			}
			res = append(res, lua.LString(data[pos:pos+size]))
		case 's':
			e := strings.IndexByte(data[pos:], 0)
			if e < 0 {
				raise(L, "unfinished string in data")
			}
			size = uint64(e) + 1
			res = append(res, lua.LString(data[pos:pos+uint64(e)]))
		default:
			f.control(opt)
		}
		pos += size
	}
	for _, v := range res {
		L.Push(v)
	}
	L.Push(lua.LNumber(float64(int64(pos + 1))))
	return len(res) + 1
}

func structSize(L *lua.LState) int {
	f := newStructFormat(L, checkLString(L, 1))
	var pos uint64
	for f.more() {
		opt := f.next()
		size := f.size(opt)
		pos += f.padding(pos, opt, size)
		if opt == 's' {
			argError(L, 1, "option 's' has no fixed size")
		} else if opt == 'c' && size == 0 {
			argError(L, 1, "option 'c0' has no fixed size")
		}
		if !isAlnum(opt) {
			f.control(opt)
		}
		pos += size
	}
	L.Push(lua.LNumber(float64(int64(pos))))
	return 1
}

func isAlnum(c byte) bool {
	return isDigit(c) || ('a' <= c|0x20 && c|0x20 <= 'z')
}
