package resp

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
)

// outcome is everything a stream of bytes produced: the commands in order
// (an empty command as an empty slice), the protocol error that ended it,
// and the bytes left unparsed.
type outcome struct {
	cmds    [][]string
	inline  []bool
	err     string
	pending int
}

func (o outcome) String() string {
	return fmt.Sprintf("cmds=%q inline=%v err=%q pending=%d", o.cmds, o.inline, o.err, o.pending)
}

func copyArgs(args [][]byte) []string {
	s := make([]string, len(args))
	for i, a := range args {
		s[i] = string(a)
	}
	return s
}

// feed drives p the way a connection does: each chunk is appended to what is
// still unparsed, always into a freshly allocated buffer (so the parser must
// not keep pointers into older ones), and commands are parsed until the
// parser needs more bytes.
func feed(t testing.TB, p *Parser, chunks [][]byte) outcome {
	var o outcome
	var in []byte
	for _, c := range chunks {
		nb := make([]byte, len(in)+len(c))
		copy(nb, in)
		copy(nb[len(in):], c)
		// Poison the old buffer so stale references show up.
		for i := range in {
			in[i] = '#'
		}
		in = nb
		off := 0
		for {
			args, n, err := p.Parse(in[off:])
			if err != nil {
				o.err = err.Error()
				if n != 0 || args != nil {
					t.Fatalf("error with n=%d args=%q", n, args)
				}
				var pe *ProtocolError
				if !errors.As(err, &pe) {
					t.Fatalf("error %T is not a *ProtocolError", err)
				}
				o.pending = len(in) - off
				return o
			}
			if n == 0 {
				if args != nil {
					t.Fatalf("incomplete with args %q", args)
				}
				if need := p.Need(); need <= len(in)-off {
					t.Fatalf("incomplete with Need()=%d but %d bytes given", need, len(in)-off)
				}
				break
			}
			if n > len(in)-off {
				t.Fatalf("consumed %d of %d bytes", n, len(in)-off)
			}
			o.cmds = append(o.cmds, copyArgs(args))
			o.inline = append(o.inline, p.InlineCommand())
			off += n
			if off == len(in) {
				break
			}
		}
		in = in[off:]
	}
	o.pending = len(in)
	return o
}

func whole(s string) [][]byte { return [][]byte{[]byte(s)} }

func splitAt(s string, cuts ...int) [][]byte {
	var out [][]byte
	prev := 0
	for _, c := range cuts {
		out = append(out, []byte(s[prev:c]))
		prev = c
	}
	return append(out, []byte(s[prev:]))
}

func bytewise(s string) [][]byte {
	out := make([][]byte, len(s))
	for i := range s {
		out[i] = []byte{s[i]}
	}
	return out
}

func mb(args ...string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "*%d\r\n", len(args))
	for _, a := range args {
		fmt.Fprintf(&b, "$%d\r\n%s\r\n", len(a), a)
	}
	return b.String()
}

type parseCase struct {
	name    string
	in      string
	cmds    [][]string // nil entries are not allowed; an empty command is []string{}
	err     string     // without "ERR Protocol error: "
	pending int        // bytes left unparsed at the end (no error)
	lim     Limits
	auth    bool
}

const pe = "ERR Protocol error: "

