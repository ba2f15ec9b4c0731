package zset

import (
	"testing"
)

// FuzzOps drives a Set and the sorted-slice model from the fuzz input:
// the first byte picks the mode (mixed scores or lex), every later byte is
// a choice of the driver (operation, member, score, bounds).
func FuzzOps(f *testing.F) {
	f.Add([]byte{0, 0, 1, 2, 0, 3, 4, 16, 9, 1, 10, 3, 5, 1})
	f.Add([]byte{1, 0, 5, 0, 0, 6, 0, 18, 2, 3, 4, 5, 22, 1, 2})
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) == 0 || len(data) > 1024 {
			return
		}
		src := &byteSource{b: data[1:]}
		d := &driver{tb: t, src: src, s: New(), lex: data[0]&1 == 1, nmem: 40, bigOK: data[0]&2 == 2, checks: 7}
		for !src.done() {
			d.step()
		}
		if err := d.s.checkInvariants(); err != nil {
			t.Fatal(err)
		}
	})
}

// FuzzParseLexBound checks that every accepted lex bound is the item it
// was parsed from and that anything else is refused.
func FuzzParseLexBound(f *testing.F) {
	for _, s := range []string{"-", "+", "[a", "(a", "[", "(", "", "a", "--", "+x"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		bound, ok := ParseLexBound(b)
		if !ok {
			if len(b) == 1 && (b[0] == '-' || b[0] == '+') || len(b) > 0 && (b[0] == '[' || b[0] == '(') {
				t.Fatalf("refused %q", b)
			}
			return
		}
		var back string
		switch bound.Kind {
		case MinusInf:
			back = "-"
		case PlusInf:
			back = "+"
		case Inclusive:
			back = "[" + string(bound.Value)
		case Exclusive:
			back = "(" + string(bound.Value)
		}
		if back != string(b) {
			t.Fatalf("%q parsed as %+v", b, bound)
		}
		if len(bound.Value) > 0 && &bound.Value[0] != &b[1] {
			t.Fatalf("value of %q does not alias the input", b)
		}
	})
}
