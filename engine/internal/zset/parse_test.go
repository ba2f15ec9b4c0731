package zset

import (
	"math"
	"testing"
)

func TestParseLexBound(t *testing.T) {
	for _, tc := range []struct {
		in   string
		ok   bool
		kind BoundKind
		val  string
	}{
		{"-", true, MinusInf, ""},
		{"+", true, PlusInf, ""},
		{"[a", true, Inclusive, "a"},
		{"(a", true, Exclusive, "a"},
		{"[", true, Inclusive, ""},
		{"(", true, Exclusive, ""},
		{"[+", true, Inclusive, "+"},
		{"(\x00\xff", true, Exclusive, "\x00\xff"},
		{"", false, 0, ""},
		{"a", false, 0, ""},
		{"--", false, 0, ""},
		{"+a", false, 0, ""},
		{"-inf", false, 0, ""},
		{"]a", false, 0, ""},
	} {
		b, ok := ParseLexBound([]byte(tc.in))
		if ok != tc.ok || ok && (b.Kind != tc.kind || string(b.Value) != tc.val) {
			t.Errorf("ParseLexBound(%q) = %+v %v, want kind %d %q %v", tc.in, b, ok, tc.kind, tc.val, tc.ok)
		}
	}
	if _, ok := ParseLexRange([]byte("[a"), []byte("x")); ok {
		t.Error("ParseLexRange accepted a bad max")
	}
}

// TestLexRangeEmpty follows Redis's zslIsInLexRange emptiness rule.
func TestLexRangeEmpty(t *testing.T) {
	for _, tc := range []struct {
		min, max string
		empty    bool
	}{
		{"-", "+", false},
		{"-", "-", true},
		{"+", "+", true},
		{"+", "-", true},
		{"[a", "[a", false},
		{"[a", "(a", true},
		{"(a", "[a", true},
		{"[b", "[a", true},
		{"[a", "+", false},
		{"-", "[a", false},
		{"+", "[a", true},
		{"[a", "-", true},
		{"[", "[", false},
	} {
		r, ok := ParseLexRange([]byte(tc.min), []byte(tc.max))
		if !ok || r.Empty() != tc.empty {
			t.Errorf("%s %s: Empty %v, want %v", tc.min, tc.max, r.Empty(), tc.empty)
		}
	}
}

func TestRangeEmpty(t *testing.T) {
	inf := math.Inf(1)
	for _, tc := range []struct {
		r     Range
		empty bool
	}{
		{Range{Min: 1, Max: 2}, false},
		{Range{Min: 2, Max: 1}, true},
		{Range{Min: 1, Max: 1}, false},
		{Range{Min: 1, Max: 1, MinEx: true}, true},
		{Range{Min: 1, Max: 1, MaxEx: true}, true},
		{Range{Min: -inf, Max: inf, MinEx: true, MaxEx: true}, false},
		{Range{Min: inf, Max: inf}, false},
		{Range{Min: inf, Max: inf, MinEx: true}, true},
	} {
		if tc.r.Empty() != tc.empty {
			t.Errorf("%+v: Empty %v", tc.r, !tc.empty)
		}
	}
}

// TestInfScores checks that ±inf scores order and range like Redis: an
// inclusive inf bound takes elements whose score is inf.
func TestInfScores(t *testing.T) {
	s := New()
	inf := math.Inf(1)
	s.Insert([]byte("lo"), -inf)
	s.Insert([]byte("mid"), 0)
	s.Insert([]byte("hi"), inf)
	for _, tc := range []struct {
		r    Range
		want int
	}{
		{Range{Min: -inf, Max: inf}, 3},
		{Range{Min: -inf, Max: inf, MinEx: true, MaxEx: true}, 1},
		{Range{Min: inf, Max: inf}, 1},
		{Range{Min: 0, Max: inf, MinEx: true}, 1},
	} {
		if got := s.Count(tc.r); got != tc.want {
			t.Errorf("Count(%+v) = %d, want %d", tc.r, got, tc.want)
		}
	}
}