var parseCases = []parseCase{
	// Multibulk.
	{name: "ping", in: "*1\r\n$4\r\nPING\r\n", cmds: [][]string{{"PING"}}},
	{name: "set", in: mb("SET", "key", "value"), cmds: [][]string{{"SET", "key", "value"}}},
	{name: "empty arg", in: "*2\r\n$4\r\nECHO\r\n$0\r\n\r\n", cmds: [][]string{{"ECHO", ""}}},
	{name: "binary arg", in: "*2\r\n$4\r\nECHO\r\n$5\r\na\r\n\x00b\r\n", cmds: [][]string{{"ECHO", "a\r\n\x00b"}}},
	{name: "pipeline", in: mb("A") + mb("B", "c") + mb("D"), cmds: [][]string{{"A"}, {"B", "c"}, {"D"}}},
	{name: "zero count", in: "*0\r\n" + mb("PING"), cmds: [][]string{{}, {"PING"}}},
	{name: "negative count", in: "*-1\r\n*-5\r\n", cmds: [][]string{{}, {}}},
	{name: "min int64 count", in: "*-9223372036854775808\r\n", cmds: [][]string{{}}},
	{name: "count INT_MAX waits", in: "*2147483647\r\n", pending: 13},
	{name: "bulk at max", in: "*1\r\n$536870912\r\n", pending: 16},
	{name: "unchecked CRLF after data", in: "*1\r\n$4\r\nPINGXY" + mb("B"), cmds: [][]string{{"PING"}, {"B"}}},
	{name: "unchecked LF after CR", in: "*1\rX$4\rXPINGXY", cmds: [][]string{{"PING"}}},
	{name: "NUL inside bulk data", in: "*1\r\n$4\r\nPI\x00G\r\n", cmds: [][]string{{"PI\x00G"}}},
	{name: "header CR last waits", in: "*1\r", pending: 3},
	{name: "bulk CR last waits", in: "*1\r\n$4\r", pending: 7},
	{name: "bulk data short waits", in: "*1\r\n$4\r\nPING\r", pending: 13},
	{name: "half command waits", in: mb("A") + "*2\r\n$1\r\nx\r\n", cmds: [][]string{{"A"}}, pending: 11},
	{name: "bulk LF-only header", in: "*2\r\n$3\nfoo\r\n", err: "invalid bulk length"},

	// Multibulk errors.
	{name: "count -0", in: "*-0\r\n", err: "invalid multibulk length"},
	{name: "count +1", in: "*+1\r\n", err: "invalid multibulk length"},
	{name: "count 01", in: "*01\r\n", err: "invalid multibulk length"},
	{name: "count space before", in: "* 1\r\n", err: "invalid multibulk length"},
	{name: "count space after", in: "*1 \r\n", err: "invalid multibulk length"},
	{name: "count empty", in: "*\r\n", err: "invalid multibulk length"},
	{name: "count minus", in: "*-\r\n", err: "invalid multibulk length"},
	{name: "count letters", in: "*abc\r\n", err: "invalid multibulk length"},
	{name: "count over INT_MAX", in: "*2147483648\r\n", err: "invalid multibulk length"},
	{name: "count over int64", in: "*9223372036854775808\r\n", err: "invalid multibulk length"},
	{name: "count 21 bytes", in: "*-92233720368547758080\r\n", err: "invalid multibulk length"},
	{name: "count after command", in: mb("A") + "*x\r\n", cmds: [][]string{{"A"}}, err: "invalid multibulk length"},
	{name: "expected dollar", in: "*3\r\n$3\r\nSET\r\n$1\r\nx\r\nfooz\r\n", err: "expected '$', got 'f'"},
	{name: "expected dollar CR", in: "*1\r\n\r\n", err: "expected '$', got ' '"},
	{name: "expected dollar LF", in: "*1\r\n\n\r\n", err: "expected '$', got ' '"},
	{name: "expected dollar high byte", in: "*1\r\n\xff\r\n", err: "expected '$', got '\xff'"},
	{name: "expected dollar star", in: "*1\r\n*1\r\n", err: "expected '$', got '*'"},
	{name: "bulk -1", in: "*1\r\n$-1\r\n", err: "invalid bulk length"},
	{name: "bulk -0", in: "*1\r\n$-0\r\n", err: "invalid bulk length"},
	{name: "bulk +4", in: "*1\r\n$+4\r\nPING\r\n", err: "invalid bulk length"},
	{name: "bulk 04", in: "*1\r\n$04\r\nPING\r\n", err: "invalid bulk length"},
	{name: "bulk empty", in: "*1\r\n$\r\n", err: "invalid bulk length"},
	{name: "bulk over max", in: "*1\r\n$536870913\r\n", err: "invalid bulk length"},
	{name: "too big mbulk count", in: "*" + strings.Repeat("1", 70000), err: "too big mbulk count string"},
	{name: "too big mbulk count terminated", in: "*" + strings.Repeat("1", 70000) + "\r\n", err: "too big mbulk count string"},
	{name: "too big bulk count", in: "*1\r\n$" + strings.Repeat("1", 70000), err: "too big bulk count string"},
	{name: "mbulk count at limit waits", in: "*" + strings.Repeat("1", 65535), pending: 65536},
	{name: "mbulk count over limit", in: "*" + strings.Repeat("1", 65536), err: "too big mbulk count string"},
	{name: "NUL hides count end", in: "*1\x00\r\n$4\r\nPING\r\n", pending: 15},
	{name: "NUL hides bulk header end", in: "*1\r\n$4\x00\r\nPING\r\n", pending: 15},
	{name: "NUL count then too big", in: "*1\x00\r\n" + strings.Repeat("a", 70000), err: "too big mbulk count string"},

	// Inline.
	{name: "inline", in: "PING\r\n", cmds: [][]string{{"PING"}}},
	{name: "inline LF only", in: "PING\n", cmds: [][]string{{"PING"}}},
	{name: "inline words", in: "  SET  k \t v  \r\n", cmds: [][]string{{"SET", "k", "v"}}},
	{name: "inline blank lines", in: "\r\n\n   \r\n\r\r\nPING\r\n", cmds: [][]string{{}, {}, {}, {}, {"PING"}}},
	{name: "inline quotes", in: "ECHO \"a\\x41\\n\"\r\n", cmds: [][]string{{"ECHO", "aA\n"}}},
	{name: "inline single quotes", in: "ECHO 'a\\'b'\r\n", cmds: [][]string{{"ECHO", "a'b"}}},
	{name: "inline vertical tab", in: "\vECHO a\vb \"x\"\v\r\n", cmds: [][]string{{"ECHO", "a\vb", "x"}}},
	{name: "inline then multibulk", in: "PING\r\n" + mb("A") + "B\n", cmds: [][]string{{"PING"}, {"A"}, {"B"}}},
	{name: "inline star not first", in: " *1\r\n", cmds: [][]string{{"*1"}}},
	{name: "inline CR inside line", in: "A\rB\r\n", cmds: [][]string{{"A", "B"}}},
	{name: "inline waits", in: "PIN", pending: 3},
	{name: "inline NUL hides end", in: "PING\x00x\r\n", pending: 8},
	{name: "inline NUL first", in: "\x00PING\r\n", pending: 7},
	{name: "inline unbalanced", in: "ECHO \"abc\r\n", err: "unbalanced quotes in request"},
	{name: "inline quote then char", in: "ECHO \"a\"b\r\n", err: "unbalanced quotes in request"},
	{name: "inline too big", in: strings.Repeat("a", 70000), err: "too big inline request"},
	{name: "inline too big terminated", in: strings.Repeat("a", 100000) + "\r\n", err: "too big inline request"},
	{name: "inline at limit", in: strings.Repeat("a", 65535) + "\r\n", cmds: [][]string{{strings.Repeat("a", 65535)}}},
	{name: "inline over limit", in: strings.Repeat("a", 65536) + "\r\n", err: "too big inline request"},
	{name: "inline NUL then too big", in: "PING\x00" + strings.Repeat("a", 70000), err: "too big inline request"},
	{name: "bulk short then inline too big", in: "*1\r\n$4\r\n" + strings.Repeat("a", 70000), cmds: [][]string{{"aaaa"}}, err: "too big inline request"},

	// Limits.
	{name: "custom bulk limit", in: "*1\r\n$11\r\n", lim: Limits{MaxBulkLen: 10}, err: "invalid bulk length"},
	{name: "custom bulk limit ok", in: mb("0123456789"), lim: Limits{MaxBulkLen: 10}, cmds: [][]string{{"0123456789"}}},
	{name: "custom multibulk limit", in: "*3\r\n", lim: Limits{MaxMultibulk: 2}, err: "invalid multibulk length"},
	{name: "custom inline limit", in: "PING PING\r\n", lim: Limits{MaxInline: 8}, err: "too big inline request"},
	{name: "custom inline limit ok", in: "PING PI\r\n", lim: Limits{MaxInline: 8}, cmds: [][]string{{"PING", "PI"}}},
	{name: "custom inline limit counts CR", in: "PING PIN\r\n", lim: Limits{MaxInline: 8}, err: "too big inline request"},
	{name: "unauth count", in: "*11\r\n", auth: true, err: "unauthenticated multibulk length"},
	{name: "unauth count ok", in: "*10\r\n", auth: true, pending: 5},
	{name: "unauth bulk", in: "*1\r\n$16385\r\n", auth: true, err: "unauthenticated bulk length"},
	{name: "unauth bulk ok", in: "*1\r\n$16384\r\n", auth: true, pending: 12},
	{name: "unauth invalid first", in: "*1\r\n$536870913\r\n", auth: true, err: "invalid bulk length"},
}

