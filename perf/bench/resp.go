package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"time"
)

// Limits on what readReply accepts, so a broken server cannot make the
// harness allocate without bound.
const (
	maxBulkLen   = 64 << 20
	maxArrayLen  = 1 << 20
	maxReplyNest = 16
	maxLineLen   = 64 << 10
)

var errProtocol = errors.New("RESP protocol error")

// reply is one decoded RESP2 reply.
type reply struct {
	Kind  byte    // '+', '-', ':', '$' or '*'
	Str   string  // simple string, error text or bulk string
	Int   int64   // integer reply
	Elems []reply // array elements
	Null  bool    // null bulk string or null array
}

// String renders a reply for messages.
func (r reply) String() string {
	switch {
	case r.Null:
		return "(nil)"
	case r.Kind == ':':
		return strconv.FormatInt(r.Int, 10)
	case r.Kind == '*':
		return fmt.Sprintf("(array of %d)", len(r.Elems))
	case r.Kind == '-':
		return "(error) " + r.Str
	}
	return strconv.Quote(r.Str)
}

// appendCommand appends args as a RESP array of bulk strings.
func appendCommand(dst []byte, args ...string) []byte {
	dst = append(dst, '*')
	dst = strconv.AppendInt(dst, int64(len(args)), 10)
	dst = append(dst, '\r', '\n')
	for _, a := range args {
		dst = append(dst, '$')
		dst = strconv.AppendInt(dst, int64(len(a)), 10)
		dst = append(dst, '\r', '\n')
		dst = append(dst, a...)
		dst = append(dst, '\r', '\n')
	}
	return dst
}

// appendReply encodes r; it is the inverse of readReply.
func appendReply(dst []byte, r reply) []byte {
	dst = append(dst, r.Kind)
	switch r.Kind {
	case '+', '-':
		dst = append(dst, r.Str...)
	case ':':
		dst = strconv.AppendInt(dst, r.Int, 10)
	case '$':
		if r.Null {
			return append(dst, "-1\r\n"...)
		}
		dst = strconv.AppendInt(dst, int64(len(r.Str)), 10)
		dst = append(dst, '\r', '\n')
		dst = append(dst, r.Str...)
	case '*':
		if r.Null {
			return append(dst, "-1\r\n"...)
		}
		dst = strconv.AppendInt(dst, int64(len(r.Elems)), 10)
		dst = append(dst, '\r', '\n')
		for _, e := range r.Elems {
			dst = appendReply(dst, e)
		}
		return dst
	}
	return append(dst, '\r', '\n')
}

