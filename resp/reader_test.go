package resp

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"math"
	"strings"
	"testing"
)

func read1(s string) (Value, error) {
	return ReadReply(bufio.NewReaderSize(strings.NewReader(s), 16))
}

func TestReadReply(t *testing.T) {
	big := strings.Repeat("z", 100000)
	cases := []struct {
		in    string
		check func(v Value) bool
	}{
		{"+OK\r\n", func(v Value) bool { return v.Type == TypeSimple && string(v.Str) == "OK" }},
		{"-ERR bad\r\n", func(v Value) bool { return v.IsError() && string(v.Str) == "ERR bad" }},
		{":-12\r\n", func(v Value) bool { return v.Type == TypeInt && v.Int == -12 }},
		{"$5\r\na\r\nbc\r\n", func(v Value) bool { return v.Type == TypeBulk && string(v.Str) == "a\r\nbc" }},
		{"$0\r\n\r\n", func(v Value) bool { return v.Type == TypeBulk && !v.Null && len(v.Str) == 0 }},
		{"$-1\r\n", func(v Value) bool { return v.Type == TypeBulk && v.Null }},
		{"*-1\r\n", func(v Value) bool { return v.Type == TypeArray && v.Null }},
		{"_\r\n", func(v Value) bool { return v.Type == TypeNull && v.Null }},
		{",1.5\r\n", func(v Value) bool { return v.Type == TypeDouble && v.Float == 1.5 && string(v.Str) == "1.5" }},
		{",-inf\r\n", func(v Value) bool { return math.IsInf(v.Float, -1) }},
		{",nan\r\n", func(v Value) bool { return math.IsNaN(v.Float) }},
		{",1e999\r\n", func(v Value) bool { return math.IsInf(v.Float, 1) }},
		{"#t\r\n", func(v Value) bool { return v.Type == TypeBool && v.Int == 1 }},
		{"#f\r\n", func(v Value) bool { return v.Type == TypeBool && v.Int == 0 }},
		{"!9\r\nERR inner\r\n", func(v Value) bool { return v.IsError() && string(v.Str) == "ERR inner" }},
		{"=8\r\ntxt:abcd\r\n", func(v Value) bool { return v.Format == "txt" && string(v.Str) == "abcd" }},
		{"(-1234567890123456789012345\r\n", func(v Value) bool { return string(v.Str) == "-1234567890123456789012345" }},
		{"*2\r\n$1\r\na\r\n:1\r\n", func(v Value) bool {
			return v.Type == TypeArray && len(v.Elems) == 2 && string(v.Elems[0].Str) == "a" && v.Elems[1].Int == 1 &&
				string(v.Elems[0].Raw) == "$1\r\na\r\n" && string(v.Elems[1].Raw) == ":1\r\n"
		}},
		{"*0\r\n", func(v Value) bool { return v.Type == TypeArray && !v.Null && len(v.Elems) == 0 }},
		{"%1\r\n+k\r\n*1\r\n_\r\n", func(v Value) bool {
			return v.Type == TypeMap && len(v.Elems) == 2 && v.Elems[1].Elems[0].Null
		}},
		{"~2\r\n:1\r\n:2\r\n", func(v Value) bool { return v.Type == TypeSet && len(v.Elems) == 2 }},
		{">3\r\n+message\r\n+ch\r\n$1\r\nx\r\n", func(v Value) bool { return v.Type == TypePush && len(v.Elems) == 3 }},
		{"|1\r\n+ttl\r\n:3\r\n$2\r\nhi\r\n", func(v Value) bool {
			return v.Type == TypeBulk && string(v.Str) == "hi" && len(v.Attrs) == 2 && v.Attrs[1].Int == 3
		}},
		{"$100000\r\n" + big + "\r\n", func(v Value) bool { return string(v.Str) == big }},
		{"+" + big + "\r\n", func(v Value) bool { return string(v.Str) == big }},
	}
	for _, c := range cases {
		v, err := read1(c.in + "+next\r\n")
		if err != nil {
			t.Errorf("%.40q: %v", c.in, err)
			continue
		}
		if string(v.Raw) != c.in {
			t.Errorf("%.40q: raw %.40q", c.in, v.Raw)
		}
		if !c.check(v) {
			t.Errorf("%.40q: unexpected %+v", c.in, v)
		}
	}
}

func TestReadReplySequenceAndEOF(t *testing.T) {
	r := bufio.NewReader(strings.NewReader("+a\r\n:1\r\n"))
	for _, want := range []string{"+a\r\n", ":1\r\n"} {
		v, err := ReadReply(r)
		if err != nil || string(v.Raw) != want {
			t.Fatalf("got %q, %v", v.Raw, err)
		}
	}
	if _, err := ReadReply(r); err != io.EOF {
		t.Fatalf("at end: %v, want io.EOF", err)
	}
	for _, in := range []string{"+a", "+a\r", "$3\r\nab", "*2\r\n:1\r\n", "|1\r\n+a\r\n+b\r\n", "$3\r\nabc\r"} {
		if _, err := read1(in); err != io.ErrUnexpectedEOF {
			t.Errorf("%q: %v, want io.ErrUnexpectedEOF", in, err)
		}
	}
}

func TestReadReplyMalformed(t *testing.T) {
	for _, in := range []string{
		"\r\n", "?x\r\n", "+a\n", ":x\r\n", ":\r\n", "$x\r\n", "$-2\r\n", "!-1\r\n", "%-1\r\n", "~-1\r\n",
		"$3\r\nabcde", "_x\r\n", "#x\r\n", ",x\r\n", "(12a\r\n", "(\r\n", "=2\r\nab\r\n", "=4\r\ntxtx\r\n",
		"$?\r\n", "*?\r\n", "$2000000000\r\n", strings.Repeat("*1\r\n", 600) + ":1\r\n",
	} {
		_, err := read1(in)
		if !errors.Is(err, ErrMalformedReply) {
			t.Errorf("%.40q: %v, want ErrMalformedReply", in, err)
		} else if !strings.HasPrefix(err.Error(), "resp: ") {
			t.Errorf("%q: error %q lacks the package prefix", in, err)
		}
	}
}

// TestEncodeReadRoundTrip reads back what the encoders write.
func TestEncodeReadRoundTrip(t *testing.T) {
	for _, resp3 := range []bool{false, true} {
		var b []byte
		b = AppendMapLen(b, 2, resp3)
		b = AppendBulkString(b, "score")
		b = AppendDouble(b, 0.25, resp3)
		b = AppendBulkString(b, "flags")
		b = AppendSetLen(b, 2, resp3)
		b = AppendBool(b, true, resp3)
		b = AppendNull(b, resp3)
		v, err := ReadReply(bufio.NewReader(bytes.NewReader(b)))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(v.Raw, b) || len(v.Elems) != 4 {
			t.Fatalf("resp3=%v: %+v", resp3, v)
		}
		score := v.Elems[1]
		if resp3 && score.Float != 0.25 || !resp3 && string(score.Str) != "0.25" {
			t.Fatalf("resp3=%v: score %+v", resp3, score)
		}
		if !v.Elems[3].Elems[1].Null {
			t.Fatalf("resp3=%v: null lost", resp3)
		}
	}
}