func (c parseCase) want() outcome {
	o := outcome{cmds: c.cmds, pending: c.pending}
	if c.err != "" {
		o.err = pe + c.err
	}
	return o
}

func newCaseParser(c parseCase) *Parser {
	p := NewParser(c.lim)
	p.SetAuthRequired(c.auth)
	return p
}

func sameOutcome(got, want outcome) bool {
	if len(got.cmds) != len(want.cmds) || got.err != want.err {
		return false
	}
	for i := range got.cmds {
		if !reflect.DeepEqual(got.cmds[i], want.cmds[i]) && (len(got.cmds[i]) != 0 || len(want.cmds[i]) != 0) {
			return false
		}
	}
	// After an error what is left depends on where the error struck.
	return want.err != "" || got.pending == want.pending
}

func TestParseCases(t *testing.T) {
	for _, c := range parseCases {
		t.Run(c.name, func(t *testing.T) {
			want := c.want()
			got := feed(t, newCaseParser(c), whole(c.in))
			if !sameOutcome(got, want) {
				t.Fatalf("whole:\n got %v\nwant %v", got, want)
			}
			if len(c.in) <= 2048 {
				got = feed(t, newCaseParser(c), bytewise(c.in))
				if !sameOutcome(got, want) {
					t.Fatalf("byte by byte:\n got %v\nwant %v", got, want)
				}
			}
			// Two pieces, cut at every position (every 97th for long inputs).
			step := 1
			if len(c.in) > 2048 {
				step = 997
			}
			for cut := 0; cut <= len(c.in); cut += step {
				got = feed(t, newCaseParser(c), splitAt(c.in, cut))
				if !sameOutcome(got, want) {
					t.Fatalf("cut at %d:\n got %v\nwant %v", cut, got, want)
				}
			}
		})
	}
}

