package resp

import (
	"bufio"
	"bytes"
	"fmt"
	"reflect"
	"strings"
	"testing"
)

var parseSeeds = []string{
	"*1\r\n$4\r\nPING\r\n",
	"*3\r\n$3\r\nSET\r\n$16\r\nkey:000000000001\r\n$5\r\nvalue\r\n*2\r\n$3\r\nGET\r\n$1\r\nk\r\n",
	"PING\r\nSET a \"b\\x41\" 'c\\'d'\n\r\n",
	"*0\r\n*-1\r\n*1\rX$1\rXaXY",
	"*1\r\n$-1\r\n", "*1\r\n\r\n", "*x\r\n", "*1\r\n$4\x00\r\n", "ECHO \"a\"b\r\n",
	"*2\r\n$3\r\nGET\r\n$3\r\nkey\r\n*1\r\n$4\r\nPI", "*11\r\n", "*1\r\n$20000\r\n",
}

// chunksOf splits data at the sizes the fuzzer chose.
func chunksOf(data, sizes []byte) [][]byte {
	var out [][]byte
	for i := 0; len(data) > 0; i++ {
		k := len(data)
		if i < len(sizes) {
			k = min(k, 1+int(sizes[i]))
		}
		out = append(out, data[:k])
		data = data[k:]
	}
	return out
}

func fuzzLimits(lim byte) Limits {
	if lim == 0 {
		return Limits{}
	}
	return Limits{MaxInline: int(lim), MaxBulkLen: 4 * int64(lim), MaxMultibulk: int64(lim)}
}

// FuzzParse checks that the parser never panics, never claims more bytes
// than it was given, and reaches the same commands and error whether the
// input arrives whole or in the pieces the fuzzer chose.
func FuzzParse(f *testing.F) {
	for _, s := range parseSeeds {
		f.Add([]byte(s), []byte{0, 1, 2, 3, 5, 8, 13}, false, byte(0))
		f.Add([]byte(s), []byte{}, true, byte(12))
	}
	f.Fuzz(func(t *testing.T, data, sizes []byte, auth bool, lim byte) {
		// Keep each run fast: feed copies the buffer for every chunk.
		if len(data) > 1<<18 || len(sizes) > 64 {
			t.Skip()
		}
		run := func(chunks [][]byte) outcome {
			p := NewParser(fuzzLimits(lim))
			p.SetAuthRequired(auth)
			return feed(t, p, chunks)
		}
		want := run([][]byte{data})
		got := run(chunksOf(data, sizes))
		if !sameOutcome(got, want) {
			t.Fatalf("split input differs:\n got %v\nwant %v", got, want)
		}
		if want.err == "" && want.pending > 0 {
			// What is left is the start of a command: it parses to nothing.
			var p Parser
			p.SetLimits(fuzzLimits(lim))
			p.SetAuthRequired(auth)
			if _, n, err := p.Parse(data[len(data)-want.pending:]); n != 0 || err != nil {
				t.Fatalf("pending tail parsed: n=%d err=%v", n, err)
			}
		}
	})
}

// quoteArg renders w so that SplitArgs reads it back as w.
func quoteArg(w []byte) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, c := range w {
		fmt.Fprintf(&b, "\\x%02x", c)
	}
	b.WriteByte('"')
	return b.String()
}

// FuzzSplitArgs checks SplitArgs never panics, agrees with the inline
// parser, and reads back words it quoted itself.
func FuzzSplitArgs(f *testing.F) {
	for _, s := range []string{"", "a b", `"a\x41\n" 'b\'c'`, `"a"b`, "x\vy \fz", `a"b c"`, "\"\\", "a\x00b"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		words, err := SplitArgs(line)
		// The parser reads a line as inline when it has no LF or NUL and
		// does not start with '*'.
		inline := len(line) == 0 || line[0] != '*'
		if inline && bytes.IndexByte(line, '\n') < 0 && bytes.IndexByte(line, 0) < 0 && len(line) < DefaultMaxInline {
			var p Parser
			args, n, perr := p.Parse(append(append([]byte{}, line...), '\n'))
			if (err != nil) != (perr != nil) {
				t.Fatalf("SplitArgs err %v, Parse err %v", err, perr)
			}
			if err == nil {
				if n != len(line)+1 {
					t.Fatalf("Parse consumed %d of %d", n, len(line)+1)
				}
				if !reflect.DeepEqual(copyArgs(words), copyArgs(args)) {
					t.Fatalf("SplitArgs %q, Parse %q", words, args)
				}
			}
		}
		if err != nil {
			return
		}
		quoted := make([]string, len(words))
		for i, w := range words {
			quoted[i] = quoteArg(w)
		}
		back, err := SplitArgs([]byte(strings.Join(quoted, " ")))
		if err != nil || !reflect.DeepEqual(copyArgs(back), copyArgs(words)) {
			t.Fatalf("round trip: %q -> %q (%v)", words, back, err)
		}
	})
}

// FuzzReadReply checks the reply reader never panics and that the raw bytes
// it reports are the prefix it consumed and read back the same.
func FuzzReadReply(f *testing.F) {
	for _, s := range []string{"+OK\r\n", "*2\r\n$1\r\na\r\n%1\r\n:1\r\n_\r\n", "|1\r\n+a\r\n+b\r\n,1.5\r\n",
		"=8\r\ntxt:abcd\r\n", "$3\r\nab", ">1\r\n#t\r\n", "~1\r\n(123\r\n", "!3\r\nERR\r\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		v, err := ReadReply(bufio.NewReaderSize(bytes.NewReader(data), 16))
		if err != nil {
			return
		}
		if !bytes.HasPrefix(data, v.Raw) {
			t.Fatalf("raw %q is not a prefix of the input", v.Raw)
		}
		again, err := ReadReply(bufio.NewReader(bytes.NewReader(v.Raw)))
		if err != nil || !bytes.Equal(again.Raw, v.Raw) || again.Type != v.Type {
			t.Fatalf("re-read %q: %+v %v", v.Raw, again, err)
		}
	})
}
