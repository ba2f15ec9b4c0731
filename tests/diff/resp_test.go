package diff

import (
	"errors"
	"strings"
	"testing"
)

var validReplies = []string{
	"+OK\r\n",
	"+\r\n",
	"-ERR syntax error\r\n",
	":0\r\n",
	":-9223372036854775808\r\n",
	":9223372036854775807\r\n",
	"$0\r\n\r\n",
	"$-1\r\n",
	"$5\r\nhello\r\n",
	"$4\r\na\r\nb\r\n",
	"$3\r\n\x00\xff\n\r\n",
	"*-1\r\n",
	"*0\r\n",
	"*2\r\n$1\r\na\r\n:1\r\n",
	"*2\r\n*1\r\n+x\r\n*0\r\n",
	"_\r\n",
	",1.5\r\n",
	",inf\r\n",
	",-nan\r\n",
	"#t\r\n",
	"#f\r\n",
	"(3492890328409238509324850943850943825024385\r\n",
	"(-1\r\n",
	"!21\r\nSYNTAX invalid syntax\r\n",
	"=15\r\ntxt:Some string\r\n",
	"%1\r\n+key\r\n:1\r\n",
	"~2\r\n+a\r\n+b\r\n",
	">3\r\n$7\r\nmessage\r\n$1\r\nc\r\n$1\r\nm\r\n",
	"|1\r\n+ttl\r\n:3600\r\n$1\r\nv\r\n",
}

func TestFrameValid(t *testing.T) {
	for _, r := range validReplies {
		n, err := Frame([]byte(r + "+NEXT\r\n"))
		if err != nil || n != len(r) {
			t.Errorf("Frame(%q) = %d, %v; want %d", r, n, err, len(r))
			continue
		}
		v, m, err := Parse([]byte(r))
		if err != nil || m != len(r) {
			t.Errorf("Parse(%q) = %d, %v", r, m, err)
			continue
		}
		if got := string(v.Encode(nil)); got != r {
			t.Errorf("Encode(Parse(%q)) = %q", r, got)
		}
		// Every proper prefix is incomplete, never an error.
		for i := 0; i < len(r); i++ {
			if _, err := Frame([]byte(r[:i])); !errors.Is(err, errIncomplete) {
				t.Errorf("Frame(%q) = %v; want incomplete", r[:i], err)
			}
		}
	}
}

func TestFrameInvalid(t *testing.T) {
	cases := []string{
		"x\r\n",
		"+a\rb\r\n",
		"+a\n",
		":01\r\n",
		":-0\r\n",
		":+1\r\n",
		":\r\n",
		":9223372036854775808\r\n",
		":1.5\r\n",
		"(1a\r\n",
		"$01\r\na\r\n",
		"$+1\r\na\r\n",
		"$-2\r\n",
		"$\r\n",
		"$1\r\nab\r\n",
		"$1\r\naXY",
		"$99999999999\r\n",
		"$2000000000\r\n",
		"!-1\r\n",
		"=3\r\nabc\r\n",
		"=4\r\ntxt;\r\n",
		"*01\r\n+a\r\n",
		"*-2\r\n",
		"%-1\r\n",
		"*1\r\nx\r\n",
		"#x\r\n",
		"#\r\n",
		"_x\r\n",
		",\r\n",
		"|1\r\n+a\r\n+b\r\n|0\r\n+c\r\n",
		strings.Repeat("*1\r\n", maxDepth+2) + "+x\r\n",
	}
	for _, c := range cases {
		if _, err := Frame([]byte(c)); !errors.Is(err, errBadReply) {
			t.Errorf("Frame(%q) = %v; want a bad reply", c, err)
		}
	}
}

func TestParseTree(t *testing.T) {
	v, _, err := Parse([]byte("|1\r\n+k\r\n:1\r\n%2\r\n+a\r\n*-1\r\n+b\r\n$-1\r\n"))
	if err != nil {
		t.Fatal(err)
	}
	if v.Type != '%' || len(v.Elems) != 4 || v.Attr == nil || v.Attr.Type != '|' || len(v.Attr.Elems) != 2 {
		t.Fatalf("tree: %+v", v)
	}
	if !v.Elems[1].Null || v.Elems[1].Type != '*' || !v.Elems[3].Null || string(v.Elems[2].Str) != "b" {
		t.Fatalf("elements: %+v", v.Elems)
	}
}

func TestFrameDoesNotAllocate(t *testing.T) {
	b := []byte("*3\r\n$3\r\nfoo\r\n:42\r\n%1\r\n+k\r\n*2\r\n,1.5\r\n#t\r\n")
	if n := testing.AllocsPerRun(100, func() {
		if _, err := Frame(b); err != nil {
			t.Fatal(err)
		}
	}); n != 0 {
		t.Fatalf("Frame allocates %v times", n)
	}
}

func BenchmarkFrame(b *testing.B) {
	buf := []byte("*4\r\n$3\r\nfoo\r\n:42\r\n$11\r\nhello world\r\n*2\r\n+a\r\n+b\r\n")
	b.ReportAllocs()
	b.SetBytes(int64(len(buf)))
	for b.Loop() {
		if _, err := Frame(buf); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParseEncode(b *testing.B) {
	buf := []byte("*4\r\n$3\r\nfoo\r\n:42\r\n$11\r\nhello world\r\n*2\r\n+a\r\n+b\r\n")
	dst := make([]byte, 0, 256)
	b.ReportAllocs()
	b.SetBytes(int64(len(buf)))
	for b.Loop() {
		v, _, err := Parse(buf)
		if err != nil {
			b.Fatal(err)
		}
		dst = v.Encode(dst[:0])
	}
}