func TestParseInlineFlag(t *testing.T) {
	got := feed(t, NewParser(Limits{}), whole("PING\r\n"+mb("A")+"*0\r\nB\r\n"))
	want := []bool{true, false, false, true}
	if !reflect.DeepEqual(got.inline, want) {
		t.Fatalf("inline flags %v, want %v", got.inline, want)
	}
}

func TestParseArgsAliasBuffer(t *testing.T) {
	var p Parser
	buf := []byte(mb("SET", "key", "value") + "tail")
	args, n, err := p.Parse(buf)
	if err != nil || n != len(buf)-4 || len(args) != 3 {
		t.Fatalf("Parse = %q, %d, %v", args, n, err)
	}
	for _, a := range args {
		if cap(a) != len(a) {
			t.Errorf("arg %q has cap %d > len", a, cap(a))
		}
		off := bytes.Index(buf, a)
		if &buf[off] != &a[0] {
			t.Errorf("arg %q does not alias the buffer", a)
		}
	}
	// Appending to an argument must not write into the buffer.
	_ = append(args[0], 'X')
	if !bytes.Equal(buf[n:], []byte("tail")) || string(buf[8:11]) != "SET" {
		t.Fatalf("buffer changed: %q", buf)
	}
}

func TestParseStickyErrorAndReset(t *testing.T) {
	p := NewParser(Limits{})
	_, _, err := p.Parse([]byte("*x\r\n"))
	if err != ErrInvalidMultibulkLength {
		t.Fatalf("err = %v", err)
	}
	if _, _, err2 := p.Parse([]byte(mb("PING"))); err2 != err {
		t.Fatalf("error not sticky: %v", err2)
	}
	p.Reset()
	args, n, err := p.Parse([]byte(mb("PING")))
	if err != nil || n != 14 || len(args) != 1 {
		t.Fatalf("after Reset: %q %d %v", args, n, err)
	}
	// Reset in the middle of a command forgets it.
	if _, n, _ := p.Parse([]byte("*2\r\n$1\r\na\r\n")); n != 0 {
		t.Fatalf("n = %d", n)
	}
	p.Reset()
	if args, _, _ := p.Parse([]byte(mb("B"))); len(args) != 1 || string(args[0]) != "B" {
		t.Fatalf("after mid-command Reset: %q", args)
	}
}

