package resp

import (
	"math"
	"strconv"
)

// Shared replies, pre-encoded as Redis keeps them in shared.*. Callers may
// append them to an output buffer but must never modify them.
var (
	ReplyOK         = []byte("+OK\r\n")
	ReplyPong       = []byte("+PONG\r\n")
	ReplyQueued     = []byte("+QUEUED\r\n")
	ReplyZero       = []byte(":0\r\n")
	ReplyOne        = []byte(":1\r\n")
	ReplyMinusOne   = []byte(":-1\r\n")
	ReplyEmptyArray = []byte("*0\r\n")
	ReplyEmptyBulk  = []byte("$0\r\n\r\n")
	ReplyNullBulk   = []byte("$-1\r\n") // RESP2 null bulk string
	ReplyNullArray  = []byte("*-1\r\n") // RESP2 null array
	ReplyNull3      = []byte("_\r\n")   // RESP3 null
	ReplyTrue3      = []byte("#t\r\n")
	ReplyFalse3     = []byte("#f\r\n")
	CRLF            = []byte("\r\n")
)

// ReplyNull returns the null bulk string for the protocol.
func ReplyNull(resp3 bool) []byte {
	if resp3 {
		return ReplyNull3
	}
	return ReplyNullBulk
}

// appendLine appends s with CR and LF turned into spaces, and leading and
// trailing CR/LF dropped, as Redis cleans formatted error strings; a status
// or error line can never break the protocol framing.
func appendLine[T string | []byte](b []byte, s T) []byte {
	for len(s) > 0 && (s[0] == '\r' || s[0] == '\n') {
		s = s[1:]
	}
	for len(s) > 0 && (s[len(s)-1] == '\r' || s[len(s)-1] == '\n') {
		s = s[:len(s)-1]
	}
	start := 0
	for i := 0; i < len(s); i++ {
		if s[i] == '\r' || s[i] == '\n' {
			b = append(b, s[start:i]...)
			b = append(b, ' ')
			start = i + 1
		}
	}
	return append(b, s[start:]...)
}

// AppendSimple appends the simple string +s. CR/LF in s become spaces.
func AppendSimple(b []byte, s string) []byte {
	b = append(b, '+')
	b = appendLine(b, s)
	return append(b, '\r', '\n')
}

// AppendSimpleBytes is AppendSimple for a byte slice.
func AppendSimpleBytes(b, s []byte) []byte {
	b = append(b, '+')
	b = appendLine(b, s)
	return append(b, '\r', '\n')
}

// AppendError appends the error reply -msg. msg carries its code ("ERR ...",
// "WRONGTYPE ..."); CR/LF in it become spaces, as in Redis's
// addReplyErrorFormat.
func AppendError(b []byte, msg string) []byte {
	b = append(b, '-')
	b = appendLine(b, msg)
	return append(b, '\r', '\n')
}

// appendPrefixed appends <prefix><n>\r\n.
func appendPrefixed(b []byte, prefix byte, n int64) []byte {
	b = append(b, prefix)
	b = strconv.AppendInt(b, n, 10)
	return append(b, '\r', '\n')
}

// AppendInt appends the integer reply :n.
func AppendInt(b []byte, n int64) []byte { return appendPrefixed(b, ':', n) }

// AppendBulkLen appends a bulk string header $n; the caller then appends
// exactly n bytes and CRLF.
func AppendBulkLen(b []byte, n int) []byte { return appendPrefixed(b, '$', int64(n)) }

// AppendCRLF appends \r\n, the end of a bulk string begun with AppendBulkLen.
func AppendCRLF(b []byte) []byte { return append(b, '\r', '\n') }

// AppendBulk appends v as a bulk string. A nil v is the empty string, not
// null: use AppendNull for null.
func AppendBulk(b, v []byte) []byte {
	b = appendPrefixed(b, '$', int64(len(v)))
	b = append(b, v...)
	return append(b, '\r', '\n')
}

// AppendBulkString appends s as a bulk string.
func AppendBulkString(b []byte, s string) []byte {
	b = appendPrefixed(b, '$', int64(len(s)))
	b = append(b, s...)
	return append(b, '\r', '\n')
}

// AppendBulkInt appends the decimal form of n as a bulk string.
func AppendBulkInt(b []byte, n int64) []byte {
	var tmp [20]byte
	d := strconv.AppendInt(tmp[:0], n, 10)
	return AppendBulk(b, d)
}

// AppendArrayLen appends an array header *n.
func AppendArrayLen(b []byte, n int) []byte { return appendPrefixed(b, '*', int64(n)) }

// AppendNull appends null: $-1 in RESP2, _ in RESP3.
func AppendNull(b []byte, resp3 bool) []byte {
	if resp3 {
		return append(b, ReplyNull3...)
	}
	return append(b, ReplyNullBulk...)
}

