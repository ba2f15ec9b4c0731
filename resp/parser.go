package resp

import (
	"bytes"
	"math"
)

// Redis's built-in protocol limits.
const (
	// DefaultMaxBulkLen is Redis's default proto-max-bulk-len (512 MB).
	DefaultMaxBulkLen = 512 << 20
	// DefaultMaxMultibulk is the largest multibulk count Redis accepts
	// (INT_MAX).
	DefaultMaxMultibulk = math.MaxInt32
	// DefaultMaxInline is PROTO_INLINE_MAX_SIZE: the longest inline line
	// or header line (multibulk count, bulk length) Redis buffers.
	DefaultMaxInline = 64 << 10
	// UnauthMaxMultibulk and UnauthMaxBulkLen are the limits Redis applies
	// to a client that must still authenticate.
	UnauthMaxMultibulk = 10
	UnauthMaxBulkLen   = 16384
)

// maxRetainedArgs bounds the argument arrays a Parser keeps for reuse after
// an unusually wide command, so one huge MSET does not pin memory forever.
const maxRetainedArgs = 1 << 14

// Limits are the protocol limits a Parser enforces. A zero or negative field
// means Redis's default for it.
type Limits struct {
	MaxBulkLen   int64 // proto-max-bulk-len: longest bulk argument
	MaxMultibulk int64 // largest multibulk count
	MaxInline    int   // longest inline line or header line
}

// withDefaults returns l with every unset field replaced by Redis's default.
func (l Limits) withDefaults() Limits {
	if l.MaxBulkLen <= 0 {
		l.MaxBulkLen = DefaultMaxBulkLen
	}
	if l.MaxMultibulk <= 0 {
		l.MaxMultibulk = DefaultMaxMultibulk
	}
	if l.MaxInline <= 0 {
		l.MaxInline = DefaultMaxInline
	}
	return l
}

// ProtocolError is a malformed request. Msg is the error reply Redis sends
// before closing the connection, without the leading '-' and the CRLF.
type ProtocolError struct {
	Msg string
}

func (e *ProtocolError) Error() string { return e.Msg }

// The protocol errors Redis 7.0 replies, pre-built so the error path does not
// allocate.
var (
	ErrInvalidMultibulkLength = &ProtocolError{"ERR Protocol error: invalid multibulk length"}
	ErrInvalidBulkLength      = &ProtocolError{"ERR Protocol error: invalid bulk length"}
	ErrUnauthMultibulkLength  = &ProtocolError{"ERR Protocol error: unauthenticated multibulk length"}
	ErrUnauthBulkLength       = &ProtocolError{"ERR Protocol error: unauthenticated bulk length"}
	ErrTooBigMbulkCount       = &ProtocolError{"ERR Protocol error: too big mbulk count string"}
	ErrTooBigBulkCount        = &ProtocolError{"ERR Protocol error: too big bulk count string"}
	ErrTooBigInline           = &ProtocolError{"ERR Protocol error: too big inline request"}
	ErrUnbalancedQuotes       = &ProtocolError{"ERR Protocol error: unbalanced quotes in request"}
)

// errExpectedDollar holds "expected '$', got 'X'" for every byte X. As Redis
// formats this one with addReplyErrorFormat, CR and LF show as spaces.
var errExpectedDollar [256]*ProtocolError

func init() {
	for i := range errExpectedDollar {
		c := byte(i)
		if c == '\r' || c == '\n' {
			c = ' '
		}
		errExpectedDollar[i] = &ProtocolError{"ERR Protocol error: expected '$', got '" + string([]byte{c}) + "'"}
	}
}

// ExpectedDollarError is the error for a bulk header starting with c.
func ExpectedDollarError(c byte) *ProtocolError { return errExpectedDollar[c] }

// Parser states between calls.
const (
	stIdle     = iota // nothing of the next command seen yet
	stCount           // inside a multibulk count line
	stBulkHead        // expecting (or inside) a bulk length line
	stBulkData        // expecting bulk data of known length
	stInline          // inside an inline line
)

// span locates one argument in the caller's buffer.
type span struct{ off, len int }

