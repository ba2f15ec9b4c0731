package diff

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
)

// This file reads replies the way the differential test needs them: as
// the exact bytes the server sent, one complete reply at a time (Frame),
// and, when a normalization rule needs it, as a tree (Parse) that Encode
// turns back into exactly those bytes.
//
// The reader is strict: it accepts only the canonical forms Redis writes
// (no leading zeros or '+' in lengths, "-1" only for RESP2 nulls, no CR or
// LF inside a line), so that Encode(Parse(b)) == b always holds and a
// non-canonical reply surfaces as a difference rather than being smoothed
// over.

// errIncomplete means the buffer ends inside a reply: read more.
var errIncomplete = errors.New("diff: incomplete reply")

// errBadReply wraps every framing error.
var errBadReply = errors.New("diff: bad reply")

const (
	maxDepth    = 64
	maxBulkLen  = 1 << 30
	maxAggCount = 1 << 31
)

// Value is one parsed reply.
type Value struct {
	// Type is the RESP type byte: '+' '-' ':' '$' '*' (RESP2) or
	// '_' ',' '#' '(' '!' '=' '%' '~' '>' (RESP3).
	Type byte
	// Str is the line of a simple type, or the payload of a bulk type.
	Str []byte
	// Null marks the RESP2 nulls $-1 and *-1.
	Null bool
	// Elems are an aggregate's elements; a map ('%') holds key, value,
	// key, value, ...
	Elems []Value
	// Attr is the attribute ('|', a map) sent just before this reply.
	Attr *Value
}

// Frame returns the length of the complete reply at the start of b. It
// returns errIncomplete when b ends inside the reply and an error wrapping
// errBadReply when b does not start with a valid reply. It does not
// allocate.
func Frame(b []byte) (int, error) { return frame(b, 0) }

func frame(b []byte, depth int) (int, error) {
	if depth > maxDepth {
		return 0, fmt.Errorf("%w: nested deeper than %d", errBadReply, maxDepth)
	}
	if len(b) == 0 {
		return 0, errIncomplete
	}
	line, n, err := readLine(b[1:])
	if err != nil {
		return 0, err
	}
	n++ // the type byte
	switch t := b[0]; t {
	case '+', '-':
		return n, nil
	case ':', '(':
		if !isInteger(line, t == '(') {
			return 0, fmt.Errorf("%w: %q is not an integer", errBadReply, b[:n])
		}
		return n, nil
	case ',':
		if len(line) == 0 {
			return 0, fmt.Errorf("%w: empty double", errBadReply)
		}
		return n, nil
	case '#':
		if len(line) != 1 || (line[0] != 't' && line[0] != 'f') {
			return 0, fmt.Errorf("%w: %q is not a boolean", errBadReply, b[:n])
		}
		return n, nil
	case '_':
		if len(line) != 0 {
			return 0, fmt.Errorf("%w: %q is not a null", errBadReply, b[:n])
		}
		return n, nil
	case '$', '!', '=':
		size, null, err := parseLength(line, t == '$', maxBulkLen)
		if err != nil {
			return 0, err
		}
		if null {
			return n, nil
		}
		end := n + size + 2
		if len(b) < end {
			return 0, errIncomplete
		}
		if b[end-2] != '\r' || b[end-1] != '\n' {
			return 0, fmt.Errorf("%w: bulk of %d bytes not followed by CRLF", errBadReply, size)
		}
		if t == '=' && (size < 4 || b[n+3] != ':') {
			return 0, fmt.Errorf("%w: verbatim string without a format", errBadReply)
		}
		return end, nil
	case '*', '%', '~', '>', '|':
		count, null, err := parseLength(line, t == '*', maxAggCount)
		if err != nil {
			return 0, err
		}
		if null {
			return n, nil
		}
		if t == '%' || t == '|' {
			count *= 2
		}
		for i := 0; i < count; i++ {
			m, err := frame(b[n:], depth+1)
			if err != nil {
				return 0, err
			}
			n += m
		}
		if t == '|' {
			// An attribute annotates the reply that follows it.
			m, err := frame(b[n:], depth+1)
			if err != nil {
				return 0, err
			}
			if b[n] == '|' {
				return 0, fmt.Errorf("%w: attribute followed by an attribute", errBadReply)
			}
			n += m
		}
		return n, nil
	default:
		return 0, fmt.Errorf("%w: unknown type byte %q", errBadReply, t)
	}
}

// readLine returns the line at the start of b and its length including
// the CRLF. A line holds neither CR nor LF.
func readLine(b []byte) (line []byte, n int, err error) {
	i := bytes.IndexByte(b, '\n')
	if i < 0 {
		if bytes.IndexByte(b, '\r') >= 0 && b[len(b)-1] != '\r' {
			return nil, 0, fmt.Errorf("%w: CR inside a line", errBadReply)
		}
		return nil, 0, errIncomplete
	}
	if i == 0 || b[i-1] != '\r' {
		return nil, 0, fmt.Errorf("%w: line ends with a bare LF", errBadReply)
	}
	line = b[:i-1]
	if bytes.IndexByte(line, '\r') >= 0 {
		return nil, 0, fmt.Errorf("%w: CR inside a line", errBadReply)
	}
	return line, i + 1, nil
}