// AppendNullArray appends a null array: *-1 in RESP2, _ in RESP3.
func AppendNullArray(b []byte, resp3 bool) []byte {
	if resp3 {
		return append(b, ReplyNull3...)
	}
	return append(b, ReplyNullArray...)
}

// AppendMapLen appends a map header for n key/value pairs: %n in RESP3, an
// array of 2n elements in RESP2.
func AppendMapLen(b []byte, n int, resp3 bool) []byte {
	if resp3 {
		return appendPrefixed(b, '%', int64(n))
	}
	return appendPrefixed(b, '*', 2*int64(n))
}

// AppendSetLen appends a set header: ~n in RESP3, *n in RESP2.
func AppendSetLen(b []byte, n int, resp3 bool) []byte {
	if resp3 {
		return appendPrefixed(b, '~', int64(n))
	}
	return appendPrefixed(b, '*', int64(n))
}

// AppendPushLen appends a push header (pub/sub messages, invalidations):
// >n in RESP3, *n in RESP2.
func AppendPushLen(b []byte, n int, resp3 bool) []byte {
	if resp3 {
		return appendPrefixed(b, '>', int64(n))
	}
	return appendPrefixed(b, '*', int64(n))
}

// AppendAttrLen appends an attribute header |n (RESP3 only; RESP2 clients
// must not be sent attributes).
func AppendAttrLen(b []byte, n int) []byte { return appendPrefixed(b, '|', int64(n)) }

// AppendBool appends a boolean: #t/#f in RESP3, :1/:0 in RESP2.
func AppendBool(b []byte, v bool, resp3 bool) []byte {
	switch {
	case resp3 && v:
		return append(b, ReplyTrue3...)
	case resp3:
		return append(b, ReplyFalse3...)
	case v:
		return append(b, ReplyOne...)
	default:
		return append(b, ReplyZero...)
	}
}

// AppendDouble appends f as Redis 7.0's addReplyDouble does: in RESP2 a bulk
// string of "%.17g" ("inf" and "-inf" for infinities), in RESP3 a double
// ",%.17g" (",inf", ",-inf", ",nan").
func AppendDouble(b []byte, f float64, resp3 bool) []byte {
	if resp3 {
		b = append(b, ',')
		b = FormatDouble(b, f)
		return append(b, '\r', '\n')
	}
	var tmp [32]byte
	return AppendBulk(b, FormatDouble(tmp[:0], f))
}

// AppendBigNumber appends the decimal string s as a big number: (s in
// RESP3, a bulk string in RESP2.
func AppendBigNumber(b []byte, s string, resp3 bool) []byte {
	if resp3 {
		b = append(b, '(')
		b = append(b, s...)
		return append(b, '\r', '\n')
	}
	return AppendBulkString(b, s)
}

// AppendVerbatim appends s as a verbatim string of the three-letter format
// ("txt", "mkd"): =len\r\nfmt:s in RESP3, a plain bulk string of s in RESP2.
// A format that is not three bytes long is replaced by "txt".
func AppendVerbatim(b []byte, s []byte, format string, resp3 bool) []byte {
	if !resp3 {
		return AppendBulk(b, s)
	}
	if len(format) != 3 {
		format = "txt"
	}
	b = appendPrefixed(b, '=', int64(len(s))+4)
	b = append(b, format...)
	b = append(b, ':')
	b = append(b, s...)
	return append(b, '\r', '\n')
}

// FormatDouble appends f formatted as C's printf("%.17g") with glibc: 17
// significant digits, trailing zeros removed, exponent form below 1e-4 and
// from 1e17, "inf", "-inf", "nan" and "-nan" (a NaN with its sign bit set).
func FormatDouble(dst []byte, f float64) []byte {
	switch {
	case math.IsInf(f, 1):
		return append(dst, "inf"...)
	case math.IsInf(f, -1):
		return append(dst, "-inf"...)
	case math.IsNaN(f):
		if math.Signbit(f) {
			return append(dst, "-nan"...)
		}
		return append(dst, "nan"...)
	}
	// Integers below 2^53 print all their digits (at most 16) exactly;
	// strconv's 17-digit path is much slower, so take the short cut.
	if f == math.Trunc(f) && math.Abs(f) < 1<<53 {
		if f == 0 && math.Signbit(f) {
			return append(dst, "-0"...)
		}
		return strconv.AppendInt(dst, int64(f), 10)
	}
	// Go's %g rule with an explicit precision (exponent form when the
	// exponent is below -4 or at least the precision, trailing zeros
	// trimmed, two-digit exponents) and its exact, round-half-even
	// decimal conversion are those of glibc's printf.
	return strconv.AppendFloat(dst, f, 'g', 17, 64)
}
