package lualib

import (
	"errors"
	"testing"

	lua "github.com/yuin/gopher-lua"
)

// callLib calls lib.fn with args in a fresh state and fails the test if
// anything but a Lua error comes out of it (a Go panic turns into an
// ApiErrorPanic under PCall).
func callLib(t *testing.T, lib, fn string, args ...lua.LValue) (*lua.LState, []lua.LValue, error) {
	t.Helper()
	L := newTestState()
	f := L.GetField(L.GetGlobal(lib), fn)
	L.Push(f)
	for _, a := range args {
		L.Push(a)
	}
	err := L.PCall(len(args), lua.MultRet, nil)
	var apiErr *lua.ApiError
	if err != nil && (!errors.As(err, &apiErr) || apiErr.Type != lua.ApiErrorRun) {
		t.Fatalf("%s.%s(%q): not a Lua error: %v", lib, fn, args, err)
	}
	var res []lua.LValue
	if err == nil {
		for i := 1; i <= L.GetTop(); i++ {
			res = append(res, L.Get(i))
		}
	}
	return L, res, err
}

func FuzzCjsonDecode(f *testing.F) {
	for _, s := range []string{
		`[1,2,3,{"a":3}]`, `{"a":"\u00e9\ud83d\ude00","b":[true,false,null]}`, `"\\\/\b\f\n\r\t"`,
		`-1.5e300`, `0x1F`, `+5`, `-Infinity`, `nan(12)`, `[[[[]]]]`, `{"a":`, `"\ud834"`, "\x00a",
		`1e400`, `[1,]`, `tru`, "[1]\x00x",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		L, res, err := callLib(t, "cjson", "decode", lua.LString(s))
		defer L.Close()
		if err != nil {
			return
		}
		if len(res) != 1 {
			t.Fatalf("decode(%q) returned %d values", s, len(res))
		}
		// Whatever decodes must encode, or fail with a Lua error (NaN,
		// infinities, sparse arrays).
		L2, _, _ := callLib(t, "cjson", "encode", res[0])
		L2.Close()
	})
}

func FuzzCmsgpackUnpack(f *testing.F) {
	for _, s := range []string{
		"\x93\x01\x02\x03", "\x81\xa1a\x01", "\xcf\xff\xff\xff\xff\xff\xff\xff\xff", "\xd3\x80\x00\x00\x00\x00\x00\x00\x00",
		"\xca\x7f\xc0\x00\x00", "\xcb\x3f\xf0\x00\x00\x00\x00\x00\x01", "\xdb\x00\x00\x00\x05abc", "\xdd\xff\xff\xff\xff\x01",
		"\xdf\x00\x00\x00\x01\xc0\x01", "\x81\xc0\x01", "\xc1", "\xc4\x01a", "\x91\x91\x91\x91\x01", "\xd9\x03abc\xda\x00\x01z",
	} {
		f.Add(s, int64(0), int64(0))
	}
	f.Fuzz(func(t *testing.T, s string, limit, offset int64) {
		L, res, err := callLib(t, "cmsgpack", "unpack", lua.LString(s))
		defer L.Close()
		if err == nil && len(res) > 0 {
			// What unpacks packs again.
			L2, _, err := callLib(t, "cmsgpack", "pack", res...)
			L2.Close()
			if err != nil {
				t.Fatalf("pack(unpack(%q)): %v", s, err)
			}
		}
		L3, _, _ := callLib(t, "cmsgpack", "unpack_limit", lua.LString(s), lua.LNumber(limit), lua.LNumber(offset))
		L3.Close()
	})
}

func FuzzStruct(f *testing.F) {
	for _, s := range []string{"<i4", ">!4 b i b d", "c0", "b c0", "s s c2", "!3 i", "i33", "x x b", "c99999999999"} {
		f.Add(s, "\x03abcdefgh\x00ij", int64(1))
	}
	f.Fuzz(func(t *testing.T, format, data string, pos int64) {
		L, _, _ := callLib(t, "struct", "unpack", lua.LString(format), lua.LString(data), lua.LNumber(pos))
		L.Close()
		L2, _, _ := callLib(t, "struct", "size", lua.LString(format))
		L2.Close()
		L3, _, _ := callLib(t, "struct", "pack", lua.LString(format), lua.LNumber(pos), lua.LString(data), lua.LNumber(-1.5))
		L3.Close()
	})
}