// parseLength parses a canonical non-negative length, or -1 when
// nullable.
func parseLength(line []byte, nullable bool, max int) (n int, null bool, err error) {
	if nullable && len(line) == 2 && line[0] == '-' && line[1] == '1' {
		return 0, true, nil
	}
	if len(line) == 0 || len(line) > 10 || (line[0] == '0' && len(line) > 1) {
		return 0, false, fmt.Errorf("%w: bad length %q", errBadReply, line)
	}
	for _, c := range line {
		if c < '0' || c > '9' {
			return 0, false, fmt.Errorf("%w: bad length %q", errBadReply, line)
		}
		n = n*10 + int(c-'0')
	}
	if n > max {
		return 0, false, fmt.Errorf("%w: length %d over %d", errBadReply, n, max)
	}
	return n, false, nil
}

// isInteger reports whether s is a canonical decimal integer; big allows
// any number of digits (RESP3 big numbers), otherwise it must fit int64.
func isInteger(s []byte, big bool) bool {
	d := s
	if len(d) > 0 && d[0] == '-' {
		d = d[1:]
	}
	if len(d) == 0 || (d[0] == '0' && (len(d) > 1 || len(s) > 1)) {
		return false
	}
	for _, c := range d {
		if c < '0' || c > '9' {
			return false
		}
	}
	if big {
		return true
	}
	_, err := strconv.ParseInt(string(s), 10, 64)
	return err == nil
}

// Parse parses the complete reply at the start of b into a tree and
// returns its length. Errors are those of Frame.
func Parse(b []byte) (Value, int, error) {
	n, err := Frame(b)
	if err != nil {
		return Value{}, 0, err
	}
	v, m := parse(b[:n])
	if m != n {
		panic("diff: Parse and Frame disagree")
	}
	return v, n, nil
}

// parse builds the tree of a reply already validated by Frame.
func parse(b []byte) (Value, int) {
	line, n, _ := readLine(b[1:])
	n++
	v := Value{Type: b[0]}
	switch v.Type {
	case '$', '!', '=':
		if v.Type == '$' && string(line) == "-1" {
			v.Null = true
			return v, n
		}
		size, _ := strconv.Atoi(string(line))
		v.Str = b[n : n+size]
		return v, n + size + 2
	case '*', '%', '~', '>', '|':
		if v.Type == '*' && string(line) == "-1" {
			v.Null = true
			return v, n
		}
		count, _ := strconv.Atoi(string(line))
		if v.Type == '%' || v.Type == '|' {
			count *= 2
		}
		for i := 0; i < count; i++ {
			e, m := parse(b[n:])
			v.Elems = append(v.Elems, e)
			n += m
		}
		if v.Type == '|' {
			next, m := parse(b[n:])
			attr := v
			next.Attr = &attr
			return next, n + m
		}
		return v, n
	default:
		v.Str = line
		return v, n
	}
}

// Encode appends the wire form of v to dst.
func (v *Value) Encode(dst []byte) []byte {
	if v.Attr != nil {
		dst = v.Attr.Encode(dst)
	}
	dst = append(dst, v.Type)
	switch v.Type {
	case '$', '!', '=':
		if v.Null {
			return append(dst, "-1\r\n"...)
		}
		dst = strconv.AppendInt(dst, int64(len(v.Str)), 10)
		dst = append(dst, '\r', '\n')
		dst = append(dst, v.Str...)
	case '*', '%', '~', '>', '|':
		if v.Null {
			return append(dst, "-1\r\n"...)
		}
		n := len(v.Elems)
		if v.Type == '%' || v.Type == '|' {
			n /= 2
		}
		dst = strconv.AppendInt(dst, int64(n), 10)
		dst = append(dst, '\r', '\n')
		for i := range v.Elems {
			dst = v.Elems[i].Encode(dst)
		}
		return dst
	default:
		dst = append(dst, v.Str...)
	}
	return append(dst, '\r', '\n')
}

// isString reports whether v is a non-null string (bulk, simple or verbatim).
func (v *Value) isString() bool {
	return !v.Null && (v.Type == '$' || v.Type == '+' || v.Type == '=')
}

// isArray reports whether v is a non-null array-like aggregate.
func (v *Value) isArray() bool {
	return !v.Null && (v.Type == '*' || v.Type == '~' || v.Type == '>')
}

// isPairs reports whether v holds key/value pairs: a RESP3 map or a RESP2
// array of even length standing for one.
func (v *Value) isPairs() bool {
	return !v.Null && (v.Type == '%' || (v.Type == '*' && len(v.Elems)%2 == 0))
}
