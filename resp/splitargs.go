package resp

import (
	"bytes"
	"errors"
)

// ErrSplitUnbalanced is SplitArgs's error for a line with an unterminated
// quote or a closing quote followed by something other than a space.
var ErrSplitUnbalanced = errors.New("resp: unbalanced quotes")

// SplitArgs splits a line into words with the rules of Redis's sdssplitargs,
// which redis.conf lines and inline commands both use:
//
//   - Words are separated by spaces, tabs, CR and LF; \v and \f are skipped
//     between words but belong to a word they appear in.
//   - "double quotes" take the escapes \n \r \t \b \a \xHH (two hex digits)
//     and \<any byte> for that byte; 'single quotes' take only \'.
//   - A quote may open in the middle of a word ("a"b is an error, a"b c" is
//     the word ab c); a closing quote must be followed by a blank or the end.
//   - A NUL byte ends the line, as it ends a C string.
//
// Each returned word is its own freshly allocated slice. An empty line
// returns no words and a nil error.
func SplitArgs(line []byte) ([][]byte, error) {
	data, ends, ok := splitArgs(nil, nil, line)
	if !ok {
		return nil, ErrSplitUnbalanced
	}
	words := make([][]byte, len(ends))
	start := 0
	for i, e := range ends {
		words[i] = data[start:e:e]
		start = e
	}
	return words, nil
}

// isBlank is C's isspace in the C locale.
func isBlank(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

func hexVal(c byte) byte {
	switch {
	case c >= '0' && c <= '9':
		return c - '0'
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10
	default:
		return c - 'A' + 10
	}
}

// splitArgs appends the words of line to dst, recording in ends the offset
// in dst where each word ends. ok is false for unbalanced quotes.
func splitArgs(dst []byte, ends []int, line []byte) (_ []byte, _ []int, ok bool) {
	if k := bytes.IndexByte(line, 0); k >= 0 {
		line = line[:k]
	}
	n := len(line)
	at := func(i int) byte {
		if i < n {
			return line[i]
		}
		return 0
	}
	i := 0
	for {
		for i < n && isBlank(line[i]) {
			i++
		}
		if i >= n {
			return dst, ends, true
		}
		inDouble, inSingle := false, false
		for done := false; !done; {
			c := at(i)
			switch {
			case inDouble:
				switch {
				case c == '\\' && at(i+1) == 'x' && isHex(at(i+2)) && isHex(at(i+3)):
					dst = append(dst, hexVal(at(i+2))<<4|hexVal(at(i+3)))
					i += 3
				case c == '\\' && at(i+1) != 0:
					i++
					switch e := line[i]; e {
					case 'n':
						dst = append(dst, '\n')
					case 'r':
						dst = append(dst, '\r')
					case 't':
						dst = append(dst, '\t')
					case 'b':
						dst = append(dst, '\b')
					case 'a':
						dst = append(dst, '\a')
					default:
						dst = append(dst, e)
					}
				case c == '"':
					if next := at(i + 1); next != 0 && !isBlank(next) {
						return dst, ends, false
					}
					done = true
				case c == 0:
					return dst, ends, false
				default:
					dst = append(dst, c)
				}
			case inSingle:
				switch {
				case c == '\\' && at(i+1) == '\'':
					i++
					dst = append(dst, '\'')
				case c == '\'':
					if next := at(i + 1); next != 0 && !isBlank(next) {
						return dst, ends, false
					}
					done = true
				case c == 0:
					return dst, ends, false
				default:
					dst = append(dst, c)
				}
			default:
				switch c {
				case ' ', '\n', '\r', '\t', 0:
					done = true
				case '"':
					inDouble = true
				case '\'':
					inSingle = true
				default:
					dst = append(dst, c)
				}
			}
			if i < n {
				i++
			}
		}
		ends = append(ends, len(dst))
	}
}
