package resp

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strconv"
)

// Reply type bytes, RESP2 and RESP3.
const (
	TypeSimple    = '+'
	TypeError     = '-'
	TypeInt       = ':'
	TypeBulk      = '$'
	TypeArray     = '*'
	TypeNull      = '_'
	TypeDouble    = ','
	TypeBool      = '#'
	TypeBulkError = '!'
	TypeVerbatim  = '='
	TypeBigNumber = '('
	TypeMap       = '%'
	TypeSet       = '~'
	TypePush      = '>'
	TypeAttr      = '|'
)

// Limits of ReadReply, which guard tools against garbage input.
const (
	maxReplyDepth = 512
	maxReplyBulk  = 1 << 30
	maxReplyCount = 1 << 30
	readChunk     = 64 << 10
)

// ErrMalformedReply is wrapped by every error ReadReply returns for bytes
// that are not a valid reply.
var ErrMalformedReply = errors.New("resp: malformed reply")

// Value is one reply as ReadReply found it.
type Value struct {
	Type   byte    // the type byte: TypeSimple, TypeBulk, TypeMap, ...
	Str    []byte  // text of simple strings, errors, bulks, bulk errors, verbatims (without "fmt:"), big numbers, doubles
	Format string  // verbatim string format ("txt", "mkd")
	Int    int64   // integers; 1 or 0 for booleans
	Float  float64 // doubles
	Null   bool    // $-1, *-1 or _
	Elems  []Value // array, set and push elements; map keys and values alternating
	Attrs  []Value // keys and values of a RESP3 attribute sent before this reply
	Raw    []byte  // every byte of the reply, its attribute included
}

// IsError reports whether v is an error reply (simple or bulk).
func (v *Value) IsError() bool { return v.Type == TypeError || v.Type == TypeBulkError }

// ReadReply reads one complete reply from r. At a clean end of input before
// a reply starts it returns io.EOF; input ending inside a reply returns
// io.ErrUnexpectedEOF; bytes that are not a reply return an error wrapping
// ErrMalformedReply. Streamed RESP3 aggregates ("$?", "*?") are not
// supported, as Redis never sends them.
func ReadReply(r *bufio.Reader) (Value, error) {
	rd := replyReader{r: r}
	v, err := rd.read(0)
	if err == io.EOF && len(rd.raw) > 0 {
		err = io.ErrUnexpectedEOF
	}
	return v, err
}

type replyReader struct {
	r   *bufio.Reader
	raw []byte
}

func malformed(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrMalformedReply}, args...)...)
}

// line reads one CRLF-terminated line and returns it without the CRLF.
func (rd *replyReader) line() ([]byte, error) {
	start := len(rd.raw)
	for {
		chunk, err := rd.r.ReadSlice('\n')
		rd.raw = append(rd.raw, chunk...)
		if err == bufio.ErrBufferFull {
			if len(rd.raw)-start > maxReplyBulk {
				return nil, malformed("line too long")
			}
			continue
		}
		if err != nil {
			if err == io.EOF && len(rd.raw) > 0 {
				err = io.ErrUnexpectedEOF
			}
			return nil, err
		}
		break
	}
	l := rd.raw[start:]
	if len(l) < 2 || l[len(l)-2] != '\r' {
		return nil, malformed("line not terminated by CRLF")
	}
	return l[: len(l)-2 : len(l)-2], nil
}

// bulk reads n bytes and the CRLF after them.
func (rd *replyReader) bulk(n int64) ([]byte, error) {
	start := len(rd.raw)
	for left := n + 2; left > 0; {
		k := min(left, readChunk)
		off := len(rd.raw)
		rd.raw = append(rd.raw, make([]byte, k)...)
		if _, err := io.ReadFull(rd.r, rd.raw[off:]); err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return nil, err
		}
		left -= k
	}
	b := rd.raw[start:]
	if b[n] != '\r' || b[n+1] != '\n' {
		return nil, malformed("bulk data not terminated by CRLF")
	}
	return b[:n:n], nil
}

func parseLen(b []byte, allowNull bool, max int64) (int64, error) {
	n, err := strconv.ParseInt(string(b), 10, 64)
	if err != nil || n < -1 || (n == -1 && !allowNull) || n > max {
		return 0, malformed("bad length %q", b)
	}
	return n, nil
}

func (rd *replyReader) read(depth int) (Value, error) {
	if depth > maxReplyDepth {
		return Value{}, malformed("nested too deep")
	}
	start := len(rd.raw)
	l, err := rd.line()
	if err != nil {
		return Value{}, err
	}
	if len(l) == 0 {
		return Value{}, malformed("empty line")
	}
	v := Value{Type: l[0]}
	body := l[1:]
	switch v.Type {
	case TypeSimple, TypeError:
		v.Str = body
	case TypeInt:
		n, err := strconv.ParseInt(string(body), 10, 64)
		if err != nil {
			return Value{}, malformed("bad integer %q", body)
		}
		v.Int = n
	case TypeNull:
		if len(body) != 0 {
			return Value{}, malformed("bad null %q", body)
		}
		v.Null = true
	case TypeDouble:
		f, err := strconv.ParseFloat(string(body), 64)
		if err != nil && !errors.Is(err, strconv.ErrRange) {
			return Value{}, malformed("bad double %q", body)
		}
		v.Str, v.Float = body, f
	case TypeBool:
		switch string(body) {
		case "t":
			v.Int = 1
		case "f":
		default:
			return Value{}, malformed("bad boolean %q", body)
		}
	case TypeBigNumber:
		if !isBigNumber(body) {
			return Value{}, malformed("bad big number %q", body)
		}
		v.Str = body
	case TypeBulk, TypeBulkError, TypeVerbatim:
		n, err := parseLen(body, v.Type == TypeBulk, maxReplyBulk)
		if err != nil {
			return Value{}, err
		}
		if n == -1 {
			v.Null = true
			break
		}
		s, err := rd.bulk(n)
		if err != nil {
			return Value{}, err
		}
		v.Str = s
		if v.Type == TypeVerbatim {
			if len(s) < 4 || s[3] != ':' {
				return Value{}, malformed("bad verbatim string")
			}
			v.Format, v.Str = string(s[:3]), s[4:]
		}
	case TypeArray, TypeSet, TypePush, TypeMap, TypeAttr:
		n, err := parseLen(body, v.Type == TypeArray, maxReplyCount)
		if err != nil {
			return Value{}, err
		}
		if n == -1 {
			v.Null = true
			break
		}
		if v.Type == TypeMap || v.Type == TypeAttr {
			n *= 2
		}
		elems := make([]Value, 0, min(n, 16))
		for range n {
			e, err := rd.read(depth + 1)
			if err != nil {
				if err == io.EOF {
					err = io.ErrUnexpectedEOF
				}
				return Value{}, err
			}
			elems = append(elems, e)
		}
		if v.Type == TypeAttr {
			next, err := rd.read(depth + 1)
			if err != nil {
				if err == io.EOF {
					err = io.ErrUnexpectedEOF
				}
				return Value{}, err
			}
			next.Attrs = append(elems, next.Attrs...)
			v = next
			break
		}
		v.Elems = elems
	default:
		return Value{}, malformed("unknown type byte %q", v.Type)
	}
	end := len(rd.raw)
	v.Raw = rd.raw[start:end:end]
	return v, nil
}

// isBigNumber checks a RESP3 big number: an optional sign and digits.
func isBigNumber(b []byte) bool {
	if len(b) > 0 && (b[0] == '-' || b[0] == '+') {
		b = b[1:]
	}
	if len(b) == 0 {
		return false
	}
	for _, c := range b {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}