// Parser is an incremental RESP request parser for one connection. The zero
// value is ready to use with Redis's default limits. See the package doc for
// which goroutine may use it and how long returned arguments stay valid.
type Parser struct {
	lim          Limits
	limSet       bool
	authRequired bool

	// Incremental state; every offset counts from the start of the buffer
	// passed to Parse.
	state     uint8
	nul       bool  // a NUL byte hides the end of the current line
	inline    bool  // the last command came inline
	lineStart int   // start of the header or inline line being scanned
	scan      int   // bytes before scan hold no line end
	pos       int   // where the next bulk header or data starts
	left      int64 // bulk arguments still to read
	bulkLen   int64 // length of the bulk being read (stBulkData)
	need      int   // minimum len(buf) that lets Parse progress
	seen      int   // len(buf) at the last incomplete return
	scanned   int64 // bytes examined looking for line ends (tests check it)
	err       *ProtocolError

	spans   []span
	args    [][]byte
	scratch []byte // inline words
	ends    []int  // inline word ends in scratch
}

// NewParser returns a Parser enforcing l (zero fields take Redis's defaults).
func NewParser(l Limits) *Parser {
	p := &Parser{}
	p.SetLimits(l)
	return p
}

// SetLimits changes the limits; zero fields take Redis's defaults. It
// applies from the next header the parser reads.
func (p *Parser) SetLimits(l Limits) {
	p.lim = l.withDefaults()
	p.limSet = true
}

// Limits reports the limits in force.
func (p *Parser) Limits() Limits {
	if !p.limSet {
		return Limits{}.withDefaults()
	}
	return p.lim
}

// SetAuthRequired says whether the client still has to authenticate. While
// it does, multibulk counts above UnauthMaxMultibulk and bulk lengths above
// UnauthMaxBulkLen are protocol errors, as in Redis.
func (p *Parser) SetAuthRequired(v bool) { p.authRequired = v }

// Reset forgets all incremental state and any sticky error, for a new
// connection or a fresh buffer. Limits and the auth flag are kept.
func (p *Parser) Reset() {
	p.resetCommand()
	p.err = nil
	p.inline = false
	p.need = 0
}

// InlineCommand reports whether the last command Parse returned came inline.
func (p *Parser) InlineCommand() bool { return p.inline }

// Need reports, after Parse returned an incomplete command, the minimum
// len(buf) with which the next call can make progress: exact when the
// parser waits for bulk data, len(buf)+1 when it waits for a line end. It
// returns 0 after a complete command or an error.
func (p *Parser) Need() int { return p.need }

func (p *Parser) resetCommand() {
	p.state = stIdle
	p.nul = false
	p.lineStart, p.scan, p.pos, p.seen = 0, 0, 0, 0
	p.left, p.bulkLen = 0, 0
	p.spans = p.spans[:0]
}

// Parse parses the next command at the start of buf.
//
//   - A complete command returns its arguments, the bytes it used (n > 0)
//     and a nil error. An empty command ("*0\r\n", "*-1\r\n", a blank inline
//     line) returns no arguments and n > 0: the caller skips it.
//   - An incomplete command returns nil, 0, nil. The parser remembers how
//     far it got: the next call must pass a buffer starting with the same
//     bytes (moved or extended as the caller likes), and does not rescan
//     them, so a long command arriving in pieces costs time linear in its
//     size. Need then reports how long that buffer must be.
//   - A malformed request returns a *ProtocolError whose Msg is the reply
//     Redis sends before closing the connection. The error is sticky: later
//     calls return it again until Reset.
//
// Multibulk parsing does not allocate once the parser's argument arrays have
// grown to the widest command seen; inline parsing copies words into memory
// the parser owns, which it also reuses.
func (p *Parser) Parse(buf []byte) (args [][]byte, n int, err error) {
	if p.err != nil {
		return nil, 0, p.err
	}
	if !p.limSet {
		p.SetLimits(Limits{})
	}
	if p.state != stIdle && len(buf) < p.seen {
		// The caller broke the contract (a shorter buffer): start over
		// rather than read past its end.
		p.resetCommand()
	}
	if p.state == stIdle {
		if cap(p.spans) > maxRetainedArgs {
			p.spans, p.args = nil, nil
		}
		if len(buf) == 0 {
			p.need = 1
			return nil, 0, nil
		}
		p.lineStart, p.scan = 0, 0
		if buf[0] == '*' {
			p.state = stCount
		} else {
			p.state = stInline
		}
	}
	if p.state == stInline {
		return p.parseInline(buf)
	}
	return p.parseMultibulk(buf)
}

