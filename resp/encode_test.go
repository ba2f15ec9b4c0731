package resp

import (
	"math"
	"strings"
	"testing"
)

func TestEncoders(t *testing.T) {
	v256 := strings.Repeat("x", 256)
	cases := []struct {
		name string
		got  []byte
		want string
	}{
		{"simple", AppendSimple(nil, "OK"), "+OK\r\n"},
		{"simple empty", AppendSimple(nil, ""), "+\r\n"},
		{"simple CRLF", AppendSimple(nil, "a\r\nb\n"), "+a  b\r\n"},
		{"simple bytes", AppendSimpleBytes(nil, []byte("PONG")), "+PONG\r\n"},
		{"simple bytes CR", AppendSimpleBytes(nil, []byte("\ra\rb")), "+a b\r\n"},
		{"error", AppendError(nil, "ERR unknown command"), "-ERR unknown command\r\n"},
		{"error wrongtype", AppendError(nil, "WRONGTYPE Operation against a key holding the wrong kind of value"),
			"-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
		{"error newlines", AppendError(nil, "ERR bad\r\narg 'x\ny'\r\n"), "-ERR bad  arg 'x y'\r\n"},
		{"int 0", AppendInt(nil, 0), ":0\r\n"},
		{"int neg", AppendInt(nil, -42), ":-42\r\n"},
		{"int max", AppendInt(nil, math.MaxInt64), ":9223372036854775807\r\n"},
		{"int min", AppendInt(nil, math.MinInt64), ":-9223372036854775808\r\n"},
		{"bulk", AppendBulk(nil, []byte("hello")), "$5\r\nhello\r\n"},
		{"bulk empty", AppendBulk(nil, nil), "$0\r\n\r\n"},
		{"bulk binary", AppendBulk(nil, []byte("a\r\n\x00")), "$4\r\na\r\n\x00\r\n"},
		{"bulk 256", AppendBulk(nil, []byte(v256)), "$256\r\n" + v256 + "\r\n"},
		{"bulk string", AppendBulkString(nil, "hi"), "$2\r\nhi\r\n"},
		{"bulk int", AppendBulkInt(nil, -1234), "$5\r\n-1234\r\n"},
		{"bulk int min", AppendBulkInt(nil, math.MinInt64), "$20\r\n-9223372036854775808\r\n"},
		{"bulk len", AppendCRLF(append(AppendBulkLen(nil, 3), "abc"...)), "$3\r\nabc\r\n"},
		{"array", AppendArrayLen(nil, 3), "*3\r\n"},
		{"array 0", AppendArrayLen(nil, 0), "*0\r\n"},
		{"null 2", AppendNull(nil, false), "$-1\r\n"},
		{"null 3", AppendNull(nil, true), "_\r\n"},
		{"null array 2", AppendNullArray(nil, false), "*-1\r\n"},
		{"null array 3", AppendNullArray(nil, true), "_\r\n"},
		{"map 2", AppendMapLen(nil, 3, false), "*6\r\n"},
		{"map 3", AppendMapLen(nil, 3, true), "%3\r\n"},
		{"set 2", AppendSetLen(nil, 4, false), "*4\r\n"},
		{"set 3", AppendSetLen(nil, 4, true), "~4\r\n"},
		{"push 2", AppendPushLen(nil, 3, false), "*3\r\n"},
		{"push 3", AppendPushLen(nil, 3, true), ">3\r\n"},
		{"attr", AppendAttrLen(nil, 1), "|1\r\n"},
		{"bool true 2", AppendBool(nil, true, false), ":1\r\n"},
		{"bool false 2", AppendBool(nil, false, false), ":0\r\n"},
		{"bool true 3", AppendBool(nil, true, true), "#t\r\n"},
		{"bool false 3", AppendBool(nil, false, true), "#f\r\n"},
		{"double 2", AppendDouble(nil, 1.5, false), "$3\r\n1.5\r\n"},
		{"double 3", AppendDouble(nil, 1.5, true), ",1.5\r\n"},
		{"double 0.1 2", AppendDouble(nil, 0.1, false), "$19\r\n0.10000000000000001\r\n"},
		{"double 0.1 3", AppendDouble(nil, 0.1, true), ",0.10000000000000001\r\n"},
		{"double int 3", AppendDouble(nil, 10, true), ",10\r\n"},
		{"double exp 2", AppendDouble(nil, 1e21, false), "$5\r\n1e+21\r\n"},
		{"double -0 3", AppendDouble(nil, math.Copysign(0, -1), true), ",-0\r\n"},
		{"double inf 2", AppendDouble(nil, math.Inf(1), false), "$3\r\ninf\r\n"},
		{"double -inf 2", AppendDouble(nil, math.Inf(-1), false), "$4\r\n-inf\r\n"},
		{"double inf 3", AppendDouble(nil, math.Inf(1), true), ",inf\r\n"},
		{"double -inf 3", AppendDouble(nil, math.Inf(-1), true), ",-inf\r\n"},
		{"double nan 3", AppendDouble(nil, math.NaN(), true), ",nan\r\n"},
		{"double nan 2", AppendDouble(nil, math.NaN(), false), "$3\r\nnan\r\n"},
		{"bignum 2", AppendBigNumber(nil, "3492890328409238509324850943850943825024385", false),
			"$43\r\n3492890328409238509324850943850943825024385\r\n"},
		{"bignum 3", AppendBigNumber(nil, "-123", true), "(-123\r\n"},
		{"verbatim 2", AppendVerbatim(nil, []byte("Some string"), "txt", false), "$11\r\nSome string\r\n"},
		{"verbatim 3", AppendVerbatim(nil, []byte("Some string"), "txt", true), "=15\r\ntxt:Some string\r\n"},
		{"verbatim mkd", AppendVerbatim(nil, []byte("# x"), "mkd", true), "=7\r\nmkd:# x\r\n"},
		{"verbatim bad format", AppendVerbatim(nil, []byte("a"), "markdown", true), "=5\r\ntxt:a\r\n"},
		{"appends", AppendInt(AppendSimple([]byte("pre"), "x"), 1), "pre+x\r\n:1\r\n"},
		{"null helper 2", ReplyNull(false), "$-1\r\n"},
		{"null helper 3", ReplyNull(true), "_\r\n"},
	}
	for _, c := range cases {
		if string(c.got) != c.want {
			t.Errorf("%s: got %q, want %q", c.name, c.got, c.want)
		}
	}
}

func TestSharedReplies(t *testing.T) {
	for _, c := range []struct {
		got  []byte
		want string
	}{
		{ReplyOK, "+OK\r\n"}, {ReplyPong, "+PONG\r\n"}, {ReplyQueued, "+QUEUED\r\n"},
		{ReplyZero, ":0\r\n"}, {ReplyOne, ":1\r\n"}, {ReplyMinusOne, ":-1\r\n"},
		{ReplyEmptyArray, "*0\r\n"}, {ReplyEmptyBulk, "$0\r\n\r\n"},
		{ReplyNullBulk, "$-1\r\n"}, {ReplyNullArray, "*-1\r\n"}, {ReplyNull3, "_\r\n"},
		{ReplyTrue3, "#t\r\n"}, {ReplyFalse3, "#f\r\n"}, {CRLF, "\r\n"},
	} {
		if string(c.got) != c.want {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
	}
}

func TestEncodersDoNotAllocate(t *testing.T) {
	buf := make([]byte, 0, 4096)
	v := []byte(strings.Repeat("v", 256))
	fns := map[string]func(){
		"simple":       func() { buf = AppendSimple(buf[:0], "OK") },
		"simple bytes": func() { buf = AppendSimpleBytes(buf[:0], v[:10]) },
		"error":        func() { buf = AppendError(buf[:0], "ERR x\ny") },
		"int":          func() { buf = AppendInt(buf[:0], -123456789) },
		"bulk":         func() { buf = AppendBulk(buf[:0], v) },
		"bulk string":  func() { buf = AppendBulkString(buf[:0], "hello") },
		"bulk int":     func() { buf = AppendBulkInt(buf[:0], 1<<40) },
		"bulk len":     func() { buf = AppendCRLF(AppendBulkLen(buf[:0], 5)) },
		"array":        func() { buf = AppendArrayLen(buf[:0], 7) },
		"null":         func() { buf = AppendNull(AppendNull(buf[:0], true), false) },
		"null array":   func() { buf = AppendNullArray(AppendNullArray(buf[:0], true), false) },
		"map":          func() { buf = AppendMapLen(AppendMapLen(buf[:0], 2, true), 2, false) },
		"set":          func() { buf = AppendSetLen(AppendSetLen(buf[:0], 2, true), 2, false) },
		"push":         func() { buf = AppendPushLen(AppendPushLen(buf[:0], 2, true), 2, false) },
		"attr":         func() { buf = AppendAttrLen(buf[:0], 2) },
		"bool":         func() { buf = AppendBool(AppendBool(buf[:0], true, true), false, false) },
		"double":       func() { buf = AppendDouble(AppendDouble(buf[:0], 0.1, true), 3.25e-7, false) },
		"double int":   func() { buf = AppendDouble(buf[:0], 12345, false) },
		"double inf":   func() { buf = AppendDouble(buf[:0], math.Inf(-1), false) },
		"bignum":       func() { buf = AppendBigNumber(AppendBigNumber(buf[:0], "123", true), "123", false) },
		"verbatim":     func() { buf = AppendVerbatim(AppendVerbatim(buf[:0], v, "txt", true), v, "txt", false) },
		"format":       func() { buf = FormatDouble(buf[:0], 1.0/3) },
	}
	for name, fn := range fns {
		if a := testing.AllocsPerRun(100, fn); a != 0 {
			t.Errorf("%s: %v allocs", name, a)
		}
	}
}