// readLine returns one CRLF-terminated line without its terminator. The
// slice is valid until the next read from rd.
func readLine(rd *bufio.Reader) ([]byte, error) {
	line, err := rd.ReadSlice('\n')
	if err != nil {
		if errors.Is(err, bufio.ErrBufferFull) {
			return nil, fmt.Errorf("%w: line longer than %d bytes", errProtocol, rd.Size())
		}
		if errors.Is(err, io.EOF) && len(line) > 0 {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	if len(line) < 2 || line[len(line)-2] != '\r' {
		return nil, fmt.Errorf("%w: line not terminated by CRLF", errProtocol)
	}
	return line[:len(line)-2], nil
}

// readReply decodes one RESP2 reply from rd.
func readReply(rd *bufio.Reader) (reply, error) {
	return readReplyNested(rd, 0)
}

func readReplyNested(rd *bufio.Reader, depth int) (reply, error) {
	if depth > maxReplyNest {
		return reply{}, fmt.Errorf("%w: nesting deeper than %d", errProtocol, maxReplyNest)
	}
	line, err := readLine(rd)
	if err != nil {
		return reply{}, err
	}
	if len(line) == 0 {
		return reply{}, fmt.Errorf("%w: empty line", errProtocol)
	}
	r := reply{Kind: line[0]}
	body := line[1:]
	switch r.Kind {
	case '+', '-':
		if strings.ContainsAny(string(body), "\r\n") {
			return reply{}, fmt.Errorf("%w: CR or LF inside a simple string", errProtocol)
		}
		r.Str = string(body)
		return r, nil
	case ':':
		r.Int, err = parseRESPInt(body)
		return r, err
	case '$':
		n, err := parseRESPInt(body)
		if err != nil {
			return reply{}, err
		}
		if n == -1 {
			r.Null = true
			return r, nil
		}
		if n < 0 || n > maxBulkLen {
			return reply{}, fmt.Errorf("%w: bulk length %d", errProtocol, n)
		}
		var sb strings.Builder
		// Grow as data arrives rather than trusting the announced length.
		if _, err := io.CopyN(&sb, rd, n); err != nil {
			return reply{}, unexpected(err)
		}
		var crlf [2]byte
		if _, err := io.ReadFull(rd, crlf[:]); err != nil {
			return reply{}, unexpected(err)
		}
		if crlf != [2]byte{'\r', '\n'} {
			return reply{}, fmt.Errorf("%w: bulk string not terminated by CRLF", errProtocol)
		}
		r.Str = sb.String()
		return r, nil
	case '*':
		n, err := parseRESPInt(body)
		if err != nil {
			return reply{}, err
		}
		if n == -1 {
			r.Null = true
			return r, nil
		}
		if n < 0 || n > maxArrayLen {
			return reply{}, fmt.Errorf("%w: array length %d", errProtocol, n)
		}
		r.Elems = []reply{}
		for i := int64(0); i < n; i++ {
			e, err := readReplyNested(rd, depth+1)
			if err != nil {
				return reply{}, unexpected(err)
			}
			r.Elems = append(r.Elems, e)
		}
		return r, nil
	}
	return reply{}, fmt.Errorf("%w: unknown reply type %q", errProtocol, r.Kind)
}

func unexpected(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}

// parseRESPInt parses a signed decimal as RESP writes it: no '+', no spaces,
// no leading zeros beyond "0".
func parseRESPInt(b []byte) (int64, error) {
	s := string(b)
	digits := strings.TrimPrefix(s, "-")
	if digits == "" || len(digits) > 19 || (len(digits) > 1 && digits[0] == '0') {
		return 0, fmt.Errorf("%w: bad integer %q", errProtocol, s)
	}
	for i := 0; i < len(digits); i++ {
		if digits[i] < '0' || digits[i] > '9' {
			return 0, fmt.Errorf("%w: bad integer %q", errProtocol, s)
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || s == "-0" {
		return 0, fmt.Errorf("%w: bad integer %q", errProtocol, s)
	}
	return n, nil
}

// client is a minimal synchronous RESP2 client for control commands (PING,
// INFO, DBSIZE). It is used by one goroutine at a time.
type client struct {
	conn    net.Conn
	rd      *bufio.Reader
	buf     []byte
	timeout time.Duration
}

func dialClient(ctx context.Context, addr string, timeout time.Duration) (*client, error) {
	d := net.Dialer{Timeout: timeout}
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("bench: %w", err)
	}
	return &client{conn: conn, rd: bufio.NewReaderSize(conn, maxLineLen), timeout: timeout}, nil
}

// do sends one command and returns its reply. An error reply is returned as
// a reply with Kind '-', not as an error.
func (c *client) do(args ...string) (reply, error) {
	if err := c.conn.SetDeadline(time.Now().Add(c.timeout)); err != nil {
		return reply{}, fmt.Errorf("bench: %w", err)
	}
	c.buf = appendCommand(c.buf[:0], args...)
	if _, err := c.conn.Write(c.buf); err != nil {
		return reply{}, fmt.Errorf("bench: %s: %w", args[0], err)
	}
	r, err := readReply(c.rd)
	if err != nil {
		return reply{}, fmt.Errorf("bench: %s: %w", args[0], err)
	}
	return r, nil
}

// doString runs a command whose reply must be a simple or bulk string.
func (c *client) doString(args ...string) (string, error) {
	r, err := c.do(args...)
	if err != nil {
		return "", err
	}
	if (r.Kind != '+' && r.Kind != '$') || r.Null {
		return "", fmt.Errorf("bench: %s: unexpected reply %s", args[0], r)
	}
	return r.Str, nil
}

func (c *client) close() error { return c.conn.Close() }