// incomplete records that buf ends inside the current command.
func (p *Parser) incomplete(buf []byte, need int) ([][]byte, int, error) {
	p.need = need
	p.seen = len(buf)
	return nil, 0, nil
}

func (p *Parser) fail(e *ProtocolError) ([][]byte, int, error) {
	p.err = e
	p.need = 0
	p.resetCommand()
	return nil, 0, e
}

// findLineEnd looks for the byte c ending the line that starts at
// p.lineStart, resuming the scan where the previous call stopped. It returns
// the index of c in buf, or -1 while the line has no visible end. As with
// Redis's strchr, a NUL byte before c hides c for good.
func (p *Parser) findLineEnd(buf []byte, c byte) int {
	if p.nul {
		p.scan = len(buf)
		return -1
	}
	rest := buf[p.scan:]
	i := bytes.IndexByte(rest, c)
	seg := rest
	if i >= 0 {
		seg = rest[:i]
	}
	p.scanned += int64(len(seg))
	if bytes.IndexByte(seg, 0) >= 0 {
		p.nul = true
		p.scan = len(buf)
		return -1
	}
	if i < 0 {
		p.scan = len(buf)
		return -1
	}
	p.scan += i // resume here if the byte after c is still missing
	return p.scan
}

// headerLine finds the end of the header line starting at p.lineStart. It
// returns the index of its '\r' when the line and the one unchecked byte
// after it are in buf; otherwise ok is false and, unless the line is over
// the inline limit (tooBig), the command is incomplete.
func (p *Parser) headerLine(buf []byte) (cr int, ok, tooBig bool) {
	cr = p.findLineEnd(buf, '\r')
	if cr < 0 {
		if len(buf)-p.lineStart > p.lim.MaxInline {
			return 0, false, true
		}
		return 0, false, false
	}
	if cr-p.lineStart > p.lim.MaxInline {
		return 0, false, true
	}
	if cr+1 >= len(buf) {
		return 0, false, false
	}
	return cr, true, false
}

// Outcomes of reading a header line.
const (
	hdrOK      = iota // v and cr are set
	hdrWait           // the line is not complete yet
	hdrTooBig         // the line is over the inline limit
	hdrInvalid        // the line is complete (cr is set) but not a number
)

// quickDigits is the longest number quickHeader reads: 18 digits cannot
// overflow int64.
const quickDigits = 18

// quickHeader reads, in one pass, a header that is complete and well formed
// (prefix, then a non-negative number of at most quickDigits digits): the
// common case. ok is false for anything else, which header leaves to the
// general path.
func quickHeader(buf []byte, start int, prefix byte, maxLine int) (v int64, cr int, ok bool) {
	i := start + 1
	if i+1 >= len(buf) || buf[start] != prefix {
		return 0, 0, false
	}
	if c := buf[i]; c == '0' {
		i++
	} else {
		end := min(len(buf), i+quickDigits)
		for ; i < end; i++ {
			c := buf[i]
			if c < '0' || c > '9' {
				break
			}
			v = v*10 + int64(c-'0')
		}
		if i == start+1 || buf[start+1] == '0' {
			return 0, 0, false
		}
	}
	if i+1 >= len(buf) || buf[i] != '\r' || i-start > maxLine {
		return 0, 0, false
	}
	return v, i, true
}