func TestParseShorterBufferRestarts(t *testing.T) {
	var p Parser
	in := []byte(mb("GET", "key"))
	if _, n, _ := p.Parse(in[:12]); n != 0 {
		t.Fatal("expected incomplete")
	}
	// A caller breaking the contract gets a fresh parse, not a crash.
	if _, n, _ := p.Parse(in[:5]); n != 0 {
		t.Fatal("expected incomplete")
	}
	args, n, err := p.Parse(in)
	if err != nil || n != len(in) || len(args) != 2 {
		t.Fatalf("%q %d %v", args, n, err)
	}
}

func TestNeed(t *testing.T) {
	cases := []struct {
		in   string
		need int
	}{
		{"", 1},
		{"*", 2},
		{"*3\r", 4},
		{"*3\r\n", 5},
		{"*3\r\n$", 6},
		{"*3\r\n$5\r\n", 8 + 5 + 2},
		{"*3\r\n$5\r\nab", 8 + 5 + 2},
		{"*3\r\n$5\r\nabcde\r", 8 + 5 + 2},
		{"*1\r\n$1000000\r\n", 14 + 1000000 + 2},
		{"GET k", 6},
	}
	for _, c := range cases {
		var p Parser
		args, n, err := p.Parse([]byte(c.in))
		if args != nil || n != 0 || err != nil {
			t.Fatalf("%q: not incomplete: %q %d %v", c.in, args, n, err)
		}
		if got := p.Need(); got != c.need {
			t.Errorf("%q: Need() = %d, want %d", c.in, got, c.need)
		}
	}
	var p Parser
	if _, _, err := p.Parse([]byte(mb("A"))); err != nil || p.Need() != 0 {
		t.Fatalf("Need after complete = %d (%v)", p.Need(), err)
	}
}

// TestBigBulkInPieces feeds a large bulk 64 KB at a time into one buffer
// grown once to Need(), and checks that no byte is scanned twice.
func TestBigBulkInPieces(t *testing.T) {
	const size = 8 << 20
	head := fmt.Sprintf("*2\r\n$3\r\nSET\r\n$%d\r\n", size)
	src := make([]byte, 0, len(head)+size+2)
	src = append(src, head...)
	for i := range size {
		src = append(src, byte('a'+i%26))
	}
	src = append(src, '\r', '\n')

	var p Parser
	buf := make([]byte, 0, 1024)
	grows, calls := 0, 0
	for off := 0; ; {
		k := min(64<<10, len(src)-off)
		if len(buf)+k > cap(buf) {
			want := max(p.Need(), len(buf)+k)
			nb := make([]byte, len(buf), want)
			copy(nb, buf)
			buf = nb
			grows++
		}
		buf = append(buf, src[off:off+k]...)
		off += k
		calls++
		args, n, err := p.Parse(buf)
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			if off == len(src) {
				t.Fatal("incomplete at end of input")
			}
			if calls > 1 && p.Need() != len(src) {
				t.Fatalf("Need() = %d, want %d", p.Need(), len(src))
			}
			continue
		}
		if n != len(src) || len(args) != 2 || !bytes.Equal(args[1], src[len(head):len(src)-2]) {
			t.Fatalf("n=%d args=%d", n, len(args))
		}
		break
	}
	if grows > 2 {
		t.Errorf("buffer grown %d times, want at most 2", grows)
	}
	if p.scanned > int64(len(head)) {
		t.Errorf("scanned %d bytes for line ends, headers are %d", p.scanned, len(head))
	}
}

