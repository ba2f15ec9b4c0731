package resp

import (
	"reflect"
	"testing"
)

func TestSplitArgs(t *testing.T) {
	cases := []struct {
		in   string
		want []string // nil with err
		err  bool
	}{
		{"", []string{}, false},
		{"   \t\r\n\v\f", []string{}, false},
		{"a", []string{"a"}, false},
		{"set key value", []string{"set", "key", "value"}, false},
		{"  lead and trail  ", []string{"lead", "and", "trail"}, false},
		{"a\tb\rc\nd", []string{"a", "b", "c", "d"}, false},
		{"a\vb\fc", []string{"a\vb\fc"}, false},
		{"\va \fb", []string{"a", "b"}, false},
		{`""`, []string{""}, false},
		{`'' ""`, []string{"", ""}, false},
		{`"hello world"`, []string{"hello world"}, false},
		{`"\n\r\t\b\a\\\"\q"`, []string{"\n\r\t\b\a\\\"q"}, false},
		{`"\x41\x4a\x4A\x00\xff"`, []string{"AJJ\x00\xff"}, false},
		{`"\x4"`, []string{"x4"}, false},
		{`"\x4g"`, []string{"x4g"}, false},
		{`"\x"`, []string{"x"}, false},
		{`'a\'b'`, []string{"a'b"}, false},
		{`'a\nb\\c'`, []string{`a\nb\\c`}, false},
		{`'a\\'`, nil, true},
		{`'"'`, []string{`"`}, false},
		{`"'"`, []string{`'`}, false},
		{`ab"cd ef"`, []string{"abcd ef"}, false},
		{`ab'cd ef'`, []string{"abcd ef"}, false},
		{`a"b"` + "\v", []string{"ab"}, false},
		{`"a" b`, []string{"a", "b"}, false},
		{`"a"` + "\tb", []string{"a", "b"}, false},
		{`"a"b`, nil, true},
		{`'a'b`, nil, true},
		{`"abc`, nil, true},
		{`'abc`, nil, true},
		{`"abc\"`, nil, true},
		{`"abc\`, nil, true},
		{`'abc\'`, nil, true},
		{"a\x00b c", []string{"a"}, false},
		{"\"a\x00b\"", nil, true},
		{"a b\x00\"", []string{"a", "b"}, false},
		{"\xff\xfe x", []string{"\xff\xfe", "x"}, false},
		{"save 900 1", []string{"save", "900", "1"}, false},
		{`requirepass "p a\"ss"`, []string{"requirepass", `p a"ss`}, false},
	}
	for _, c := range cases {
		got, err := SplitArgs([]byte(c.in))
		if c.err {
			if err != ErrSplitUnbalanced || got != nil {
				t.Errorf("SplitArgs(%q) = %q, %v; want unbalanced", c.in, got, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("SplitArgs(%q): %v", c.in, err)
			continue
		}
		strs := make([]string, len(got))
		for i, w := range got {
			strs[i] = string(w)
			if cap(w) != len(w) {
				t.Errorf("SplitArgs(%q): word %d cap %d > len", c.in, i, cap(w))
			}
		}
		if !reflect.DeepEqual(strs, c.want) {
			t.Errorf("SplitArgs(%q) = %q, want %q", c.in, strs, c.want)
		}
	}
}

// TestSplitArgsInlineAgrees checks that the parser's inline path and
// SplitArgs split alike.
func TestSplitArgsInlineAgrees(t *testing.T) {
	for _, line := range []string{`a "b c" 'd'`, `x "\x41"`, `  `, `"q`} {
		words, serr := SplitArgs([]byte(line))
		var p Parser
		args, _, perr := p.Parse([]byte(line + "\r\n"))
		if (serr != nil) != (perr != nil) {
			t.Fatalf("%q: SplitArgs err %v, Parse err %v", line, serr, perr)
		}
		if serr == nil && !reflect.DeepEqual(copyArgs(words), copyArgs(args)) {
			t.Fatalf("%q: %q vs %q", line, words, args)
		}
	}
}
