package diff

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"strings"
)

// MalformedCases returns n cases that each send one malformed byte stream
// (valid commands cut, with corrupted lengths or type bytes, with garbage
// inserted, inline commands with bad quoting, ...) and then half-close the
// connection, reading everything the server answers until it closes. Each
// stream is sent in one write and stays under 4 KB, so the server sees it
// whole in one read and its answer does not depend on how the bytes are
// split. The commands used are harmless whatever their corruption makes
// of them.
func MalformedCases(seed uint64, n int, checkable bool) []Case {
	rng := rand.New(rand.NewPCG(seed, 0x6d616c666f726d))
	cases := make([]Case, n)
	for i := range cases {
		raw := malformedStream(rng)
		cases[i] = Case{
			ID: fmt.Sprintf("malformed/%03d", i),
			Steps: []Step{
				{Kind: StepRaw, Raw: raw, Replies: 0},
				{Kind: StepShutdown, Replies: ReadToEOF},
			},
			Checkable: checkable,
		}
	}
	return cases
}

// malformedCommands are the commands streams are made of. Corrupted, a
// stream may be read as inline commands, each of its words a command
// name: no word may name a command whose reply varies between servers
// (ECHO's "hello" would run HELLO, which replies the client id).
var malformedCommands = [][]string{
	{"PING"}, {"ECHO", "howdy"}, {"SET", "{k}a", "v"}, {"GET", "{k}a"}, {"MGET", "{k}a", "{k}b"},
	{"INCR", "{k}n"}, {"APPEND", "{k}a", "xyz"}, {"DEL", "{k}a"}, {"EXISTS", "{k}a"}, {"STRLEN", "{k}a"},
	{"SET", "{k}b", "a\r\nb"}, {"PING", "x y"},
}

var malformedLengths = []string{
	"x", "-1", "-5", "0", "00", "01", "+3", " 3", "3 ", "", "abc", "1x", "99999999999",
	"2147483647", "2147483648", "536870912", "536870913", "1048577", "9223372036854775808", "-0",
}

var malformedInline = []string{
	"PING", "PING\n", "ECHO hello", `ECHO "a b"`, `ECHO 'a b'`, `ECHO "unterminated`, `ECHO 'unterminated`,
	`ECHO "a"b`, `ECHO "\x41\n"`, `ECHO "\xZZ"`, "   ", "", "GET {k}a", "SET {k}a \"x y\" EX 100",
	"unknowncmd a b", "ECHO", "\"\"", "''", `"PING"`, "ping", "EcHo x", "ECHO a\tb", `ECHO "a\\"b"`,
}

func malformedStream(rng *rand.Rand) []byte {
	var b []byte
	for i := rng.IntN(3); i > 0; i-- {
		b = encodeStrings(b, malformedCommands[rng.IntN(len(malformedCommands))])
	}
	switch rng.IntN(9) {
	case 0: // a command cut anywhere
		c := encodeStrings(nil, malformedCommands[rng.IntN(len(malformedCommands))])
		b = append(b, c[:1+rng.IntN(len(c)-1)]...)
	case 1: // a bad multibulk count
		c := encodeStrings(nil, malformedCommands[rng.IntN(len(malformedCommands))])
		b = append(b, '*')
		b = append(b, malformedLengths[rng.IntN(len(malformedLengths))]...)
		b = append(b, c[bytes.IndexByte(c, '\r'):]...)
	case 2: // a bad bulk length
		c := encodeStrings(nil, malformedCommands[rng.IntN(len(malformedCommands))])
		b = append(b, replaceNth(c, '$', rng, func(rest []byte) []byte {
			l := "$" + malformedLengths[rng.IntN(len(malformedLengths))]
			return append([]byte(l), rest[bytes.IndexByte(rest, '\r'):]...)
		})...)
	case 3: // a bulk without its '$'
		c := encodeStrings(nil, malformedCommands[rng.IntN(len(malformedCommands))])
		bad := []byte("+:x*-% ")[rng.IntN(7)]
		b = append(b, replaceNth(c, '$', rng, func(rest []byte) []byte {
			return append([]byte{bad}, rest...)
		})...)
	case 4: // a bulk payload not followed by CRLF
		b = append(b, "*2\r\n$4\r\nECHO\r\n$3\r\nabcXY"...)
		b = append(b, encodeStrings(nil, []string{"PING"})...)
	case 5: // garbage bytes inserted
		c := encodeStrings(nil, malformedCommands[rng.IntN(len(malformedCommands))])
		at := rng.IntN(len(c) + 1)
		junk := make([]byte, 1+rng.IntN(8))
		for i := range junk {
			junk[i] = byte(rng.IntN(256))
		}
		c = append(c[:at:at], append(junk, c[at:]...)...)
		b = append(b, c...)
	case 6: // inline commands
		for i := 1 + rng.IntN(3); i > 0; i-- {
			b = append(b, malformedInline[rng.IntN(len(malformedInline))]...)
			b = append(b, []string{"\r\n", "\n", "\r\n", ""}[rng.IntN(4)]...)
		}
	case 7: // a bulk longer than what follows
		b = append(b, "*2\r\n$4\r\nECHO\r\n$"...)
		b = append(b, fmt.Sprint(10+rng.IntN(5000))...)
		b = append(b, "\r\nshort"...)
	case 8: // a long run of one byte
		b = append(b, strings.Repeat(string("*$\r\na0 "[rng.IntN(7)]), 1+rng.IntN(2000))...)
	}
	if rng.IntN(2) == 0 {
		b = encodeStrings(b, []string{"PING", "after"})
	}
	if len(b) > 4096 {
		b = b[:4096]
	}
	if len(b) == 0 {
		b = append(b, '\n')
	}
	return b
}

func encodeStrings(dst []byte, args []string) []byte {
	bs := make([][]byte, len(args))
	for i, a := range args {
		bs[i] = []byte(a)
	}
	return encodeCommand(dst, bs)
}

// replaceNth replaces one randomly chosen occurrence of c in b, and what
// follows it, by f of what follows it.
func replaceNth(b []byte, c byte, rng *rand.Rand, f func(rest []byte) []byte) []byte {
	n := bytes.Count(b, []byte{c})
	if n == 0 {
		return b
	}
	k := rng.IntN(n)
	at := -1
	for i := 0; i <= k; i++ {
		at += 1 + bytes.IndexByte(b[at+1:], c)
	}
	return append(b[:at:at], f(b[at+1:])...)
}