// header reads the number of the header line starting at p.lineStart,
// which should start with prefix.
func (p *Parser) header(buf []byte, prefix byte) (v int64, cr int, st int) {
	if p.scan == p.lineStart {
		if v, cr, ok := quickHeader(buf, p.lineStart, prefix, p.lim.MaxInline); ok {
			return v, cr, hdrOK
		}
	}
	cr, ok, tooBig := p.headerLine(buf)
	switch {
	case tooBig:
		return 0, 0, hdrTooBig
	case !ok:
		return 0, 0, hdrWait
	}
	if cr == p.lineStart { // the line is empty: its '\r' is where the prefix goes
		return 0, cr, hdrInvalid
	}
	v, valid := parseLL(buf[p.lineStart+1 : cr])
	if !valid {
		return 0, cr, hdrInvalid
	}
	return v, cr, hdrOK
}

func (p *Parser) parseMultibulk(buf []byte) ([][]byte, int, error) {
	if p.state == stCount {
		count, cr, st := p.header(buf, '*')
		switch {
		case st == hdrTooBig:
			return p.fail(ErrTooBigMbulkCount)
		case st == hdrWait:
			return p.incomplete(buf, len(buf)+1)
		case st == hdrInvalid || count > p.lim.MaxMultibulk:
			return p.fail(ErrInvalidMultibulkLength)
		case count > UnauthMaxMultibulk && p.authRequired:
			return p.fail(ErrUnauthMultibulkLength)
		}
		end := cr + 2
		if count <= 0 {
			p.resetCommand()
			p.inline = false
			p.need = 0
			return p.args[:0], end, nil
		}
		p.left = count
		p.pos = end
		p.lineStart, p.scan = end, end
		p.state = stBulkHead
	}
	for p.left > 0 {
		if p.state == stBulkHead {
			l, cr, st := p.header(buf, '$')
			switch {
			case st == hdrTooBig:
				return p.fail(ErrTooBigBulkCount)
			case st == hdrWait:
				return p.incomplete(buf, len(buf)+1)
			case buf[p.lineStart] != '$':
				return p.fail(errExpectedDollar[buf[p.lineStart]])
			case st == hdrInvalid || l < 0 || l > p.lim.MaxBulkLen:
				return p.fail(ErrInvalidBulkLength)
			case l > UnauthMaxBulkLen && p.authRequired:
				return p.fail(ErrUnauthBulkLength)
			}
			p.bulkLen = l
			p.pos = cr + 2
			p.state = stBulkData
		}
		// Bulk data plus the two bytes Redis skips unchecked.
		if int64(len(buf)-p.pos) < p.bulkLen+2 {
			return p.incomplete(buf, p.pos+int(p.bulkLen)+2)
		}
		p.spans = append(p.spans, span{p.pos, int(p.bulkLen)})
		p.pos += int(p.bulkLen) + 2
		p.left--
		p.lineStart, p.scan = p.pos, p.pos
		p.state = stBulkHead
	}
	args := p.args[:0]
	for _, s := range p.spans {
		args = append(args, buf[s.off:s.off+s.len:s.off+s.len])
	}
	p.args = args
	n := p.pos
	p.resetCommand()
	p.inline = false
	p.need = 0
	return args, n, nil
}

func (p *Parser) parseInline(buf []byte) ([][]byte, int, error) {
	lf := p.findLineEnd(buf, '\n')
	if lf < 0 {
		if len(buf)-p.lineStart > p.lim.MaxInline {
			return p.fail(ErrTooBigInline)
		}
		return p.incomplete(buf, len(buf)+1)
	}
	if lf-p.lineStart > p.lim.MaxInline {
		return p.fail(ErrTooBigInline)
	}
	end := lf
	if end > p.lineStart && buf[end-1] == '\r' {
		end--
	}
	var ok bool
	p.scratch, p.ends, ok = splitArgs(p.scratch[:0], p.ends[:0], buf[p.lineStart:end])
	if !ok {
		return p.fail(ErrUnbalancedQuotes)
	}
	args := p.args[:0]
	start := 0
	for _, e := range p.ends {
		args = append(args, p.scratch[start:e:e])
		start = e
	}
	p.args = args
	n := lf + 1
	p.resetCommand()
	p.inline = true
	p.need = 0
	return args, n, nil
}