// TestLongLineNoRescan feeds a header line one byte at a time: the scan for
// its end must resume, not restart.
func TestLongLineNoRescan(t *testing.T) {
	for _, prefix := range []string{"*", "*1\r\n$", ""} {
		in := prefix + strings.Repeat("1", 60000)
		var p Parser
		for i := 1; i <= len(in); i++ {
			if _, n, err := p.Parse([]byte(in[:i])); n != 0 || err != nil {
				t.Fatalf("%q: n=%d err=%v", prefix, n, err)
			}
		}
		if p.scanned > int64(len(in)) {
			t.Errorf("%q: scanned %d bytes of %d", prefix, p.scanned, len(in))
		}
	}
}

func randomArg(r *rand.Rand) string {
	n := r.IntN(40)
	if r.IntN(20) == 0 {
		n = r.IntN(5000)
	}
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.IntN(256))
	}
	return string(b)
}

func randomInlineWord(r *rand.Rand) string {
	const alpha = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_:."
	b := make([]byte, 1+r.IntN(12))
	for i := range b {
		b[i] = alpha[r.IntN(len(alpha))]
	}
	return string(b)
}

func TestParseRandomPipelines(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for round := range 20 {
		var in strings.Builder
		var want [][]string
		for range 300 {
			n := r.IntN(6)
			args := make([]string, n)
			if r.IntN(4) == 0 && n > 0 {
				for i := range args {
					args[i] = randomInlineWord(r)
				}
				in.WriteString(strings.Join(args, " "))
				if r.IntN(2) == 0 {
					in.WriteString("\r\n")
				} else {
					in.WriteString("\n")
				}
			} else {
				for i := range args {
					args[i] = randomArg(r)
				}
				in.WriteString(mb(args...))
			}
			want = append(want, args)
		}
		s := in.String()
		var chunks [][]byte
		for off := 0; off < len(s); {
			k := min(len(s)-off, 1+r.IntN(3000))
			chunks = append(chunks, []byte(s[off:off+k]))
			off += k
		}
		got := feed(t, NewParser(Limits{}), chunks)
		if got.err != "" || got.pending != 0 || len(got.cmds) != len(want) {
			t.Fatalf("round %d: err=%q pending=%d cmds=%d/%d", round, got.err, got.pending, len(got.cmds), len(want))
		}
		for i := range want {
			if len(want[i]) == 0 && len(got.cmds[i]) == 0 {
				continue
			}
			if !reflect.DeepEqual(got.cmds[i], want[i]) {
				t.Fatalf("round %d cmd %d: got %q want %q", round, i, got.cmds[i], want[i])
			}
		}
	}
}

func TestParseAllocs(t *testing.T) {
	pipeline := []byte(strings.Repeat(mb("SET", "key:000000000001", strings.Repeat("v", 256)), 16) +
		strings.Repeat(mb("GET", "key:000000000001"), 16))
	inline := []byte(strings.Repeat("SET key:000000000001 value\r\n", 16))
	escaped := []byte(strings.Repeat("SET \"key\\x41\" 'v a l'\r\n", 16))
	for _, tc := range []struct {
		name string
		in   []byte
		cmds int
	}{{"multibulk", pipeline, 32}, {"inline", inline, 16}, {"inline escapes", escaped, 16}} {
		var p Parser
		run := func() {
			cmds := 0
			for off := 0; off < len(tc.in); {
				args, n, err := p.Parse(tc.in[off:])
				if err != nil || n == 0 || len(args) != 3 && len(args) != 2 {
					panic(fmt.Sprintf("%s: %q %d %v", tc.name, args, n, err))
				}
				off += n
				cmds++
			}
			if cmds != tc.cmds {
				panic("wrong count")
			}
		}
		run()
		if a := testing.AllocsPerRun(50, run); a != 0 {
			t.Errorf("%s: %v allocs per pipeline", tc.name, a)
		}
	}
	// Incremental multibulk parsing does not allocate either.
	var p Parser
	cmd := []byte(mb("SET", "k", strings.Repeat("v", 100)))
	step := func() {
		for i := 1; i < len(cmd); i += 7 {
			if _, n, _ := p.Parse(cmd[:i]); n != 0 {
				panic("complete early")
			}
		}
		if _, n, _ := p.Parse(cmd); n != len(cmd) {
			panic("incomplete")
		}
	}
	step()
	if a := testing.AllocsPerRun(50, step); a != 0 {
		t.Errorf("incremental: %v allocs", a)
	}
}

func TestParseLL(t *testing.T) {
	cases := []struct {
		in string
		v  int64
		ok bool
	}{
		{"0", 0, true}, {"1", 1, true}, {"-1", -1, true}, {"10", 10, true},
		{"9223372036854775807", 1<<63 - 1, true},
		{"-9223372036854775808", -1 << 63, true},
		{"9223372036854775808", 0, false},
		{"-9223372036854775809", 0, false},
		{"18446744073709551616", 0, false},
		{"99999999999999999999", 0, false},
		{"-99999999999999999999", 0, false},
		{"", 0, false}, {"-", 0, false}, {"-0", 0, false}, {"00", 0, false}, {"01", 0, false},
		{"+1", 0, false}, {" 1", 0, false}, {"1 ", 0, false}, {"1a", 0, false}, {"a", 0, false},
		{"000000000000000000001", 0, false},
	}
	for _, c := range cases {
		v, ok := parseLL([]byte(c.in))
		if v != c.v || ok != c.ok {
			t.Errorf("parseLL(%q) = %d, %v; want %d, %v", c.in, v, ok, c.v, c.ok)
		}
		// The one-pass header reader may only accept what parseLL accepts.
		line := []byte("$" + c.in + "\r\n")
		if qv, cr, qok := quickHeader(line, 0, '$', DefaultMaxInline); qok && (!c.ok || qv != c.v || cr != len(line)-2) {
			t.Errorf("quickHeader(%q) = %d, %d, true; parseLL says %d, %v", line, qv, cr, c.v, c.ok)
		}
	}
	for _, in := range []string{"$0\r\n", "$7\r\n", "$123456789012345678\r\n"} {
		if _, _, ok := quickHeader([]byte(in), 0, '$', DefaultMaxInline); !ok {
			t.Errorf("quickHeader(%q) not taken", in)
		}
	}
	for _, in := range []string{"$0\r", "$1234567890123456789\r\n", "$-1\r\n", "$\r\n", "$01\r\n", "$1 \r\n", "*3\r\n", "\x003\r\n"} {
		if _, _, ok := quickHeader([]byte(in), 0, '$', DefaultMaxInline); ok {
			t.Errorf("quickHeader(%q) taken", in)
		}
	}
	if _, _, ok := quickHeader([]byte("$12345\r\n"), 0, '$', 5); ok {
		t.Error("quickHeader ignored the line limit")
	}
}

func TestExpectedDollarError(t *testing.T) {
	for c := 0; c < 256; c++ {
		msg := ExpectedDollarError(byte(c)).Error()
		want := "ERR Protocol error: expected '$', got '" + string([]byte{byte(c)}) + "'"
		if c == '\r' || c == '\n' {
			want = "ERR Protocol error: expected '$', got ' '"
		}
		if msg != want {
			t.Fatalf("byte %d: %q", c, msg)
		}
	}
}

func TestLimitsDefaults(t *testing.T) {
	var p Parser
	want := Limits{MaxBulkLen: 512 << 20, MaxMultibulk: 1<<31 - 1, MaxInline: 65536}
	if got := p.Limits(); got != want {
		t.Fatalf("zero Parser limits %+v", got)
	}
	if got := NewParser(Limits{MaxBulkLen: 7}).Limits(); got.MaxBulkLen != 7 || got.MaxInline != 65536 {
		t.Fatalf("limits %+v", got)
	}
}
